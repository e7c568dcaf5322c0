// Package logbuf hands log lines to the operating system in gathered writes. The
// sandbox logs one line per vendor request; written one by one, each line is a write(2)
// made by the request's own goroutine, about a tenth of a durable generate_orders' CPU
// at 16 connections (bench/profile -log). A Writer copies the line into a buffer and
// returns; one goroutine writes whatever has gathered since its last write. When the
// sandbox is idle a line still goes out at once, the moment it is written; under load
// one system call carries every line of the last few hundred microseconds.
//
// What a crash can lose is what the goroutine had not yet written, the lines of one
// write(2)'s duration: never state (the store is durable on its own) and never a line
// of a sandbox that stops normally, since Close writes everything first.
package logbuf

import (
	"io"
	"sync"
)

// maxBuffered bounds what waits for the writer goroutine. A reader that stops reading
// the sandbox's stderr (a full pipe) then blocks the loggers, as direct writes did,
// instead of growing the buffer without end.
const maxBuffered = 1 << 20

// Writer is an io.Writer that gathers writes for a background goroutine. Its Write
// never fails: like slog's handlers, the sandbox has nowhere to report a log it could
// not write.
type Writer struct {
	out  io.Writer
	kick chan struct{}
	done chan struct{}

	mu      sync.Mutex
	roomy   *sync.Cond // signalled when the goroutine takes the buffer
	buf     []byte
	closed  bool
	waiting int // writers blocked on a full buffer (tests read it)
}

// New starts the writer goroutine for out; Close stops it.
func New(out io.Writer) *Writer {
	w := &Writer{out: out, kick: make(chan struct{}, 1), done: make(chan struct{})}
	w.roomy = sync.NewCond(&w.mu)
	go w.loop()
	return w
}

// Write copies p for the writer goroutine. After Close it writes p directly.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	for len(w.buf) >= maxBuffered && !w.closed {
		w.waiting++
		w.roomy.Wait()
		w.waiting--
	}
	if w.closed {
		// Behind whatever the goroutine still has to write.
		w.mu.Unlock()
		<-w.done
		w.mu.Lock()
		defer w.mu.Unlock()
		return w.out.Write(p)
	}
	w.buf = append(w.buf, p...)
	// Under mu, so that Close cannot close kick in between.
	select {
	case w.kick <- struct{}{}:
	default: // a round is already due; it will take p too
	}
	w.mu.Unlock()
	return len(p), nil
}

// Close writes what is gathered, stops the goroutine, and makes later writes direct.
// It is safe to call more than once.
func (w *Writer) Close() error {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.kick)
	}
	w.mu.Unlock()
	<-w.done
	return nil
}

func (w *Writer) loop() {
	defer close(w.done)
	var spare []byte
	for range w.kick {
		spare = w.flush(spare)
	}
	// Closed: what the writers left is written before any direct write (they wait
	// for done).
	w.mu.Lock()
	defer w.mu.Unlock()
	w.out.Write(w.buf)
	w.buf = nil
	w.roomy.Broadcast()
}

// flush takes the buffer, gives the writers spare for the next lines, and writes it.
// It returns the written buffer, to be the next spare.
func (w *Writer) flush(spare []byte) []byte {
	w.mu.Lock()
	out := w.buf
	w.buf = spare[:0]
	w.roomy.Broadcast()
	w.mu.Unlock()
	if len(out) > 0 {
		w.out.Write(out)
	}
	if cap(out) > 2*maxBuffered {
		return nil // one huge line's buffer is not kept for ever
	}
	return out
}
