package sandboxtest

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/vpay88/vpay88-sandbox/client"
)

// Delivery is one callback request the Recorder received.
type Delivery struct {
	At          time.Time
	ContentType string
	Body        []byte
	// Callback is the decoded body; nil when it was not a callback at all.
	Callback *client.Callback
	// Err is nil for a callback whose token verified, else client.ErrBadToken or an
	// error wrapping client.ErrBadCallback.
	Err error
	// Answered is the HTTP status the Recorder answered.
	Answered int
}

// Verified reports whether the delivery was a callback with a good token.
func (d Delivery) Verified() bool { return d.Err == nil && d.Callback != nil }

// Recorder is an httptest callback receiver. It answers like a merchant built on
// client.CallbackHandler: 200 "success" for a verified callback, 400 for a bad token
// or a malformed body (so the sandbox retries those, as the real gateway would).
type Recorder struct {
	srv    *httptest.Server
	secret func() string

	mu         sync.Mutex
	deliveries []Delivery
	changed    chan struct{} // closed and replaced on every delivery
	failNext   int
}

func newRecorder(secret func() string) *Recorder {
	r := &Recorder{secret: secret, changed: make(chan struct{})}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	return r
}

// URL is the receiver's address, the merchant's callback_url.
func (r *Recorder) URL() string { return r.srv.URL }

// FailNext makes the next n deliveries answer 503, whatever they carry, to exercise
// the sandbox's retries. They are recorded like the others.
func (r *Recorder) FailNext(n int) {
	r.mu.Lock()
	r.failNext = n
	r.mu.Unlock()
}

func (r *Recorder) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	d := Delivery{At: time.Now(), ContentType: req.Header.Get("Content-Type"), Body: body}
	if err != nil {
		d.Err = err
	} else {
		d.Callback, d.Err = client.VerifyCallback(body, r.secret())
	}
	d.Answered = http.StatusOK
	if d.Err != nil {
		d.Answered = http.StatusBadRequest
	}
	r.mu.Lock()
	if r.failNext > 0 {
		r.failNext--
		d.Answered = http.StatusServiceUnavailable
	}
	r.deliveries = append(r.deliveries, d)
	close(r.changed)
	r.changed = make(chan struct{})
	r.mu.Unlock()
	if d.Answered == http.StatusOK {
		_, _ = io.WriteString(w, "success")
		return
	}
	w.WriteHeader(d.Answered)
}

// Deliveries returns every request received so far, oldest first.
func (r *Recorder) Deliveries() []Delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Delivery(nil), r.deliveries...)
}

// Callbacks returns the verified callbacks received for an order id, oldest first
// (more than one when the sandbox delivered it again).
func (r *Recorder) Callbacks(orderID string) []*client.Callback {
	var out []*client.Callback
	for _, d := range r.Deliveries() {
		if d.Verified() && d.Callback.OrderID == orderID {
			out = append(out, d.Callback)
		}
	}
	return out
}

// Wait returns the first verified callback for orderID the Recorder acknowledged,
// waiting up to timeout for it; ErrTimeout if none came.
func (r *Recorder) Wait(orderID string, timeout time.Duration) (*client.Callback, error) {
	ctx, cancel := waitCtx(timeout)
	defer cancel()
	for {
		r.mu.Lock()
		for _, d := range r.deliveries {
			if d.Verified() && d.Answered == http.StatusOK && d.Callback.OrderID == orderID {
				r.mu.Unlock()
				return d.Callback, nil
			}
		}
		changed := r.changed
		r.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, fmt.Errorf("%w (order %s, %s)", ErrTimeout, orderID, timeout)
		}
	}
}

// Reset forgets the deliveries received so far.
func (r *Recorder) Reset() {
	r.mu.Lock()
	r.deliveries = nil
	r.mu.Unlock()
}

func (r *Recorder) close() { r.srv.Close() }
