package sandboxtest

import (
	"net/http"
	"time"

	"github.com/vpay88/vpay88-sandbox/client"
	"github.com/vpay88/vpay88-sandbox/internal/inproc"
)

// ErrTimeout is returned by Recorder.Wait and Recorder.Next when what they wait for did
// not come in time.
var ErrTimeout = inproc.ErrTimeout

// Recorder is the merchant's side of a test: the callback receiver whose URL is the
// Sandbox merchant's callback_url. It records every request and answers like a
// merchant built on client.CallbackHandler: 200 "success" for a callback whose token
// verifies with the merchant's secret key, 400 for a bad token or a malformed body (so
// the sandbox retries those, as the real gateway would). FailNext makes it refuse a
// few, to exercise the retries.
//
// It is a type of this package, not the one the sandbox's own tests use, so that its
// methods are in this package's documentation and nothing else is promised.
type Recorder struct {
	r *inproc.Recorder
}

// Delivery is one request the Recorder received.
type Delivery struct {
	// N is the 1-based arrival number at this Recorder (Reset does not restart it).
	N int
	// At is when the request arrived, by the sandbox's clock.
	At time.Time
	// Header is the request's header; ContentType is its Content-Type.
	Header      http.Header
	ContentType string
	Body        []byte
	// Callback is the decoded body; nil when it was not a callback at all.
	Callback *client.Callback
	// Err is nil for a callback whose token verified, else client.ErrBadToken or an
	// error wrapping client.ErrBadCallback.
	Err error
	// Answered is the HTTP status the Recorder answered; 0 while the answer is not
	// written yet.
	Answered int
}

// Verified reports whether the delivery was a callback with a good token.
func (d Delivery) Verified() bool { return d.Err == nil && d.Callback != nil }

func deliveries(in []inproc.Delivery) []Delivery {
	out := make([]Delivery, len(in))
	for i, d := range in {
		out[i] = Delivery(d)
	}
	return out
}

// URL is the receiver's address, the merchant's callback_url.
func (r *Recorder) URL() string { return r.r.URL() }

// FailNext makes the next n requests answer 503, whatever they carry, to exercise the
// sandbox's retries. They are recorded like the others.
func (r *Recorder) FailNext(n int) { r.r.FailNext(n) }

// Deliveries returns every request received so far, oldest first.
func (r *Recorder) Deliveries() []Delivery { return deliveries(r.r.Deliveries()) }

// Count returns how many requests arrived since the start (or the last Reset).
func (r *Recorder) Count() int { return r.r.Count() }

// Callbacks returns the verified callbacks received for an order id, oldest first
// (more than one when the sandbox delivered it again).
func (r *Recorder) Callbacks(orderID string) []*client.Callback { return r.r.Callbacks(orderID) }

// Wait returns the first verified callback for orderID the Recorder acknowledged,
// waiting up to timeout for it; ErrTimeout if none came.
func (r *Recorder) Wait(orderID string, timeout time.Duration) (*client.Callback, error) {
	return r.r.Wait(orderID, timeout)
}

// Next returns the next n requests after those Next returned before, waiting up to
// timeout for them; ErrTimeout, with those that came, if they did not.
func (r *Recorder) Next(n int, timeout time.Duration) ([]Delivery, error) {
	d, err := r.r.Next(n, timeout)
	return deliveries(d), err
}

// Reset forgets the requests received so far.
func (r *Recorder) Reset() { r.r.Reset() }

// Close stops the receiver, waiting for the requests in flight. The Sandbox closes its
// Recorder itself; it is safe to call more than once.
func (r *Recorder) Close() { r.r.Close() }
