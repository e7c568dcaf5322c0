// Package sandboxtest runs a whole vpay88-sandbox inside a Go test, the way
// net/http/httptest runs an HTTP server: the vendor API, the checkout page, the admin
// API and callback delivery, over a real bbolt file in a temporary folder, listening
// on 127.0.0.1, with a callback receiver (the Recorder) that records and verifies what
// it gets. A merchant's test plays the shop with Client, the customer with Pay and
// Fail, QA with Settle, SetBalance, Reset and Advance, and the shop's callback
// handler with the Recorder:
//
//	func TestCheckout(t *testing.T) {
//		sb := sandboxtest.New(t)
//		_, err := sb.Client.GenerateOrder(context.Background(), client.DepositRequest{
//			Username: "john", Amount: gateway.MustMoney("300"), Currency: "MYR",
//			OrderID: "order-1001", Email: "john@example.com", PhoneNumber: "601012456789"})
//		require.NoError(t, err)
//		require.NoError(t, sb.Pay("order-1001"))
//		cb, err := sb.Recorder.Wait("order-1001", 5*time.Second)
//		require.NoError(t, err)
//		assert.Equal(t, gateway.StatusCompleted, cb.OrderStatus)
//	}
//
// Connect does the same against a sandbox already running (a CI service), with a
// merchant of the test's own. This package and client are the sandbox's API for other
// modules; the packages they use inside are not.
package sandboxtest

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vpay88/vpay88-sandbox/client"
	"github.com/vpay88/vpay88-sandbox/clock"
	"github.com/vpay88/vpay88-sandbox/config"
	"github.com/vpay88/vpay88-sandbox/internal/inproc"
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

	sb     *inproc.Sandbox
	remote *remote    // Connect's: the sandbox runs in another process
	tb     testing.TB // Connect's test, told when the shared sandbox cannot be asked
}

type options struct {
	changes    []func(*config.Config)
	seed       int64
	path       string
	clock      *clock.Clock
	clientOpts []client.Option
	durable    bool
	// Connect's.
	adminToken, recorderAddr, callbackHost string
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

// WithDurableWrites makes every commit fsync, as the sandbox's default machine
// durability does; without it a sandboxtest sandbox is ephemeral (no fsync).
func WithDurableWrites() Option { return func(o *options) { o.durable = true } }

// WithClock runs the sandbox on c (clock.Frozen, then Advance, fires delays and
// retries at once); the default is clock.Real().
func WithClock(c *clock.Clock) Option { return func(o *options) { o.clock = c } }

// withPath puts the bbolt file at path (New uses t.TempDir()).
func withPath(path string) Option { return func(o *options) { o.path = path } }

// New starts a sandbox for the test; it stops when the test ends. Start failures fail
// the test at once.
func New(t testing.TB, opts ...Option) *Sandbox {
	t.Helper()
	// A file of its own in the temporary folder, not a folder of its own: making and
	// removing a folder per test was a quarter of what a New cost.
	path := filepath.Join(os.TempDir(), fmt.Sprintf("vpay88-sandboxtest-%d-%d.db", os.Getpid(), fileSeq.Add(1)))
	t.Cleanup(func() { os.Remove(path) }) // after Close: cleanups run last first
	sb, err := Start(append([]Option{withPath(path)}, opts...)...)
	if err != nil {
		t.Fatalf("sandboxtest: %v", err)
	}
	t.Cleanup(sb.Close)
	return sb
}

// fileSeq numbers the state files of one test process.
var fileSeq atomic.Int64

// Start starts a sandbox outside a test (an Example, a TestMain, a tool); Close stops
// it and removes its temporary folder.
func Start(opts ...Option) (*Sandbox, error) {
	o := options{seed: 1}
	for _, f := range opts {
		f(&o)
	}
	cfg := inproc.QuickConfig()
	cfg.WithdrawalDelay = config.Duration(100 * time.Millisecond)
	// Ephemeral by default, as --ephemeral: a test's state dies with it, so its
	// commits (the binary's group commit) skip the fsync.
	in, err := inproc.Start(inproc.Options{Config: cfg, Recorder: true, Changes: o.changes,
		Path: o.path, Seed: o.seed, Clock: o.clock, Ephemeral: !o.durable})
	if err != nil {
		return nil, err
	}
	first := in.Config.Merchants[0]
	sb := &Sandbox{URL: in.URL, Username: first.Username, APIKey: first.APIKey, SecretKey: first.SecretKey,
		Recorder: &Recorder{in.Recorder}, sb: in}
	copts := append([]client.Option{client.WithCredentials(sb.Username, sb.APIKey), client.WithTimeout(10 * time.Second)}, o.clientOpts...)
	sb.Client = client.New(sb.URL, copts...)
	return sb, nil
}

// Close stops the HTTP server (waiting for requests in flight), the background work,
// the store and the Recorder. It is safe to call more than once.
func (sb *Sandbox) Close() {
	if sb.remote != nil {
		sb.closeRemote()
		return
	}
	sb.sb.Close()
}

// Advance moves the sandbox's clock forward by d and returns once everything that came
// due has run, in time order: scheduled settlements and payouts, deposit expiry,
// reversals, and callback attempts on the retry schedule (the Recorder has received
// those that were delivered). Tokens older than their lifetime are refused from then
// on. Start the sandbox WithClock(clock.Frozen(t)) for exact instants; on a running
// clock Advance adds to its offset.
//
// Over Connect the clock is the shared instance's: every test on it moves with it. A
// move the sandbox answers with a job (202: it outlasted 20 s, e.g. a backlog of due
// payouts) is polled until it is done, for at most 10 minutes. It goes through the
// admin API, as Pay and Settle do, so it behaves the same in process and over Connect.
func (sb *Sandbox) Advance(d time.Duration) error {
	if d < 0 {
		return clock.ErrBackwards
	}
	return sb.admin().advance(context.Background(), d)
}

// Now returns the sandbox's time. Over Connect it asks the shared sandbox; when that
// fails the test fails (Errorf, so Now may be called from any goroutine) and Now
// returns the zero time; over Dial, which has no test to tell, it panics. A zero time
// passed on silently would make the test's own time arithmetic wrong instead.
func (sb *Sandbox) Now() time.Time {
	if sb.remote != nil {
		var v struct {
			Now time.Time `json:"now"`
		}
		err := sb.remote.do(context.Background(), http.MethodGet, "/sandbox/api/clock", "", nil, http.StatusOK, &v)
		if err == nil {
			return v.Now
		}
		if sb.tb == nil {
			panic(fmt.Sprintf("sandboxtest: the clock of %s: %v", sb.URL, err))
		}
		sb.tb.Errorf("sandboxtest: the clock of %s: %v", sb.URL, err)
		return time.Time{}
	}
	return sb.sb.Store.Now()
}
