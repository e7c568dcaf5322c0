// Package callback delivers the durable outbox: at-least-once, on a backoff schedule,
// with a per-attempt timeout and bounded concurrency, every attempt recorded in the
// store. A slow, dead or hostile receiver holds at most its per-host share of the
// workers, each for at most the timeout, and never touches the API's request path:
// other receivers' callbacks go on at once.
package callback

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/store"
)

// answerLimit is how much of the merchant's answer an attempt records (the first KiB).
const answerLimit = 1024

// dueLimit bounds one read of the outbox; the store returns only deliveries that can
// start (at most the free workers per merchant), so it is a safety net.
const dueLimit = 4096

// Options configures a Dispatcher.
type Options struct {
	Store       *store.Store
	Client      *http.Client
	Concurrency int
	// PerHost caps the attempts in flight to one receiver (the host:port of the
	// delivery URL), so that a hung receiver holds at most this many of the
	// Concurrency workers; 0 means max(1, Concurrency/4).
	PerHost int
	// Schedule is the delay before each attempt; attempt n+1 waits Schedule[n] after
	// attempt n failed. Its length is the number of attempts of one run: a bulk retry
	// starts a new run (store.Delivery.RunFrom), n counting from there.
	Schedule []time.Duration
	Logger   *slog.Logger
	// OnAttempt observes every attempt (metrics).
	OnAttempt func(a store.Attempt, delivered bool)
}

// Dispatcher sends pending deliveries. Only its loop starts attempts, so the counts
// it reads before a scan can only go down until it starts the next one.
type Dispatcher struct {
	o      Options
	wake   chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex // guards the fields below
	inflight map[uint64]bool
	active   int            // attempts in flight
	hosts    map[string]int // attempts in flight per receiver host:port
	last     string         // merchant of the last delivery started: round-robin resumes after it
	// changed is closed (and replaced) whenever an attempt ends: the test clock's
	// advance waits on it (Changed).
	changed chan struct{}
}

// NewHTTPClient returns the client callbacks are sent with: a per-attempt timeout that
// covers connecting, the headers and the body; no redirects followed (a 3xx is not an
// acknowledgement); bounded response headers.
func NewHTTPClient(timeout time.Duration) *http.Client {
	tr := &http.Transport{
		DialContext:            (&net.Dialer{Timeout: timeout}).DialContext,
		MaxResponseHeaderBytes: 64 << 10,
		MaxIdleConnsPerHost:    16,
		IdleConnTimeout:        30 * time.Second,
		ResponseHeaderTimeout:  timeout,
	}
	return &http.Client{
		Timeout:       timeout,
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// New returns a dispatcher; Start runs it.
func New(o Options) *Dispatcher {
	if o.Concurrency < 1 {
		o.Concurrency = 1
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.PerHost < 1 {
		o.PerHost = max(1, o.Concurrency/4)
	}
	o.PerHost = min(o.PerHost, o.Concurrency)
	if len(o.Schedule) == 0 {
		o.Schedule = []time.Duration{0}
	}
	d := &Dispatcher{o: o, wake: make(chan struct{}, 1), inflight: map[uint64]bool{}, hosts: map[string]int{},
		changed: make(chan struct{})}
	d.ctx, d.cancel = context.WithCancel(context.Background())
	return d
}

// Start runs the dispatch loop; pending deliveries left by a previous run resume.
func (d *Dispatcher) Start() {
	d.wg.Add(1)
	go d.loop()
}

// Close stops dispatching and waits for attempts in flight.
func (d *Dispatcher) Close() {
	d.cancel()
	d.wg.Wait()
}

// Notify tells the dispatcher that new deliveries were stored.
func (d *Dispatcher) Notify() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Changed returns a channel closed when the next attempt ends, so a caller that
// waits for some of the deliveries (the test clock's advance) can check again.
func (d *Dispatcher) Changed() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.changed
}

// PerHost returns the cap on attempts in flight to one receiver.
func (d *Dispatcher) PerHost() int { return d.o.PerHost }

func (d *Dispatcher) loop() {
	defer d.wg.Done()
	for {
		// Every delivery due now that this pass cannot start is waiting for a worker,
		// for its receiver's share, or for its own attempt in flight: each of those
		// ends with a Notify, so the loop needs a timer only for deliveries due later
		// (the minute is a safety net for writes that forget to notify).
		wait := time.Minute
		if next, full := d.startDue(); !full && !next.IsZero() {
			wait = min(wait, max(0, next.Sub(d.o.Store.Now())))
		}
		// The store's clock: a test that freezes it and moves it forward makes every
		// retry due at once, in order, without waiting.
		t := d.o.Store.Clock().NewTimer(wait)
		select {
		case <-d.ctx.Done():
			t.Stop()
			return
		case <-d.wake:
			t.Stop()
		case <-t.C:
		}
	}
}

// startDue starts what it can of the deliveries due now: never more than the free
// workers, never more than PerHost per receiver, taking merchants in turn. It returns
// when the next delivery it did not read is due, and whether every worker is busy.
func (d *Dispatcher) startDue() (next time.Time, full bool) {
	d.mu.Lock()
	free := d.o.Concurrency - d.active
	hosts := make(map[string]int, len(d.hosts))
	for h, n := range d.hosts {
		hosts[h] = n
	}
	inflight := make(map[uint64]bool, len(d.inflight))
	for id := range d.inflight {
		inflight[id] = true
	}
	last := d.last
	d.mu.Unlock()
	if free <= 0 {
		return time.Time{}, true
	}
	// The store reads past what keep refuses: deliveries to a receiver at its share
	// are skipped, not waited for, so they cannot hold back other receivers' behind
	// them. No merchant needs more than the free workers, which bounds the read.
	perMerchant := map[string]int{}
	keep := func(del *store.Delivery) bool {
		h := hostKey(del.URL)
		if inflight[del.ID] || hosts[h] >= d.o.PerHost || perMerchant[del.Merchant] >= free {
			return false
		}
		hosts[h]++
		perMerchant[del.Merchant]++
		return true
	}
	due, next, err := d.o.Store.DueDeliveriesFunc(d.o.Store.Now(), dueLimit, keep)
	if err != nil {
		d.o.Logger.Error("read outbox", "err", err)
	}
	for _, del := range roundRobin(due, last) {
		if !d.start(del) {
			return next, true
		}
	}
	d.mu.Lock()
	full = d.active >= d.o.Concurrency
	d.mu.Unlock()
	return next, full
}

// start runs one attempt on a free worker; false when every worker is busy.
func (d *Dispatcher) start(del *store.Delivery) bool {
	h := hostKey(del.URL)
	if d.ctx.Err() != nil {
		return false // closing: the delivery stays pending for the next run
	}
	d.mu.Lock()
	if d.active >= d.o.Concurrency {
		d.mu.Unlock()
		return false
	}
	if d.inflight[del.ID] || d.hosts[h] >= d.o.PerHost {
		d.mu.Unlock()
		return true // cannot happen (only this loop starts attempts); skip it anyway
	}
	d.inflight[del.ID] = true
	d.active++
	d.hosts[h]++
	d.last = del.Merchant
	d.mu.Unlock()
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		// The due list is a snapshot: an attempt already in flight for the same
		// delivery may have finished since it was read (delivered, or rescheduled).
		// Sending the stale copy would deliver twice and overwrite the attempt log, so
		// only a delivery still pending with the same attempt count is tried.
		if cur, err := d.o.Store.Delivery(del.ID); err == nil && cur.State == store.DeliveryPending && cur.Attempts == del.Attempts {
			d.attempt(cur)
		}
		d.mu.Lock()
		delete(d.inflight, del.ID)
		d.active--
		if d.hosts[h]--; d.hosts[h] <= 0 {
			delete(d.hosts, h)
		}
		close(d.changed)
		d.changed = make(chan struct{})
		d.mu.Unlock()
		d.Notify() // a worker and a share of h are free: deliveries skipped for them can go
	}()
	return true
}

// roundRobin orders due deliveries so that merchants take turns, each merchant's in
// due order, starting with the merchant after last (by name): when workers are
// scarce, one merchant's backlog cannot take every free one pass after pass.
func roundRobin(due []*store.Delivery, last string) []*store.Delivery {
	if len(due) < 2 {
		return due
	}
	byMerchant := map[string][]*store.Delivery{}
	var names []string
	for _, del := range due {
		if _, ok := byMerchant[del.Merchant]; !ok {
			names = append(names, del.Merchant)
		}
		byMerchant[del.Merchant] = append(byMerchant[del.Merchant], del)
	}
	if len(names) == 1 {
		return due
	}
	slices.Sort(names)
	i, _ := slices.BinarySearch(names, last)
	if i < len(names) && names[i] == last {
		i++
	}
	names = append(names[i:], names[:i]...)
	out := make([]*store.Delivery, 0, len(due))
	for round := 0; len(out) < len(due); round++ {
		for _, m := range names {
			if q := byMerchant[m]; round < len(q) {
				out = append(out, q[round])
			}
		}
	}
	return out
}

// hostKey names the receiver of a URL: host and port, the port spelled out so that
// http://h/ and http://h:80/ share one cap. An unparsable URL is its own receiver (its
// attempt fails at once anyway).
func hostKey(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return raw
	}
	if u.Port() != "" {
		return u.Host
	}
	port := "80"
	if u.Scheme == "https" {
		port = "443"
	}
	return net.JoinHostPort(u.Hostname(), port)
}

func (d *Dispatcher) attempt(del *store.Delivery) {
	start, began := d.o.Store.Now(), time.Now() // the sandbox's time; real time for the latency
	a := store.Attempt{DeliveryID: del.ID, N: del.Attempts + 1, Time: start.UTC(), URL: del.URL, Body: del.Body}
	body, ctype := []byte(del.Body), "application/json"
	if del.Form {
		body, ctype = gateway.FormCallbackBody(del.Body), "application/x-www-form-urlencoded"
	}
	req, err := http.NewRequestWithContext(d.ctx, http.MethodPost, del.URL, bytes.NewReader(body))
	var resp *http.Response
	if err == nil {
		req.Header.Set("Content-Type", ctype)
		req.Header.Set("User-Agent", "vpay88-sandbox-callback/1")
		resp, err = d.o.Client.Do(req)
	}
	if err == nil {
		a.Status = resp.StatusCode
		ans, rerr := io.ReadAll(io.LimitReader(resp.Body, answerLimit))
		a.Answer = string(ans)
		_, _ = io.CopyN(io.Discard, resp.Body, 64<<10) // let the connection be reused
		resp.Body.Close()
		if rerr != nil && a.Status/100 != 2 {
			err = rerr
		}
	}
	if err != nil {
		if errors.Is(d.ctx.Err(), context.Canceled) {
			return // shutting down: the delivery stays pending and resumes on restart
		}
		a.Error = err.Error()
	}
	a.LatencyMS = float64(time.Since(began).Microseconds()) / 1000
	next := *del
	next.Attempts = a.N
	delivered := err == nil && a.Status/100 == 2
	switch {
	case delivered:
		next.State, next.NextAt = store.DeliveryDelivered, time.Time{}
	case a.N-del.RunFrom < len(d.o.Schedule):
		// The run counts from the last bulk retry (RunFrom), so a retried delivery
		// gets the whole schedule again.
		next.State, next.NextAt = store.DeliveryPending, d.o.Store.Now().Add(d.o.Schedule[a.N-del.RunFrom]).UTC()
	default:
		next.State, next.NextAt = store.DeliveryFailed, time.Time{}
	}
	if err := d.o.Store.RecordAttempt(&next, a); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			// Its merchant was deleted while the attempt ran: nothing is left to record.
			d.o.Logger.Info("callback attempt of a deleted delivery", "delivery", del.ID, "order", del.OrderID)
			return
		}
		d.o.Logger.Error("record callback attempt", "delivery", del.ID, "err", err)
		return
	}
	if d.o.OnAttempt != nil {
		d.o.OnAttempt(a, delivered)
	}
	d.o.Logger.Info("callback attempt", "delivery", del.ID, "order", del.OrderID, "attempt", a.N,
		"status", a.Status, "latency_ms", a.LatencyMS, "err", a.Error, "state", next.State)
}
