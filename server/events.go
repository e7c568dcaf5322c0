package server

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// hub fans change notices out to dashboard event streams. A notice says only what
// changed ("journal", "order", "callback"); the page refetches, so a slow browser
// loses nothing by missing a notice and never slows the API.
type hub struct {
	mu     sync.Mutex
	subs   map[chan string]bool
	closed chan struct{}
	once   sync.Once
}

func newHub() *hub { return &hub{subs: map[chan string]bool{}, closed: make(chan struct{})} }

// close ends every open stream, so a graceful shutdown does not wait on browsers.
func (h *hub) close() { h.once.Do(func() { close(h.closed) }) }

func (h *hub) publish(kind string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		select {
		case ch <- kind:
		default: // the subscriber has a notice pending; it will refetch anyway
		}
	}
}

func (h *hub) subscribe() chan string {
	ch := make(chan string, 8)
	h.mu.Lock()
	h.subs[ch] = true
	h.mu.Unlock()
	return ch
}

func (h *hub) unsubscribe(ch chan string) {
	h.mu.Lock()
	delete(h.subs, ch)
	h.mu.Unlock()
}

// eventWindow is how long a stream gathers notices before it writes them: under load
// every request is a notice, and writing each one (a write and a flush per request, for
// every open tab) cost the vendor API a tenth of its throughput. The dashboard waits
// 150 ms after a notice anyway.
const eventWindow = 100 * time.Millisecond

// handleEvents streams change notices as server-sent events, each kind at most once per
// eventWindow, with a comment line every 15 s so proxies keep the stream open.
func (s *Server) handleEvents(c echo.Context) error {
	w := c.Response()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 2000\n\n")
	w.Flush()
	ch := s.events.subscribe()
	defer s.events.unsubscribe(ch)
	ping := time.NewTicker(15 * time.Second)
	defer ping.Stop()
	var pending []string // kinds gathered in this window, each once
	var window <-chan time.Time
	for {
		select {
		case <-c.Request().Context().Done():
			return nil
		case <-s.events.closed:
			return nil
		case <-ping.C:
			fmt.Fprint(w, ": ping\n\n")
		case kind := <-ch:
			if !slices.Contains(pending, kind) {
				pending = append(pending, kind)
			}
			if window == nil {
				window = time.After(eventWindow)
			}
			continue
		case <-window:
			for _, kind := range pending {
				fmt.Fprintf(w, "event: change\ndata: {\"type\":%q}\n\n", kind)
			}
			pending, window = pending[:0], nil
		}
		w.Flush()
	}
}

// CloseStreams ends the dashboard's event streams; main registers it with
// http.Server.RegisterOnShutdown so Shutdown does not wait for open browser tabs.
func (s *Server) CloseStreams() {
	s.stop() // an injected hang must not hold the shutdown for ten minutes
	s.events.close()
}
