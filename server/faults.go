package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/vpay88/vpay88-sandbox/gateway"
)

// Faults on the merchant's own requests, queued by the admin API
// (POST /sandbox/api/faults) or opened as maintenance windows: each is matched
// against every vendor request by endpoint, merchant and field patterns, and hits
// count times (or with a probability drawn from the --seed source, so a run with a
// frozen clock repeats). The queue is stored with the state, so a restart keeps it.

// Bounds of the fault queue (README, guessed behaviours), checked before a fault is
// queued: the queue is matched against every vendor request and stored with the state,
// so its size is what one busy team could make every other team pay (10,000
// never-matching faults once took generate_orders from 25,235 to 1,069 answers per 4 s,
// and 60 faults with 900 KB messages 551 MB).
const (
	// maxEndedFaults bounds how many spent faults the list keeps, for their hit counts.
	maxEndedFaults = 200
	// MaxFaults bounds the live faults and windows queued by the admin API.
	MaxFaults = 1000
	// maxFaultMatches bounds a fault's field patterns (match.<field>).
	maxFaultMatches = 8
	// maxMatchFieldBytes and maxMatchPatternBytes bound each pattern's field name and
	// glob; a request's field is at most 2 KiB (gateway.FieldLimits), a glob for it
	// need not be longer than a few of its values.
	maxMatchFieldBytes   = 64
	maxMatchPatternBytes = 256
)

// faultSaveInterval is how often hit counts are stored at most: a hit is counted in
// memory at once and stored by the one saver within this interval (and at shutdown),
// so traffic never starts a save of its own. Adding or removing a fault stores the
// queue before the call answers.
const faultSaveInterval = time.Second

// Fault is one queued fault or maintenance window, as the admin API shows it.
type Fault struct {
	ID int64 `json:"id"`
	gateway.FaultSpec
	// Endpoints it hits (empty: every vendor endpoint).
	Endpoints []gateway.Endpoint `json:"endpoints"`
	// Merchant, when set, limits it to that merchant's requests.
	Merchant string `json:"merchant,omitempty"`
	// Match holds field patterns (path.Match globs): every one must match.
	Match map[string]string `json:"match,omitempty"`
	// Count is how many requests it hits (0: no limit); Probability, when set, is the
	// chance that a matching request is hit.
	Count       int     `json:"count"`
	Probability float64 `json:"probability,omitempty"`
	Hits        int     `json:"hits"`
	// Remaining is Count - Hits when Count is set.
	Remaining *int `json:"remaining,omitempty"`
	// Source says who queued it: "api", or the rule that opened a window.
	Source    string    `json:"source"`
	CreatedAt time.Time `json:"created_at"`
	// Until ends a maintenance window (by the sandbox clock).
	Until time.Time `json:"until,omitzero"`
	Ended bool      `json:"ended"`

	// globs are Match compiled for matching (rearm fills them).
	globs []fieldGlob
}

// faultKey files a live fault by an endpoint and a merchant it hits ("": any).
type faultKey struct {
	endpoint gateway.Endpoint
	merchant string
}

// faultQueue is the server's queue of faults.
type faultQueue struct {
	saveMu sync.Mutex // serialises saveFaults
	mu     sync.Mutex
	next   int64
	faults []*Fault
	rand   *rand.Rand
	// armed says a fault is live; every vendor request reads it, without the lock.
	armed atomic.Bool
	// index holds the live faults by endpoint and merchant, each list oldest first, so
	// a request tries only the faults that can hit it; live counts them, and nextEnd is
	// the earliest end of a live window (zero: none), when the index must be rebuilt.
	index   map[faultKey][]*Fault
	live    int
	nextEnd time.Time
	// kick asks the saver to store the hit counts; a full channel means a save is
	// pending already, so a hit never waits and never starts a goroutine.
	kick chan struct{}
}

func newFaultQueue(seed int64) *faultQueue {
	return &faultQueue{rand: rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15)), kick: make(chan struct{}, 1)}
}

// errQueueFull refuses a fault past MaxFaults.
var errQueueFull = fail(http.StatusBadRequest, fmt.Sprintf("the fault queue holds %d live faults, its limit: delete some first (DELETE /sandbox/api/faults/{id})", MaxFaults))

// add queues f and returns the stored copy; past MaxFaults live faults it refuses.
func (q *faultQueue) add(f Fault) (Fault, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.rearm(f.CreatedAt)
	if q.live >= MaxFaults {
		return Fault{}, errQueueFull
	}
	q.next++
	f.ID = q.next
	q.faults = append(q.faults, &f)
	q.rearm(f.CreatedAt)
	return f.view(), nil
}

// window opens a maintenance window a rule asked for: a live window of the same rule,
// merchant and endpoints is extended rather than another queued (false: not added), so
// a rule matched by every request keeps one window, and rule windows stay as many as
// the rules.
func (q *faultQueue) window(f Fault) (Fault, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.rearm(f.CreatedAt)
	for _, open := range q.faults {
		if !open.Ended && open.Kind == gateway.FaultMaintenance && open.Source == f.Source && open.Merchant == f.Merchant && slices.Equal(open.Endpoints, f.Endpoints) {
			if f.Until.After(open.Until) {
				open.Until = f.Until
			}
			q.rearm(f.CreatedAt)
			return open.view(), false
		}
	}
	q.next++
	f.ID = q.next
	q.faults = append(q.faults, &f)
	q.rearm(f.CreatedAt)
	return f.view(), true
}

// view is the fault as listed: Remaining filled in.
func (f Fault) view() Fault {
	if f.Count > 0 {
		left := max(0, f.Count-f.Hits)
		f.Remaining = &left
	}
	f.Endpoints = slices.Clone(f.Endpoints)
	if f.Endpoints == nil {
		f.Endpoints = []gateway.Endpoint{}
	}
	return f
}

func (f *Fault) spent(now time.Time) bool {
	return (f.Count > 0 && f.Hits >= f.Count) || (!f.Until.IsZero() && !now.Before(f.Until))
}

// rearm marks the ended faults, drops the oldest ended ones past the bound, rebuilds
// the index and recomputes armed. It walks the queue: it runs when the queue changes
// (an add, a removal, a fault spent, a window's end), never on a plain hit. Callers
// hold mu.
func (q *faultQueue) rearm(now time.Time) {
	ended := 0
	q.live, q.nextEnd = 0, time.Time{}
	clear(q.index)
	if q.index == nil {
		q.index = map[faultKey][]*Fault{}
	}
	for _, f := range q.faults {
		f.Ended = f.spent(now)
		if f.Ended {
			ended++
			continue
		}
		q.live++
		if f.globs == nil && len(f.Match) > 0 {
			f.globs = compileGlobs(f.Match)
		}
		if !f.Until.IsZero() && (q.nextEnd.IsZero() || f.Until.Before(q.nextEnd)) {
			q.nextEnd = f.Until
		}
		for _, e := range anyEndpoint(f.Endpoints) {
			k := faultKey{endpoint: e, merchant: f.Merchant}
			q.index[k] = append(q.index[k], f)
		}
	}
	for i := 0; ended > maxEndedFaults && i < len(q.faults); {
		if q.faults[i].Ended {
			q.faults = slices.Delete(q.faults, i, i+1)
			ended--
			continue
		}
		i++
	}
	q.armed.Store(q.live > 0)
}

// anyAnd is the keys a request's value v is looked up under: any ("") and v itself.
func anyAnd[T ~string](v T) []T {
	if v == "" {
		return []T{""}
	}
	return []T{"", v}
}

// anyEndpoint is the endpoints a fault is filed under: its own, or "" (every one).
func anyEndpoint(es []gateway.Endpoint) []gateway.Endpoint {
	if len(es) == 0 {
		return []gateway.Endpoint{""}
	}
	return es
}

// list returns the faults, oldest first.
func (q *faultQueue) list(now time.Time) []Fault {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.rearm(now)
	out := make([]Fault, 0, len(q.faults))
	for _, f := range q.faults {
		out = append(out, f.view())
	}
	return out
}

// remove deletes one fault (id > 0) or all; it reports whether any was removed.
func (q *faultQueue) remove(id int64, now time.Time) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := len(q.faults)
	if id == 0 {
		q.faults = nil
	} else {
		q.faults = slices.DeleteFunc(q.faults, func(f *Fault) bool { return f.ID == id })
	}
	q.rearm(now)
	return len(q.faults) < n
}

// request is what a fault is matched against.
type faultRequest struct {
	endpoint gateway.Endpoint
	merchant string
	fields   func(string) string
}

// hit finds the oldest live fault that matches r, counts the hit, and returns a copy.
// It tries only the faults filed under r's endpoint and merchant (or any), so its cost
// does not grow with faults queued for other endpoints or merchants.
func (q *faultQueue) hit(r faultRequest, now time.Time) (Fault, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.armed.Load() {
		return Fault{}, false
	}
	if !q.nextEnd.IsZero() && !now.Before(q.nextEnd) {
		q.rearm(now) // a window ended
	}
	var lists [4][]*Fault
	n := 0
	for _, e := range anyAnd(r.endpoint) {
		for _, m := range anyAnd(r.merchant) {
			if l := q.index[faultKey{e, m}]; len(l) > 0 {
				lists[n] = l
				n++
			}
		}
	}
	for {
		// The oldest head of the lists: faults are tried oldest first, as queued.
		best := -1
		for j := 0; j < n; j++ {
			if len(lists[j]) > 0 && (best < 0 || lists[j][0].ID < lists[best][0].ID) {
				best = j
			}
		}
		if best < 0 {
			return Fault{}, false
		}
		f := lists[best][0]
		lists[best] = lists[best][1:]
		if f.spent(now) || !f.matches(r) {
			continue
		}
		if f.Probability > 0 && q.rand.Float64() >= f.Probability {
			continue
		}
		f.Hits++
		if f.spent(now) {
			q.rearm(now)
		}
		return f.view(), true
	}
}

func (f *Fault) matches(r faultRequest) bool {
	if len(f.Endpoints) > 0 && !slices.Contains(f.Endpoints, r.endpoint) {
		return false
	}
	if f.Merchant != "" && f.Merchant != r.merchant {
		return false
	}
	if f.globs == nil && len(f.Match) > 0 {
		f.globs = compileGlobs(f.Match)
	}
	for _, g := range f.globs {
		v := r.fields(g.field)
		if !strings.HasPrefix(v, g.prefix) {
			return false
		}
		if ok, _ := path.Match(g.pattern, v); !ok {
			return false
		}
	}
	return true
}

// fieldGlob is one of a fault's field patterns, with the literal text it starts with:
// a value without that prefix is refused by one comparison, so a request pays a few
// nanoseconds for each of the never-matching faults of its endpoint, not a glob match
// (1000 of them once cost a generate_orders 130 µs of CPU).
type fieldGlob struct {
	field, pattern, prefix string
}

// compileGlobs lists a fault's patterns, in field order.
func compileGlobs(match map[string]string) []fieldGlob {
	out := make([]fieldGlob, 0, len(match))
	for field, pat := range match {
		prefix := pat
		if i := strings.IndexAny(pat, `*?[\`); i >= 0 {
			prefix = pat[:i]
		}
		out = append(out, fieldGlob{field: field, pattern: pat, prefix: prefix})
	}
	slices.SortFunc(out, func(a, b fieldGlob) int { return strings.Compare(a.field, b.field) })
	return out
}

// snapshot and restore carry the queue across restarts (store meta "faults").
type faultSnapshot struct {
	Next   int64    `json:"next"`
	Faults []*Fault `json:"faults"`
}

func (q *faultQueue) snapshot() ([]byte, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return json.Marshal(faultSnapshot{Next: q.next, Faults: q.faults})
}

func (q *faultQueue) restore(b []byte, now time.Time) error {
	var snap faultSnapshot
	if err := json.Unmarshal(b, &snap); err != nil {
		return err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.next, q.faults = snap.Next, snap.Faults
	q.rearm(now)
	return nil
}

// saveFaults stores the queue and tells the dashboards; a failure is logged, as the
// queue in memory still holds.
func (s *Server) saveFaults() {
	s.storeFaults()
	s.events.Publish("faults")
}

// storeFaults writes the queue to the store.
func (s *Server) storeFaults() {
	// Saves run one at a time, each snapshotting under the lock: a later state is
	// never overwritten by an earlier one that finished last.
	s.faults.saveMu.Lock()
	defer s.faults.saveMu.Unlock()
	b, err := s.faults.snapshot()
	if err == nil {
		err = s.store.PutMeta(metaFaults, b)
	}
	if err != nil {
		s.log.Error("save faults", "err", err)
	}
}

// faultHit asks the saver to store the hit counts; it never blocks.
func (s *Server) faultHit() {
	select {
	case s.faults.kick <- struct{}{}:
	default: // a save is pending already: it will carry this hit too
	}
}

// faultSaver is the one goroutine that stores hit counts: at most once per
// faultSaveInterval, and once more when the server stops.
func (s *Server) faultSaver() {
	defer s.wg.Done()
	for {
		select {
		case <-s.faults.kick:
		case <-s.ctx.Done():
			s.flushFaultHits()
			return
		}
		s.saveFaults()
		t := time.NewTimer(faultSaveInterval)
		select {
		case <-t.C:
		case <-s.ctx.Done():
			t.Stop()
			s.flushFaultHits()
			return
		}
	}
}

// flushFaultHits stores hits counted since the last save (at shutdown).
func (s *Server) flushFaultHits() {
	select {
	case <-s.faults.kick:
		s.storeFaults()
	default:
	}
}

// metaFaults is the store's meta key of the fault queue.
const metaFaults = "faults"

// loadFaults restores the queue a previous run stored.
func (s *Server) loadFaults() error {
	b, err := s.store.Meta(metaFaults)
	if err != nil || b == nil {
		return err
	}
	return s.faults.restore(b, s.store.Now())
}

// injectFaults is the vendor API's fault middleware: it runs inside journalAPI, so
// the journal records what the client got and notes the fault.
func (s *Server) injectFaults(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !s.faults.isArmed() && !s.ruleFaults.Load() {
			return next(c)
		}
		var f *Fault
		if s.faults.isArmed() {
			if hit, ok := s.faults.hit(s.faultRequestOf(c), s.store.Now()); ok {
				f = &hit
				s.faultHit()
			}
		}
		if f != nil && !f.DoesWork() {
			return s.applyFault(c, f.FaultSpec, fmt.Sprintf("fault %d", f.ID))
		}
		// The work is done and its answer held back, so a fault (queued, or set by a
		// matched rule) can alter or lose it.
		bw := &bufferedWriter{ResponseWriter: c.Response().Writer, code: http.StatusOK}
		c.Response().Writer = bw
		err := next(c)
		var ie *injectedError
		if errors.As(err, &ie) {
			c.Response().Writer = bw.ResponseWriter
			return s.applyFault(c, ie.spec, ie.source)
		}
		if err != nil {
			s.handleError(err, c) // a refusal is an answer a fault can lose too
		}
		c.Response().Writer = bw.ResponseWriter
		switch rf := exchangeOf(c).WorkFault; {
		case f != nil:
			return s.alterAnswer(c, bw, f.FaultSpec, fmt.Sprintf("fault %d", f.ID))
		case rf != nil:
			return s.alterAnswer(c, bw, rf.spec, rf.source)
		}
		return bw.flush()
	}
}

func (q *faultQueue) isArmed() bool { return q.armed.Load() }

// faultRequestOf reads what faults match on: the endpoint, the merchant (by its auth
// token where the request carries one, as username is the customer's in
// generate_orders), and the fields.
func (s *Server) faultRequestOf(c echo.Context) faultRequest {
	e, _ := gateway.ParseEndpoint(c.Path())
	f, err := form(c)
	if err != nil {
		f = nil
	}
	merchant := ""
	if tok := f.Get("auth"); tok != "" {
		merchant, _ = s.store.TokenMerchant(tok)
	}
	if merchant == "" {
		if m := s.merchant(f.Get("username")); m != nil {
			merchant = m.Username
		}
	}
	if merchant != "" {
		// A fault may answer before the handler names the merchant: the journal (and
		// request verification) must still know whose request it hit.
		exchangeOf(c).Merchant = merchant
	}
	return faultRequest{endpoint: e, merchant: merchant, fields: f.Get}
}

// injectedError is a fault a handler met (a matched rule's) and the rule that asked
// for it: returned as an error when it stops the request before its work, for
// applyFault; kept as the exchange's WorkFault when it alters the answer after it.
type injectedError struct {
	spec   gateway.FaultSpec
	source string
}

func (e *injectedError) Error() string { return "injected " + e.spec.String() }

// applyDecisionFault acts on a rule's fault or maintenance window, from inside the
// handler that decided: a fault that stops the request is returned as an error; one
// that alters the answer is left for injectFaults.
func (s *Server) applyDecisionFault(c echo.Context, d gateway.Decision) error {
	if d.Maintenance != nil {
		_, _ = s.openMaintenance(*d.Maintenance, "", "rule "+d.Source) // a rule's window is never refused
		spec := gateway.FaultSpec{Kind: gateway.FaultMaintenance}
		return &injectedError{spec: spec, source: "rule " + d.Source}
	}
	if d.Fault == nil {
		return nil
	}
	if !d.Fault.DoesWork() {
		return &injectedError{spec: *d.Fault, source: "rule " + d.Source}
	}
	exchangeOf(c).WorkFault = &injectedError{spec: *d.Fault, source: "rule " + d.Source}
	return nil
}

// openMaintenance queues a maintenance window from now: the admin API's within
// MaxFaults, a rule's as one window per rule (faultQueue.window).
func (s *Server) openMaintenance(m gateway.Maintenance, merchant, source string) (Fault, error) {
	now := s.store.Now()
	w := Fault{FaultSpec: gateway.FaultSpec{Kind: gateway.FaultMaintenance}, Endpoints: m.Endpoints,
		Merchant: merchant, Source: source, CreatedAt: now.UTC(), Until: now.Add(time.Duration(m.Duration)).UTC()}
	f, added, err := w, true, error(nil)
	if source == "api" {
		f, err = s.faults.add(w)
	} else {
		f, added = s.faults.window(w)
	}
	if err != nil {
		return Fault{}, err
	}
	if !added {
		// A rule's window extended by one more matched request: a save like a hit's,
		// never a write on the request's path.
		s.faultHit()
		return f, nil
	}
	s.saveFaults()
	s.log.Info("maintenance window opened", "endpoints", m.Endpoints, "until", f.Until, "by", source)
	return f, nil
}

// note records the fault for the journal and the log.
func (s *Server) note(c echo.Context, spec gateway.FaultSpec, source string) {
	exchangeOf(c).FaultNote = "injected: " + spec.String() + " (" + source + ")"
	s.metrics.faultInjected(string(spec.Kind))
}

// applyFault does a fault that stops the request before its work.
func (s *Server) applyFault(c echo.Context, spec gateway.FaultSpec, source string) error {
	s.note(c, spec, source)
	switch spec.Kind {
	case gateway.FaultMessage:
		return gateway.Refuse(spec.Message)
	case gateway.FaultMaintenance:
		e, _ := gateway.ParseEndpoint(c.Path())
		if e == gateway.EndpointWithdrawOrders {
			return gateway.Refuse(gateway.MsgBankMaintenance)
		}
		c.Response().Header().Set("Retry-After", "60")
		return s.errorAnswer(c, gateway.FaultSpec{Kind: gateway.FaultStatus, Status: http.StatusServiceUnavailable, Body: gateway.BodyHTML})
	case gateway.FaultHang:
		s.hang(c, time.Duration(spec.Duration))
		return nil
	case gateway.FaultReset:
		return s.reset(c)
	}
	return s.errorAnswer(c, spec)
}

// errorAnswer writes a status fault's page.
func (s *Server) errorAnswer(c echo.Context, spec gateway.FaultSpec) error {
	ct, body := gateway.ErrorPage(spec.Status, spec.Body)
	exchangeOf(c).Message = "injected " + strconv.Itoa(spec.Status)
	if spec.Status == http.StatusTooManyRequests || spec.Status == http.StatusServiceUnavailable {
		if c.Response().Header().Get("Retry-After") == "" {
			c.Response().Header().Set("Retry-After", "1")
		}
	}
	if ct == "" {
		return c.NoContent(spec.Status)
	}
	return c.Blob(spec.Status, ct, body)
}

// hang holds the request without answering until the client gives up, d passes or
// the sandbox stops. The body is read to its end first: only then does net/http
// watch the connection and cancel the request's context when the client closes it,
// so a client's timeout frees the handler at once.
func (s *Server) hang(c echo.Context, d time.Duration) {
	_, _ = io.Copy(io.Discard, c.Request().Body)
	exchangeOf(c).Message = "injected hang"
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-c.Request().Context().Done():
		exchangeOf(c).Message = "injected hang: the client gave up"
	case <-s.stopping:
	case <-t.C:
	}
	// Whatever ended it, the connection is closed without an answer.
	_ = s.reset(c)
}

// reset closes the connection without an answer: a TCP RST (SO_LINGER 0), as a
// crashed upstream or a firewall gives.
func (s *Server) reset(c echo.Context) error {
	if x := exchangeOf(c); x.Message == "" {
		x.Message = "injected reset"
	}
	conn, _, err := http.NewResponseController(c.Response().Writer).Hijack()
	if err != nil {
		return err
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	c.Response().Committed = true // nothing more may be written
	return conn.Close()
}

// alterAnswer sends the held-back answer of a request that did its work as the
// fault says: dripped, broken, or lost.
func (s *Server) alterAnswer(c echo.Context, bw *bufferedWriter, spec gateway.FaultSpec, source string) error {
	s.note(c, spec, source)
	switch spec.Kind {
	case gateway.FaultSlow:
		return s.drip(c, bw, time.Duration(spec.Duration))
	case gateway.FaultMalformed:
		bw.body = *bytes.NewBuffer(gateway.Malform(bw.body.Bytes(), spec.Malformed))
		return bw.flush()
	case gateway.FaultLostAnswer:
		if spec.Then == gateway.ThenReset {
			return s.reset(c)
		}
		resetResponse(c)
		return s.errorAnswer(c, spec)
	}
	return bw.flush()
}

// dripSteps is how many pieces a slow answer is sent in.
const dripSteps = 20

// drip sends the held-back answer over d: headers at once (with the length, so the
// client knows more is coming), then the body in pieces.
func (s *Server) drip(c echo.Context, bw *bufferedWriter, d time.Duration) error {
	body := bw.body.Bytes()
	w := bw.ResponseWriter
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(bw.code)
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	step := max(1, (len(body)+dripSteps-1)/dripSteps)
	tick := time.NewTicker(max(time.Millisecond, d/time.Duration(dripSteps)))
	defer tick.Stop()
	for len(body) > 0 {
		select {
		case <-tick.C:
		case <-c.Request().Context().Done():
			return nil
		case <-s.stopping:
			return nil
		}
		n := min(step, len(body))
		if _, err := w.Write(body[:n]); err != nil {
			return nil
		}
		_ = rc.Flush()
		body = body[n:]
	}
	return nil
}

// resetResponse forgets the held-back answer that Echo counts as written, so another
// can be written in its place.
func resetResponse(c echo.Context) {
	r := c.Response()
	id := r.Header().Get(echo.HeaderXRequestID)
	clear(r.Header())
	if id != "" {
		r.Header().Set(echo.HeaderXRequestID, id)
	}
	r.Committed, r.Size, r.Status = false, 0, http.StatusOK
}

// bufferedWriter holds an answer back until the fault middleware decides what the
// client gets.
type bufferedWriter struct {
	http.ResponseWriter
	code int
	body bytes.Buffer
}

func (b *bufferedWriter) WriteHeader(code int) { b.code = code }

func (b *bufferedWriter) Write(p []byte) (int, error) { return b.body.Write(p) }

// Unwrap lets http.ResponseController reach the connection (reset hijacks it).
func (b *bufferedWriter) Unwrap() http.ResponseWriter { return b.ResponseWriter }

// flush sends the held answer unchanged.
func (b *bufferedWriter) flush() error {
	b.ResponseWriter.WriteHeader(b.code)
	_, err := b.ResponseWriter.Write(b.body.Bytes())
	return err
}

// parseFault reads POST /sandbox/api/faults.
func (s *Server) parseFault(c echo.Context) (Fault, error) {
	f, err := adminFields(c)
	if err != nil {
		return Fault{}, err
	}
	bad := func(msg string) (Fault, error) { return Fault{}, fail(http.StatusBadRequest, msg) }
	out := Fault{Source: "api", CreatedAt: s.store.Now().UTC(), Count: 1}
	out.Kind = gateway.FaultKind(f.Get("kind"))
	if out.Endpoints, err = parseEndpoints(f["endpoint"]); err != nil {
		return bad(err.Error())
	}
	if out.Merchant, err = s.merchantNamed(f.Get("merchant")); err != nil {
		return Fault{}, err
	}
	for k := range f {
		if field, ok := strings.CutPrefix(k, "match."); ok && field != "" {
			switch {
			case len(out.Match) >= maxFaultMatches:
				return bad(fmt.Sprintf("at most %d match.<field> patterns are allowed", maxFaultMatches))
			case len(field) > maxMatchFieldBytes:
				return bad(fmt.Sprintf("match.<field>: a field name of %d bytes; at most %d are allowed", len(field), maxMatchFieldBytes))
			case len(f.Get(k)) > maxMatchPatternBytes:
				return bad(fmt.Sprintf("match.%s: a pattern of %d bytes; at most %d are allowed", field, len(f.Get(k)), maxMatchPatternBytes))
			}
			if _, err := path.Match(f.Get(k), ""); err != nil {
				return bad("match." + field + ": bad pattern " + strconv.Quote(f.Get(k)))
			}
			if out.Match == nil {
				out.Match = map[string]string{}
			}
			out.Match[field] = f.Get(k)
		}
	}
	if err := parseFaultNumbers(f.Get, &out); err != nil {
		return bad(err.Error())
	}
	out.Body, out.Then, out.Message, out.Malformed = f.Get("body"), f.Get("then"), f.Get("message"), f.Get("malformed")
	if out.Kind == gateway.FaultMaintenance {
		return bad("a maintenance window is POST /sandbox/api/maintenance")
	}
	if err := out.Normalize(); err != nil {
		return bad(strings.TrimPrefix(err.Error(), gateway.ErrBadFault.Error()+": "))
	}
	return out, nil
}

// parseFaultNumbers reads count, probability, status and duration.
func parseFaultNumbers(get func(string) string, out *Fault) error {
	if v := get("probability"); v != "" {
		p, err := strconv.ParseFloat(v, 64)
		// Written so that NaN fails too: it compares false with everything, was once
		// queued, hit every request and made every save and GET /faults fail.
		if err != nil || !(p > 0 && p <= 1) {
			return fmt.Errorf("probability must be a number above 0 and at most 1, not %q", v)
		}
		out.Probability, out.Count = p, 0 // with a probability, no count unless given
	}
	if v := get("count"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return fmt.Errorf("count must be a whole number (0: no limit), not %q", v)
		}
		out.Count = n
	}
	if v := get("status"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("status must be an HTTP status such as 502, not %q", v)
		}
		out.Status = n
	}
	if v := get("duration"); v != "" {
		d, err := parseDuration(v)
		if err != nil {
			return fmt.Errorf("duration must be a duration such as 3s or 2m, not %q", v)
		}
		out.Duration = gateway.Duration(d)
	}
	return nil
}

// parseEndpoints reads endpoint fields: names or paths, repeated or comma-separated;
// none (or "*") is every endpoint.
func parseEndpoints(vals []string) ([]gateway.Endpoint, error) {
	var out []gateway.Endpoint
	for _, v := range vals {
		for _, name := range strings.Split(v, ",") {
			name = strings.TrimSpace(name)
			if name == "" || name == "*" {
				continue
			}
			e, ok := gateway.ParseEndpoint(name)
			if !ok {
				return nil, fmt.Errorf("endpoint %q is not a vendor endpoint (%s)", name, gateway.OneOf(gateway.Endpoints()))
			}
			if !slices.Contains(out, e) {
				out = append(out, e)
			}
		}
	}
	return out, nil
}

func (s *Server) handleAddFault(c echo.Context) error {
	f, err := s.parseFault(c)
	if err != nil {
		return err
	}
	stored, err := s.faults.add(f)
	if err != nil {
		return err
	}
	s.saveFaults()
	s.log.Info("fault queued", "id", stored.ID, "fault", stored.String(), "endpoints", stored.Endpoints, "count", stored.Count, "probability", stored.Probability)
	return c.JSON(http.StatusCreated, stored)
}

func (s *Server) handleListFaults(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]any{"faults": s.faults.list(s.store.Now())})
}

func (s *Server) handleClearFaults(c echo.Context) error {
	var id int64
	if p := c.Param("id"); p != "" {
		n, err := strconv.ParseInt(p, 10, 64)
		if err != nil || n <= 0 {
			return fail(http.StatusBadRequest, "fault id must be a positive number")
		}
		id = n
	}
	if !s.faults.remove(id, s.store.Now()) && id != 0 {
		return fail(http.StatusNotFound, "no fault "+strconv.FormatInt(id, 10))
	}
	s.saveFaults()
	return c.JSON(http.StatusOK, map[string]any{"faults": s.faults.list(s.store.Now())})
}

// handleAddMaintenance is POST /sandbox/api/maintenance: endpoint (default
// withdraw_orders), duration or until, optional merchant.
func (s *Server) handleAddMaintenance(c echo.Context) error {
	f, err := adminFields(c)
	if err != nil {
		return err
	}
	var m gateway.Maintenance
	if m.Endpoints, err = parseEndpoints(f["endpoint"]); err != nil {
		return fail(http.StatusBadRequest, err.Error())
	}
	switch d, u := f.Get("duration"), f.Get("until"); {
	case d != "" && u != "":
		return fail(http.StatusBadRequest, "give duration or until, not both")
	case d != "":
		v, err := parseDuration(d)
		if err != nil {
			return fail(http.StatusBadRequest, "duration must be a duration such as 10m, not "+strconv.Quote(d))
		}
		m.Duration = gateway.Duration(v)
	case u != "":
		t, err := time.Parse(time.RFC3339Nano, u)
		if err != nil {
			return fail(http.StatusBadRequest, "until must be an RFC 3339 time, not "+strconv.Quote(u))
		}
		m.Duration = gateway.Duration(t.Sub(s.store.Now()))
	}
	if err := m.Normalize(); err != nil {
		return fail(http.StatusBadRequest, strings.TrimPrefix(err.Error(), gateway.ErrBadFault.Error()+": "))
	}
	merchant, err := s.merchantNamed(f.Get("merchant"))
	if err != nil {
		return err
	}
	w, err := s.openMaintenance(m, merchant, "api")
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, w)
}
