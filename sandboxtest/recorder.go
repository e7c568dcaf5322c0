package sandboxtest

import "github.com/vpay88/vpay88-sandbox/inproc"

// Delivery is one callback request the Recorder received.
type Delivery = inproc.Delivery

// Recorder is the sandbox's callback receiver (see inproc.Recorder). It answers like
// a merchant built on client.CallbackHandler: 200 "success" for a verified callback,
// 400 for a bad token or a malformed body (so the sandbox retries those, as the real
// gateway would); FailNext makes it refuse a few.
type Recorder = inproc.Recorder

// ErrTimeout is returned by Recorder.Wait when no verified callback came in time.
var ErrTimeout = inproc.ErrTimeout
