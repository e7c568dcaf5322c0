// Package events fans the sandbox's change notices out to the dashboard's event
// streams (server-sent events). A notice says only what changed ("journal", "order",
// "callback"); the page refetches, so a slow browser loses nothing by missing a
// notice and never slows the API.
package events

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Hub is the set of open streams. Its zero value is not usable: call New.
type Hub struct {
	mu     sync.Mutex
	subs   map[chan string]bool
	closed chan struct{}
	once   sync.Once
}

// New returns a hub with no streams.
func New() *Hub { return &Hub{subs: map[chan string]bool{}, closed: make(chan struct{})} }

// Close ends every open stream, so a graceful shutdown does not wait on browsers.
func (h *Hub) Close() { h.once.Do(func() { close(h.closed) }) }

// Publish tells every stream that kind changed; it never blocks.
func (h *Hub) Publish(kind string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		select {
		case ch <- kind:
		default: // the subscriber has a notice pending; it will refetch anyway
		}
	}
}

func (h *Hub) subscribe() chan string {
	ch := make(chan string, 8)
	h.mu.Lock()
	h.subs[ch] = true
	h.mu.Unlock()
	return ch
}

func (h *Hub) unsubscribe(ch chan string) {
	h.mu.Lock()
	delete(h.subs, ch)
	h.mu.Unlock()
}

// window is how long a stream gathers notices before it writes them: under load
// every request is a notice, and writing each one (a write and a flush per request, for
// every open tab) cost the vendor API a tenth of its throughput. The dashboard waits
// 150 ms after a notice anyway.
const window = 100 * time.Millisecond

// ServeHTTP streams change notices as server-sent events, each kind at most once per
// window, with a comment line every 15 s so proxies keep the stream open. It returns
// when the client goes or the hub is closed.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	fmt.Fprint(w, "retry: 2000\n\n")
	_ = rc.Flush()
	ch := h.subscribe()
	defer h.unsubscribe(ch)
	ping := time.NewTicker(15 * time.Second)
	defer ping.Stop()
	var pending []string // kinds gathered in this window, each once
	var due <-chan time.Time
	for {
		select {
		case <-r.Context().Done():
			return
		case <-h.closed:
			return
		case <-ping.C:
			fmt.Fprint(w, ": ping\n\n")
		case kind := <-ch:
			if !slices.Contains(pending, kind) {
				pending = append(pending, kind)
			}
			if due == nil {
				due = time.After(window)
			}
			continue
		case <-due:
			for _, kind := range pending {
				fmt.Fprintf(w, "event: change\ndata: {\"type\":%q}\n\n", kind)
			}
			pending, due = pending[:0], nil
		}
		_ = rc.Flush()
	}
}
