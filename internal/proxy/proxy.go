// Package proxy is `vpay88-sandbox proxy`: a reverse proxy a merchant's integration
// points at instead of the real gateway. Every request goes to the target unchanged
// and the target's answer comes back unchanged; meanwhile, off the request's path,
// each exchange is written to a recording (secrets masked) and sent again to an
// in-process sandbox, the shadow, whose answer is compared with the target's by
// parity's comparison. The shadow maps the target's auth tokens and p_urls to its
// own and follows the target's outcomes (follow.go): an order the target accepted and
// the shadow refused is created in the shadow, and an order the target reports
// settled is settled in the shadow. Only an order the shadow accepted and the target
// refused (or one the shadow cannot follow) leaves the two sides apart: its later
// requests are not compared. A second shadow under the other profile says which
// profile answers as the target does where the two differ (attribute.go).
//
// The proxy also serves the sandbox's capture route (capture.go), so the real test
// environment's callback URL can point at it; a proxy recording can be answered
// again offline by Replay (`parity --replay`).
//
// The integration never waits for the shadow: an exchange is handed to a bounded
// queue when the target's answer has been copied to the integration, and dropped
// (counted) when the queue is full.
package proxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/internal/parity"
)

// Options configures a Proxy.
type Options struct {
	// Target is the gateway's base URL, e.g. Vpay88's test environment.
	Target string
	// Username and APIKey are the shadow merchant's credentials: the traffic's. Empty
	// ones are learnt from the first request that carries both username and api_key
	// (/merchant/auth); the shadow starts then, and the requests before it are
	// shadowed once it has started (at most PendingLimit of them).
	Username, APIKey string
	// Secret is the merchant's secret key: the shadow signs callbacks with it, and it
	// is masked everywhere.
	Secret string
	// Profile is the shadow sandbox's profile; "" is the document profile.
	Profile gateway.Profile
	// NoAttribution runs no second shadow: the differences then say nothing of which
	// profile answers as the target does.
	NoAttribution bool
	// ForwardTo is the merchant's own callback URL: callbacks captured at the proxy's
	// /sandbox/capture/{name} are forwarded there, as the sandbox's --forward-to does.
	ForwardTo string
	// Record, when set, is the file the exchanges are written to, one JSON object a
	// line (record.go).
	Record string
	// QueueSize bounds the exchanges waiting for the shadow (and, separately, for the
	// recording); default 256. A full queue drops the exchange and counts it.
	QueueSize int
	// MaxSteps is how many exchanges without differences are kept for the report
	// (the last ones, at most 4 MiB of them); default DefaultMaxSteps. Older ones are
	// only counted.
	MaxSteps int
	// MaxDifferences is how many exchanges with differences are kept for
	// /proxy/differences and the report (the last ones, at most 8 MiB of them, each
	// body cut at 8 KiB: kept.go); default DefaultMaxDifferences. Older ones are only
	// counted.
	MaxDifferences int
	// MaxQueuedBytes bounds the bodies of the exchanges waiting for the shadow or the
	// recording; default 8 MiB. An exchange past it is dropped from both (counted).
	MaxQueuedBytes int64
	// Transport reaches the target; default a clone of http.DefaultTransport that
	// does not ask for compression (the answer is passed on as the target sent it).
	Transport http.RoundTripper
	// ShadowTimeout bounds each shadow request; default 10 s.
	ShadowTimeout time.Duration
	// ReadHeaderTimeout bounds the reading of a request's headers by ListenAndServe's
	// server (default 10 s), and ReadTimeout the reading of the whole request, body
	// included (default 30 s): a client that stops sending mid-request gets 408 or a
	// closed connection instead of holding the proxy.
	ReadHeaderTimeout, ReadTimeout time.Duration
	// TargetHeaderTimeout bounds the wait for the target's status and headers
	// (default 30 s) and TargetTimeout the whole exchange with it, the answer's body
	// included (default 60 s). Past the first the integration gets 504; past the second,
	// mid-answer, its connection is cut.
	TargetHeaderTimeout, TargetTimeout time.Duration
	// Log receives the differences as they are found; default slog.Default().
	Log *slog.Logger
}

// PendingLimit is how many exchanges before the shadow has credentials wait for it;
// pendingBytes bounds their bodies.
const (
	PendingLimit = 64
	pendingBytes = 8 << 20
)

// maxCapture is the largest request or answer body the proxy keeps for the shadow and
// the recording; a larger one is still passed on whole, but not shadowed.
const maxCapture = 1 << 20

// Proxy is a running proxy: an http.Handler. Close stops its background work.
type Proxy struct {
	o      Options
	target *url.URL
	rp     *httputil.ReverseProxy
	log    *slog.Logger
	red    *parity.Redactor
	rec    *recorder
	sh     *shadow // owned by the shadow goroutine (or by Replay)

	// closing guards the queues: submit holds it for reading, Close for writing.
	closing  sync.RWMutex
	closed   bool
	queue    chan *exchange
	recq     chan *exchange
	workers  sync.WaitGroup
	inFlight atomic.Int64 // received, not yet done by the shadow

	seq, dropped, recDropped, notShadowed atomic.Int64

	// queued is the bytes of the exchanges waiting for the shadow or the recording.
	queued atomic.Int64

	mu sync.Mutex
	// sames, diffs and skips keep the last steps of each kind (kept.go); same, diff
	// and skipped count every one.
	sames, diffs, skips ring
	same, diff, skipped int
	shadowAt            string // the shadow's URL once started
	altAt               string // the second shadow's, with its profile
	// capture reaches the shadow for the capture route once it has started;
	// shadowDown says why it has not.
	capture    http.Handler
	shadowDown string
}

// exchange is one request and the target's answer, as the integration saw them.
type exchange struct {
	seq        int64
	at         time.Time
	method     string
	path       string
	rawQuery   string
	reqHeader  http.Header
	reqBody    []byte
	status     int
	respHeader http.Header
	respBody   []byte
	tooLarge   bool // a body over maxCapture: passed on, not kept
	err        string
	// reset says the target reset the connection: the integration's is reset too.
	reset bool
	// answered stops the target header timeout once the target's headers are in.
	answered func() bool
	took     time.Duration
	// refs counts the queues holding the exchange: its bytes leave Proxy.queued when
	// the last lets it go (release).
	refs atomic.Int32
}

// bytes is what the exchange holds in memory, near enough: its bodies and headers.
func (ex *exchange) bytes() int64 {
	return int64(len(ex.reqBody)+len(ex.respBody)+headerBytes(ex.reqHeader)+headerBytes(ex.respHeader)) + 512
}

func headerBytes(h http.Header) int {
	n := 0
	for k, vs := range h {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	return n
}

type exchangeKey struct{}

// New starts a proxy: the recording file, and the shadow sandbox when Options gives
// its credentials.
func New(o Options) (*Proxy, error) {
	t, err := url.Parse(o.Target)
	if err != nil || (t.Scheme != "http" && t.Scheme != "https") || t.Host == "" {
		return nil, fmt.Errorf("proxy: target %q is not an http(s) URL", o.Target)
	}
	if o.Transport == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.DisableCompression = true
		tr.MaxIdleConnsPerHost = 64
		o.Transport = tr
	}
	p := newCore(o)
	p.target = t
	p.queue = make(chan *exchange, p.o.QueueSize)
	p.rp = &httputil.ReverseProxy{
		// Rewrite (not Director) adds no X-Forwarded-* header: the target hears the
		// integration's request as it was sent, but for its Host.
		Rewrite:        func(pr *httputil.ProxyRequest) { pr.SetURL(t) },
		Transport:      p.o.Transport,
		FlushInterval:  -1,
		ModifyResponse: p.modifyResponse,
		ErrorHandler:   p.errorHandler,
		ErrorLog:       slog.NewLogLogger(p.log.Handler(), slog.LevelWarn),
	}
	if o.Record != "" {
		if p.rec, err = openRecorder(o.Record, o.Target, p.red); err != nil {
			return nil, err
		}
		p.recq = make(chan *exchange, 4*p.o.QueueSize)
		p.workers.Add(1)
		go p.recordLoop()
	}
	if o.Username != "" && o.APIKey != "" {
		if err := p.sh.start(o.Username, o.APIKey); err != nil {
			p.closing.Lock()
			p.closed = true
			if p.recq != nil {
				close(p.recq)
			}
			p.closing.Unlock()
			p.workers.Wait()
			_ = p.closeRecorder()
			return nil, err
		}
	}
	p.workers.Add(1)
	go p.shadowLoop()
	return p, nil
}

// newCore is what a proxy and a replay share: the options with their defaults, the
// redactor, the shadow and the report being gathered.
func newCore(o Options) *Proxy {
	if o.QueueSize <= 0 {
		o.QueueSize = 256
	}
	if o.MaxSteps <= 0 {
		o.MaxSteps = DefaultMaxSteps
	}
	if o.MaxDifferences <= 0 {
		o.MaxDifferences = DefaultMaxDifferences
	}
	if o.MaxQueuedBytes <= 0 {
		o.MaxQueuedBytes = 8 << 20
	}
	if o.ShadowTimeout <= 0 {
		o.ShadowTimeout = 10 * time.Second
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	for _, d := range []struct {
		v   *time.Duration
		def time.Duration
	}{{&o.ReadHeaderTimeout, 10 * time.Second}, {&o.ReadTimeout, 30 * time.Second},
		{&o.TargetHeaderTimeout, 30 * time.Second}, {&o.TargetTimeout, 60 * time.Second}} {
		if *d.v <= 0 {
			*d.v = d.def
		}
	}
	if o.Profile == "" {
		o.Profile = gateway.ProfileDocument
	}
	p := &Proxy{o: o, log: o.Log, red: parity.NewRedactor(o.APIKey, o.Secret),
		shadowDown: "the shadow sandbox has not started: it starts once the proxy knows the merchant's credentials " +
			"(--username and --api-key, or the first /merchant/auth passed through the proxy)"}
	p.sames = ring{max: o.MaxSteps, maxBytes: maxSameBytes}
	p.diffs = ring{max: o.MaxDifferences, maxBytes: maxDifferenceBytes}
	p.skips = ring{max: maxSkippedKept, maxBytes: maxSkippedBytes}
	p.sh = newShadow(p)
	return p
}

// ServeHTTP proxies a request to the target, or answers the proxy's own pages under
// /proxy/, or hands a captured callback to the shadow (capture.go).
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/proxy/differences":
		p.serveDifferences(w, r)
		return
	case r.URL.Path == "/proxy/" || r.URL.Path == "/proxy":
		p.serveDashboard(w, r)
		return
	case isCaptureRoute(r.URL.Path):
		p.serveCapture(w, r)
		return
	}
	// Counted before the answer goes out, so a Sync after the integration has it
	// waits for this exchange too; submit passes the count on.
	p.inFlight.Add(1)
	submitted := false
	defer func() {
		if !submitted { // a refused body, or ReverseProxy's http.ErrAbortHandler panic
			p.inFlight.Add(-1)
		}
	}()
	ex := &exchange{seq: p.seq.Add(1), at: time.Now(), method: r.Method, path: r.URL.Path,
		rawQuery: r.URL.RawQuery, reqHeader: r.Header.Clone()}
	if r.Body != nil && r.Body != http.NoBody {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxCapture+1))
		if errors.Is(err, os.ErrDeadlineExceeded) {
			http.Error(w, fmt.Sprintf("proxy: the request's body did not arrive within %s (the proxy's read timeout)",
				p.o.ReadTimeout), http.StatusRequestTimeout)
			return
		}
		if err != nil {
			http.Error(w, "proxy: reading the request: "+err.Error(), http.StatusBadRequest)
			return
		}
		if len(body) > maxCapture {
			ex.tooLarge = true
			r.Body = struct {
				io.Reader
				io.Closer
			}{io.MultiReader(bytes.NewReader(body), r.Body), r.Body}
		} else {
			ex.reqBody = body
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
	}
	p.pass(w, r, ex)
	// The answer has been copied to the integration: the rest is off its path.
	submitted = true
	p.submit(ex)
}

// errHeaderTimeout and errTargetTimeout are why an exchange with the target was cut.
var (
	errHeaderTimeout = errors.New("the target sent no answer in time (proxy's target header timeout)")
	errTargetTimeout = errors.New("the exchange with the target took too long (proxy's target timeout)")
)

// pass sends the request to the target and copies its answer back, within the target
// timeouts. A target that resets the connection mid-answer has the integration's
// connection reset too: ReverseProxy then aborts the handler, and pass catches that
// abort only to reset the connection instead of closing it.
func (p *Proxy) pass(w http.ResponseWriter, r *http.Request, ex *exchange) {
	ctx, cancel := context.WithTimeoutCause(context.WithValue(r.Context(), exchangeKey{}, ex), p.o.TargetTimeout, errTargetTimeout)
	defer cancel()
	hctx, hcancel := context.WithCancelCause(ctx)
	defer hcancel(nil)
	ex.answered = time.AfterFunc(p.o.TargetHeaderTimeout, func() { hcancel(errHeaderTimeout) }).Stop
	defer ex.answered() // when the target never answered: no timer outlives the request
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler && ex.reset && resetConn(w) {
				return
			}
			panic(v)
		}
	}()
	p.rp.ServeHTTP(w, r.WithContext(hctx))
}

// resetConn closes the integration's connection with a TCP reset (SO_LINGER 0), as
// the target closed its own. False when the connection cannot be taken over (HTTP/2):
// the caller then answers as it would otherwise.
func resetConn(w http.ResponseWriter) bool {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return false
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
	return true
}

// isReset reports whether err is the target resetting the connection. A target that
// resets while the request body is still being sent shows as a write that fails:
// EPIPE, or the connection already closed by the transport's reader that saw the
// reset (net.ErrClosed): the integration was reset all the same.
func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed)
}

// modifyResponse keeps the target's status and headers and tees its body, unchanged.
func (p *Proxy) modifyResponse(resp *http.Response) error {
	ex, _ := resp.Request.Context().Value(exchangeKey{}).(*exchange)
	if ex == nil {
		return nil
	}
	ex.answered()
	ex.status, ex.respHeader = resp.StatusCode, resp.Header.Clone()
	if resp.ContentLength > 0 && resp.ContentLength <= maxCapture {
		// One allocation of the announced size, not a doubling slice's garbage.
		ex.respBody = make([]byte, 0, resp.ContentLength)
	}
	resp.Body = &capture{rc: resp.Body, ex: ex}
	return nil
}

// errorHandler answers 502 when the target cannot be reached, as ReverseProxy does;
// 504 when it did not answer within the target timeouts; and resets the
// integration's connection when the target reset its own.
func (p *Proxy) errorHandler(w http.ResponseWriter, r *http.Request, err error) {
	ex, _ := r.Context().Value(exchangeKey{}).(*exchange)
	if cause := context.Cause(r.Context()); errors.Is(cause, errHeaderTimeout) || errors.Is(cause, errTargetTimeout) {
		err = cause
	}
	if ex != nil {
		ex.err = err.Error()
	}
	switch {
	case isReset(err) && resetConn(w):
		p.log.Warn("proxy: the target reset the connection: the integration's is reset too", "path", r.URL.Path, "err", err)
	case errors.Is(err, errHeaderTimeout), errors.Is(err, errTargetTimeout):
		p.log.Warn("proxy: target timeout", "path", r.URL.Path, "err", err)
		w.WriteHeader(http.StatusGatewayTimeout)
	default:
		if !errors.Is(err, context.Canceled) {
			p.log.Warn("proxy: target unreachable", "path", r.URL.Path, "err", err)
		}
		w.WriteHeader(http.StatusBadGateway)
	}
}

// capture copies what the integration reads of the answer, up to maxCapture.
type capture struct {
	rc io.ReadCloser
	ex *exchange
}

func (c *capture) Read(b []byte) (int, error) {
	n, err := c.rc.Read(b)
	if err != nil && isReset(err) {
		c.ex.reset, c.ex.err = true, err.Error()
	}
	if n > 0 && !c.ex.tooLarge {
		if len(c.ex.respBody)+n > maxCapture {
			c.ex.tooLarge, c.ex.respBody = true, nil
		} else {
			c.ex.respBody = append(c.ex.respBody, b[:n]...)
		}
	}
	return n, err
}

func (c *capture) Close() error { return c.rc.Close() }

// submit hands an exchange to the recording and the shadow, never waiting. ServeHTTP
// has counted it in inFlight; the shadow loop, or submit when the exchange goes no
// further, takes it off.
func (p *Proxy) submit(ex *exchange) {
	ex.took = time.Since(ex.at)
	p.closing.RLock()
	defer p.closing.RUnlock()
	if p.closed {
		p.inFlight.Add(-1)
		return
	}
	size := ex.bytes()
	if p.queued.Add(size) > p.o.MaxQueuedBytes {
		// The queues hold MaxQueuedBytes already: neither shadowed nor recorded.
		p.queued.Add(-size)
		p.inFlight.Add(-1)
		if p.recq != nil {
			p.recDropped.Add(1)
		}
		if p.dropped.Add(1) == 1 {
			p.log.Warn("proxy: shadow queue full, exchanges not shadowed (counted at /proxy/differences)",
				"max_queued_bytes", p.o.MaxQueuedBytes)
		}
		return
	}
	ex.refs.Store(2) // the recording's and the shadow's, each let go below or by its loop
	if p.recq == nil {
		p.release(ex)
	} else {
		select {
		case p.recq <- ex:
		default:
			p.release(ex)
			if p.recDropped.Add(1) == 1 {
				p.log.Warn("proxy: recording queue full, exchanges not recorded (counted)")
			}
		}
	}
	select {
	case p.queue <- ex:
	default:
		p.release(ex)
		p.inFlight.Add(-1)
		if p.dropped.Add(1) == 1 {
			p.log.Warn("proxy: shadow queue full, exchanges not shadowed (counted at /proxy/differences)")
		}
	}
}

// release lets an exchange go from one queue; the last one takes its bytes off.
func (p *Proxy) release(ex *exchange) {
	if ex.refs.Add(-1) == 0 {
		p.queued.Add(-ex.bytes())
	}
}

func (p *Proxy) shadowLoop() {
	defer p.workers.Done()
	for ex := range p.queue {
		p.sh.handle(ex)
		p.release(ex)
		p.inFlight.Add(-1)
	}
}

func (p *Proxy) recordLoop() {
	defer p.workers.Done()
	for ex := range p.recq {
		if err := p.rec.write(ex); err != nil {
			p.log.Error("proxy: recording", "err", err)
		}
		p.release(ex)
	}
}

// Sync waits until the shadow has handled every exchange whose answer has been
// sent so far, or ctx ends.
func (p *Proxy) Sync(ctx context.Context) error {
	for p.inFlight.Load() > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	return nil
}

// Close lets the shadow and the recording finish the queued exchanges, then stops the
// shadow sandbox and closes the recording. Requests still being served are passed on
// but neither recorded nor shadowed. It is safe to call more than once.
func (p *Proxy) Close() error {
	p.closing.Lock()
	if p.closed {
		p.closing.Unlock()
		return nil
	}
	p.closed = true
	close(p.queue)
	if p.recq != nil {
		close(p.recq)
	}
	p.closing.Unlock()
	p.workers.Wait()
	p.sh.close()
	return p.closeRecorder()
}

func (p *Proxy) closeRecorder() error {
	if p.rec == nil {
		return nil
	}
	return p.rec.close()
}

// addStep files a compared (or skipped) exchange, cut to what is kept (kept.go), and
// logs its differences.
func (p *Proxy) addStep(ex *exchange, st *parity.StepResult) {
	k := keptStep{seq: ex.seq, st: st, size: trimStep(st)}
	for _, d := range st.Diffs {
		p.log.Warn("proxy: difference", "exchange", ex.seq, "endpoint", string(st.Endpoint), "path", ex.path,
			"where", d.Path, "kind", d.Kind, "target", d.Target, "sandbox", d.Sandbox)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case st.Skipped != "":
		p.skipped++
		p.skips.add(k)
	case len(st.Diffs) == 0:
		p.same++
		p.sames.add(k)
	default:
		p.diff++
		p.diffs.add(k)
	}
}

// Report is what the proxy compared, in parity's report format: one step per
// shadowed exchange still kept ("#12 generate_orders"), in their order; the counts
// are of every exchange.
func (p *Proxy) Report() *parity.Report {
	p.mu.Lock()
	defer p.mu.Unlock()
	return &parity.Report{Target: p.o.Target + " (captured traffic)", Sandbox: p.shadowName(), Profile: p.o.Profile,
		Steps: mergeSteps(&p.sames, &p.diffs, &p.skips), Same: p.same, Different: p.diff, Skipped: p.skipped}
}

// shadowName says where the shadows run; p.mu is held.
func (p *Proxy) shadowName() string {
	sandbox := "in-process shadow (not started: no credentials seen)"
	if p.shadowAt != "" {
		sandbox = "in-process shadow (" + p.shadowAt + ", temporary bbolt file)"
	}
	if p.altAt != "" {
		sandbox += "; profiles attributed by a second shadow " + p.altAt
	}
	return sandbox
}

// hopHeaders are not passed on by a proxy (RFC 9110 §7.6.1), nor to the shadow.
var hopHeaders = []string{"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// ListenAndServe serves the proxy at addr until ctx ends, then shuts the listener
// down (waiting up to 5 s for requests in flight). It does not Close the proxy.
func (p *Proxy) ListenAndServe(ctx context.Context, addr string, ready func(net.Addr)) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: p, ReadHeaderTimeout: p.o.ReadHeaderTimeout, ReadTimeout: p.o.ReadTimeout,
		IdleTimeout: 2 * time.Minute}
	if ready != nil {
		ready(l.Addr())
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	<-served
	return nil
}
