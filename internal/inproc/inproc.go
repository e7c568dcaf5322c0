// Package inproc runs a whole vpay88-sandbox inside the calling process: the vendor
// API, the checkout page, the admin API and callback delivery, over a real bbolt file,
// listening on 127.0.0.1 with a plain net/http server. It is the one in-process
// sandbox: parity starts it for a run, sandboxtest wraps it for a Go test, and the
// server's own tests build on it. It links neither testing nor net/http/httptest, so
// the binary that uses it (parity) does not either.
//
// A Recorder is the merchant's side: a callback receiver that records and verifies
// what it gets and answers like a merchant, or as a hook chooses.
package inproc

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/vpay88/vpay88-sandbox/clock"
	"github.com/vpay88/vpay88-sandbox/config"
	"github.com/vpay88/vpay88-sandbox/server"
	"github.com/vpay88/vpay88-sandbox/store"
)

// QuickConfig is config.Default() with the fast callback schedule and a 2 s callback
// timeout: what an in-process sandbox runs with unless told otherwise.
func QuickConfig() *config.Config {
	cfg := config.Default()
	cfg.Callbacks.Schedule = config.FastSchedule()
	cfg.Callbacks.Timeout = config.Duration(2 * time.Second)
	return cfg
}

// Options configures Start.
type Options struct {
	// Config is the configuration to start from; nil means QuickConfig().
	Config *config.Config
	// Recorder, when true, starts a Recorder for the first merchant's callbacks (it
	// verifies them with that merchant's secret key) and makes it the merchant's
	// callback_url before Changes run, so a change may still point elsewhere.
	Recorder bool
	// Changes change the configuration before the sandbox starts.
	Changes []func(*config.Config)
	// Path is the bbolt file; empty means sandbox.db in a new temporary folder that
	// Close removes. A restart reuses a path.
	Path string
	// Seed seeds the fake data (payer names); 0 means random.
	Seed int64
	// Server, when set, changes the server's options before it starts (PublicURL,
	// LoopbackOnly, AdminToken, Logger, which the store logs to as well…); Store is
	// set after it runs.
	Server func(*server.Options)
	// Clock is the sandbox's clock (store, scheduler, dispatcher); nil means
	// clock.Real().
	Clock *clock.Clock
	// NoSync skips the fsync of each commit (store.WithoutSync): safe against a
	// killed test process, not against a machine crash, and much faster for suites
	// that create thousands of orders.
	NoSync bool
	// Ephemeral is NoSync for state that dies with the test, as --ephemeral's does
	// (store.Ephemeral): the same group commit as a durable store, without fsync.
	Ephemeral bool
}

// Sandbox is a running in-process sandbox.
type Sandbox struct {
	// URL is the base URL, e.g. http://127.0.0.1:41234.
	URL string
	// Config is the configuration the sandbox runs with.
	Config *config.Config
	// Server and Store are the sandbox's parts.
	Server *server.Server
	Store  *store.Store
	// ServerOptions are the options Server was made with (a test may start a second
	// server over the same store).
	ServerOptions server.Options
	// Recorder receives the first merchant's callbacks when Options.Recorder was set.
	Recorder *Recorder
	// Path is the bbolt file.
	Path string

	http *HTTPServer
	dir  string // the temporary folder Close removes, if any
}

// Start starts a sandbox; Close stops it. On an error everything started so far is
// stopped again.
func Start(o Options) (sb *Sandbox, err error) {
	sb = &Sandbox{Path: o.Path, Config: o.Config}
	defer func() {
		if err != nil {
			sb.Close()
			sb = nil
		}
	}()
	if sb.Path == "" {
		if sb.dir, err = os.MkdirTemp("", "vpay88-inproc-"); err != nil {
			return nil, err
		}
		sb.Path = filepath.Join(sb.dir, "sandbox.db")
	}
	if sb.Config == nil {
		sb.Config = QuickConfig()
	}
	if o.Recorder {
		if sb.Recorder, err = NewRecorder(RecorderOptions{Secret: sb.firstSecret}); err != nil {
			return sb, fmt.Errorf("recorder: %w", err)
		}
		sb.Config.Merchants[0].CallbackURL = sb.Recorder.URL()
	}
	for _, c := range o.Changes {
		c(sb.Config)
	}
	var sopts []store.Option
	if o.Clock != nil {
		sopts = append(sopts, store.WithClock(o.Clock))
	}
	switch {
	case o.Ephemeral:
		sopts = append(sopts, store.Ephemeral())
	case o.NoSync:
		sopts = append(sopts, store.WithoutSync())
	}
	sb.ServerOptions = server.Options{Config: sb.Config, Seed: o.Seed}
	if o.Server != nil {
		o.Server(&sb.ServerOptions)
	}
	if l := sb.ServerOptions.Logger; l != nil {
		// The store's own ERROR (a damaged file found by a read) goes where the
		// server's lines go.
		sopts = append(sopts, store.WithLogger(l))
	}
	if sb.Store, err = store.Open(sb.Path, sopts...); err != nil {
		return sb, err
	}
	sb.ServerOptions.Store = sb.Store
	if sb.Server, err = server.New(sb.ServerOptions); err != nil {
		return sb, fmt.Errorf("server: %w", err)
	}
	if sb.http, err = Serve("127.0.0.1:0", sb.Server); err != nil {
		return sb, err
	}
	sb.URL = sb.http.URL
	return sb, nil
}

func (sb *Sandbox) firstSecret() string { return sb.Config.Merchants[0].SecretKey }

// Close stops the HTTP server (waiting for the requests in flight), the background
// work, the store and the Recorder, and removes the temporary folder. It is safe to
// call more than once.
func (sb *Sandbox) Close() {
	if sb.http != nil {
		sb.http.Close()
		sb.http = nil
	}
	if sb.Server != nil {
		_ = sb.Server.Close()
		sb.Server = nil
	}
	if sb.Store != nil {
		_ = sb.Store.Close()
		sb.Store = nil
	}
	if sb.Recorder != nil {
		sb.Recorder.Close()
	}
	if sb.dir != "" {
		_ = os.RemoveAll(sb.dir)
		sb.dir = ""
	}
}

// HTTPServer is a handler served on a listener of its own: net/http's server, not
// httptest's.
type HTTPServer struct {
	// URL is the base URL, http://127.0.0.1:port.
	URL    string
	srv    *http.Server
	served chan struct{} // closed when Serve has returned
	once   sync.Once

	mu    sync.Mutex
	conns map[net.Conn]http.ConnState // every open connection and its state
}

// track follows the connections' states, so Close can drop the ones that carry no
// request (as httptest's Close does): Shutdown counts a connection a client dialed but
// never used (StateNew) as busy for five seconds.
func (s *HTTPServer) track(c net.Conn, st http.ConnState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch st {
	case http.StateClosed, http.StateHijacked:
		delete(s.conns, c)
	default:
		s.conns[c] = st
	}
}

// Serve serves h on a new listener at addr (127.0.0.1:0 for a free port).
func Serve(addr string, h http.Handler) (*HTTPServer, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &HTTPServer{URL: "http://" + l.Addr().String(), served: make(chan struct{}), conns: map[net.Conn]http.ConnState{}}
	s.srv = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ConnState: s.track}
	if st, ok := h.(interface{ CloseStreams() }); ok {
		// Event streams and injected hangs end at shutdown instead of holding it.
		s.srv.RegisterOnShutdown(st.CloseStreams)
	}
	go func() {
		defer close(s.served)
		_ = s.srv.Serve(l) // ErrServerClosed after Shutdown
	}()
	return s, nil
}

// shutdownGrace bounds how long Close waits for requests in flight.
const shutdownGrace = 10 * time.Second

// Close stops the server, waiting (up to 10 s) for the requests in flight, then
// closes what is left and frees the address. It is safe to call more than once.
func (s *HTTPServer) Close() {
	s.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		s.srv.SetKeepAlivesEnabled(false)
		s.mu.Lock()
		for c, st := range s.conns {
			if st == http.StateNew || st == http.StateIdle {
				_ = c.Close()
			}
		}
		s.mu.Unlock()
		_ = s.srv.Shutdown(ctx)
		_ = s.srv.Close()
		<-s.served
	})
}
