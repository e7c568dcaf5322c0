package inproc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/vpay88/vpay88-sandbox/client"
	"github.com/vpay88/vpay88-sandbox/clock"
)

// ErrTimeout is returned by the Recorder's waits when what they wait for did not come
// in time.
var ErrTimeout = errors.New("no callback in time")

// Delivery is one request the Recorder received.
type Delivery struct {
	// N is the 1-based arrival number at this Recorder (Reset does not restart it).
	N int
	// At is when the request arrived (by the Recorder's clock).
	At time.Time
	// Header is the request's header; ContentType is its Content-Type.
	Header      http.Header
	ContentType string
	Body        []byte
	// Callback is the decoded body; nil when it was not a callback at all.
	Callback *client.Callback
	// Err is nil for a callback whose token verified, else client.ErrBadToken or an
	// error wrapping client.ErrBadCallback. Without a secret, tokens are not checked.
	Err error
	// Answered is the HTTP status the Recorder answered; 0 while the answer is not
	// written yet, or when the connection was closed without one.
	Answered int
}

// Verified reports whether the delivery was a callback with a good token.
func (d Delivery) Verified() bool { return d.Err == nil && d.Callback != nil }

// Respond writes the answer to the n-th request (1-based); the request's body can be
// read again. release is closed when the
// Recorder closes: a handler that hangs on purpose waits for it (or for the request's
// context), so that Close does not wait on it.
type Respond func(n int, w http.ResponseWriter, r *http.Request, release <-chan struct{})

// RecorderOptions configures NewRecorder.
type RecorderOptions struct {
	// Addr is where to listen; empty means 127.0.0.1:0. A fixed address brings a
	// callback URL back to life (a receiver restart).
	Addr string
	// Secret returns the merchant's secret key, to verify tokens; nil checks none.
	Secret func() string
	// Respond chooses each answer; nil answers like a merchant built on
	// client.CallbackHandler: 200 "success" for a verified callback, 400 for a bad
	// token or a malformed body (so the sandbox retries those).
	Respond Respond
	// Clock stamps Delivery.At; nil means real time.
	Clock *clock.Clock
}

// Recorder is a merchant's callback endpoint on 127.0.0.1 that records every request.
type Recorder struct {
	o       RecorderOptions
	http    *HTTPServer
	release chan struct{}

	mu         sync.Mutex
	n          int
	deliveries []Delivery
	next       int           // index of the first delivery Next has not returned
	changed    chan struct{} // closed and replaced on every arrival and answer
	failNext   int
	closed     bool
}

// NewRecorder starts a Recorder; Close stops it.
func NewRecorder(o RecorderOptions) (*Recorder, error) {
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	r := &Recorder{o: o, changed: make(chan struct{}), release: make(chan struct{})}
	hs, err := Serve(o.Addr, http.HandlerFunc(r.serve))
	if err != nil {
		return nil, err
	}
	r.http = hs
	return r, nil
}

// URL is the receiver's address, the merchant's callback_url.
func (r *Recorder) URL() string { return r.http.URL }

// FailNext makes the next n requests answer 503, whatever they carry and whatever
// Respond would say, to exercise the sandbox's retries. They are recorded like the
// others.
func (r *Recorder) FailNext(n int) {
	r.mu.Lock()
	r.failNext = n
	r.mu.Unlock()
}

func (r *Recorder) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	d := Delivery{At: r.now(), Header: req.Header.Clone(), ContentType: req.Header.Get("Content-Type"), Body: body}
	switch {
	case err != nil:
		d.Err = err
	case r.o.Secret == nil:
		d.Callback, d.Err = client.VerifyCallback(body, "")
		if errors.Is(d.Err, client.ErrBadToken) {
			d.Err = nil
		}
	default:
		d.Callback, d.Err = client.VerifyCallback(body, r.o.Secret())
	}
	r.mu.Lock()
	r.n++
	d.N = r.n
	fail := r.failNext > 0
	if fail {
		r.failNext--
	}
	r.deliveries = append(r.deliveries, d)
	i := len(r.deliveries) - 1
	r.broadcastLocked()
	r.mu.Unlock()

	sw := &statusWriter{ResponseWriter: w}
	switch {
	case fail:
		sw.WriteHeader(http.StatusServiceUnavailable)
	case r.o.Respond != nil:
		req.Body = io.NopCloser(bytes.NewReader(body)) // the hook may read it again
		r.o.Respond(d.N, sw, req, r.release)
	case d.Verified():
		_, _ = io.WriteString(sw, "success")
	default:
		sw.WriteHeader(http.StatusBadRequest)
	}
	if sw.code == 0 && !sw.hijacked {
		sw.code = http.StatusOK // a handler that writes nothing answers 200
	}
	r.mu.Lock()
	// Reset may have dropped the entry meanwhile: only update the one still there.
	if i < len(r.deliveries) && r.deliveries[i].N == d.N {
		r.deliveries[i].Answered = sw.code
	}
	r.broadcastLocked()
	r.mu.Unlock()
}

func (r *Recorder) now() time.Time {
	if r.o.Clock != nil {
		return r.o.Clock.Now()
	}
	return time.Now()
}

func (r *Recorder) broadcastLocked() {
	close(r.changed)
	r.changed = make(chan struct{})
}

// statusWriter remembers the status a Respond hook wrote.
type statusWriter struct {
	http.ResponseWriter
	code     int
	hijacked bool
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (a hook may hijack it).
func (w *statusWriter) Unwrap() http.ResponseWriter {
	w.hijacked = true // the only reason a hook unwraps: Hijack, Flush, deadlines
	return w.ResponseWriter
}

// Deliveries returns every request received so far, oldest first.
func (r *Recorder) Deliveries() []Delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Delivery(nil), r.deliveries...)
}

// Count returns how many requests arrived since the start (or the last Reset).
func (r *Recorder) Count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.deliveries)
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
	var cb *client.Callback
	err := r.waitUntil(timeout, func() bool {
		for _, d := range r.deliveries {
			if d.Verified() && d.Answered/100 == 2 && d.Callback.OrderID == orderID {
				cb = d.Callback
				return true
			}
		}
		return false
	})
	if err != nil {
		return nil, fmt.Errorf("%w (order %s, %s)", ErrTimeout, orderID, timeout)
	}
	return cb, nil
}

// Next returns the next n requests after those Next returned before (as they were on
// arrival: Answered may still be 0), waiting up to timeout for them; ErrTimeout with
// how many came if they did not.
func (r *Recorder) Next(n int, timeout time.Duration) ([]Delivery, error) {
	var out []Delivery
	err := r.waitUntil(timeout, func() bool {
		if len(r.deliveries)-r.next < n {
			return false
		}
		out = append(out, r.deliveries[r.next:r.next+n]...)
		r.next += n
		return true
	})
	if err != nil {
		r.mu.Lock()
		got := len(r.deliveries) - r.next
		r.mu.Unlock()
		return nil, fmt.Errorf("%w: %d of %d requests within %s", ErrTimeout, got, n, timeout)
	}
	return out, nil
}

// waitUntil calls cond, under the Recorder's lock, on every change until it holds.
func (r *Recorder) waitUntil(timeout time.Duration, cond func() bool) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		if cond() {
			r.mu.Unlock()
			return nil
		}
		changed := r.changed
		r.mu.Unlock()
		select {
		case <-changed:
		case <-deadline.C:
			return ErrTimeout
		}
	}
}

// Reset forgets the requests received so far.
func (r *Recorder) Reset() {
	r.mu.Lock()
	r.deliveries, r.next = nil, 0
	r.mu.Unlock()
}

// Close releases the handlers that wait for it, stops the server (waiting for the
// requests in flight) and frees the address. It is safe to call more than once.
func (r *Recorder) Close() {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.closed = true
	r.mu.Unlock()
	close(r.release)
	r.http.Close()
}
