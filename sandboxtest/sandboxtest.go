// Package sandboxtest runs a whole vpay88-sandbox inside a Go test, the way
// net/http/httptest runs an HTTP server: the vendor API, the checkout page, the admin
// API and callback delivery, over a real bbolt file in a temporary folder, listening
// on 127.0.0.1, with a callback receiver that records and verifies what it gets.
//
//	func TestCheckout(t *testing.T) {
//		sb := sandboxtest.New(t)
//		res, err := sb.Client.GenerateOrder(ctx, client.DepositRequest{…, Email: "success@example.com"})
//		…
//		cb, err := sb.Recorder.Wait("order-1", 5*time.Second)
//	}
package sandboxtest

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vpay88/vpay88-sandbox/client"
	"github.com/vpay88/vpay88-sandbox/config"
	"github.com/vpay88/vpay88-sandbox/server"
	"github.com/vpay88/vpay88-sandbox/store"
)

// Sandbox is a running in-process sandbox.
type Sandbox struct {
	// URL is the base URL, e.g. http://127.0.0.1:41234 (give it to client.New).
	URL string
	// Client is a client for URL with the default merchant's credentials.
	Client *client.Client
	// Username, APIKey and SecretKey are the first merchant's credentials
	// (vpay88-test, EPSOWM0eewwrwer0OfUo, vpay88-test-secret unless WithConfig
	// changed them).
	Username, APIKey, SecretKey string
	// Recorder receives the first merchant's callbacks (its URL is the merchant's
	// callback_url unless WithConfig set another).
	Recorder *Recorder
	// Config is the configuration the sandbox runs with.
	Config *config.Config
	// Server and Store are the sandbox's parts, for tests that need the admin side.
	Server *server.Server
	Store  *store.Store

	http   *httptest.Server
	dir    string
	ownDir bool
}

type options struct {
	changes    []func(*config.Config)
	seed       int64
	dir        string
	clientOpts []client.Option
}

// Option configures a Sandbox.
type Option func(*options)

// WithConfig changes the configuration before the sandbox starts (rules, limits,
// another callback URL…). The defaults it starts from are config.Default() with the
// fast callback schedule, a 2 s callback timeout, withdrawals completing after 100 ms
// and the first merchant's callback_url pointing at the Recorder.
func WithConfig(change func(*config.Config)) Option {
	return func(o *options) { o.changes = append(o.changes, change) }
}

// WithSeed seeds the fake data (payer names); the default is 1, so runs repeat.
func WithSeed(seed int64) Option { return func(o *options) { o.seed = seed } }

// WithClientOptions adds options to the ready Client (a timeout, URL-encoded forms…).
func WithClientOptions(opts ...client.Option) Option {
	return func(o *options) { o.clientOpts = append(o.clientOpts, opts...) }
}

// withDir puts the bbolt file in dir (New uses t.TempDir()).
func withDir(dir string) Option { return func(o *options) { o.dir = dir } }

// New starts a sandbox for the test; it stops when the test ends. Start failures fail
// the test at once.
func New(t testing.TB, opts ...Option) *Sandbox {
	t.Helper()
	sb, err := Start(append([]Option{withDir(t.TempDir())}, opts...)...)
	if err != nil {
		t.Fatalf("sandboxtest: %v", err)
	}
	t.Cleanup(sb.Close)
	return sb
}

// Start starts a sandbox outside a test (an Example, a TestMain, a tool); Close stops
// it and removes its temporary folder.
func Start(opts ...Option) (*Sandbox, error) {
	o := options{seed: 1}
	for _, f := range opts {
		f(&o)
	}
	sb := &Sandbox{dir: o.dir}
	if sb.dir == "" {
		d, err := os.MkdirTemp("", "vpay88-sandboxtest-")
		if err != nil {
			return nil, err
		}
		sb.dir, sb.ownDir = d, true
	}
	cfg := config.Default()
	cfg.Callbacks.Schedule = config.FastSchedule()
	cfg.Callbacks.Timeout = config.Duration(2 * time.Second)
	cfg.WithdrawalDelay = config.Duration(100 * time.Millisecond)
	sb.Recorder = newRecorder(func() string { return sb.SecretKey })
	cfg.Merchants[0].CallbackURL = sb.Recorder.URL()
	for _, c := range o.changes {
		c(cfg)
	}
	first := cfg.Merchants[0]
	sb.Username, sb.APIKey, sb.SecretKey = first.Username, first.APIKey, first.SecretKey
	sb.Config = cfg

	st, err := store.Open(filepath.Join(sb.dir, "sandbox.db"))
	if err != nil {
		sb.Close()
		return nil, err
	}
	sb.Store = st
	srv, err := server.New(server.Options{Config: cfg, Store: st, Seed: o.seed})
	if err != nil {
		sb.Close()
		return nil, fmt.Errorf("server: %w", err)
	}
	sb.Server = srv
	sb.http = httptest.NewServer(srv)
	sb.URL = sb.http.URL
	copts := append([]client.Option{client.WithCredentials(sb.Username, sb.APIKey), client.WithTimeout(10 * time.Second)}, o.clientOpts...)
	sb.Client = client.New(sb.URL, copts...)
	return sb, nil
}

// Close stops the HTTP server (waiting for requests in flight), the background work,
// the store and the Recorder. It is safe to call more than once.
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
		sb.Recorder.close()
	}
	if sb.ownDir {
		_ = os.RemoveAll(sb.dir)
		sb.ownDir = false
	}
}

// ErrTimeout is returned by Recorder.Wait when no verified callback came in time.
var ErrTimeout = errors.New("sandboxtest: no callback in time")

// waitCtx is a helper for loops bounded by a timeout.
func waitCtx(timeout time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), timeout)
}
