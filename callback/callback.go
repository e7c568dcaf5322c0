// Package callback delivers the durable outbox: at-least-once, on a backoff schedule,
// with a per-attempt timeout and bounded concurrency, every attempt recorded in the
// store. A slow, dead or hostile receiver holds one worker for at most the timeout and
// never touches the API's request path.
package callback

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/vpay88/vpay88-sandbox/store"
)

// answerLimit is how much of the merchant's answer an attempt records (the first KiB).
const answerLimit = 1024

// Options configures a Dispatcher.
type Options struct {
	Store       *store.Store
	Client      *http.Client
	Concurrency int
	// Schedule is the delay before each attempt; attempt n+1 waits Schedule[n] after
	// attempt n failed. Its length is the number of attempts.
	Schedule []time.Duration
	Logger   *slog.Logger
	// OnAttempt observes every attempt (metrics).
	OnAttempt func(a store.Attempt, delivered bool)
}

// Dispatcher sends pending deliveries.
type Dispatcher struct {
	o        Options
	wake     chan struct{}
	sem      chan struct{}
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	mu       sync.Mutex
	inflight map[uint64]bool
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
	if len(o.Schedule) == 0 {
		o.Schedule = []time.Duration{0}
	}
	d := &Dispatcher{o: o, wake: make(chan struct{}, 1), sem: make(chan struct{}, o.Concurrency), inflight: map[uint64]bool{}}
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

// Schedule returns the retry schedule in force.
func (d *Dispatcher) Schedule() []time.Duration { return d.o.Schedule }

func (d *Dispatcher) loop() {
	defer d.wg.Done()
	for {
		now := d.o.Store.Now()
		due, err := d.o.Store.DueDeliveries(now, 256)
		if err != nil {
			d.o.Logger.Error("read outbox", "err", err)
		}
		started := 0
		for _, del := range due {
			d.mu.Lock()
			busy := d.inflight[del.ID]
			if !busy {
				d.inflight[del.ID] = true
			}
			d.mu.Unlock()
			if busy {
				continue
			}
			select {
			case d.sem <- struct{}{}:
			case <-d.ctx.Done():
				return
			}
			started++
			d.wg.Add(1)
			go func(del *store.Delivery) {
				defer d.wg.Done()
				defer func() { <-d.sem }()
				// The due list is a snapshot: while this loop waited for a free worker,
				// an attempt already in flight for the same delivery may have finished
				// (delivered, or rescheduled). Sending the stale copy would deliver twice
				// and overwrite the attempt log, so only a delivery still pending with
				// the same attempt count is tried.
				if cur, err := d.o.Store.Delivery(del.ID); err == nil && cur.State == store.DeliveryPending && cur.Attempts == del.Attempts {
					d.attempt(cur)
				}
				d.mu.Lock()
				delete(d.inflight, del.ID)
				d.mu.Unlock()
				d.Notify()
			}(del)
		}
		wait := time.Minute
		if at, ok := d.o.Store.NextDelivery(); ok {
			wait = time.Until(at)
			if wait <= 0 && started == 0 {
				// Only attempts in flight are due: each one wakes the loop when done;
				// the short poll keeps other deliveries due meanwhile on time.
				wait = 100 * time.Millisecond
			} else if wait < 0 {
				wait = 0
			}
		}
		t := time.NewTimer(wait)
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

func (d *Dispatcher) attempt(del *store.Delivery) {
	start := d.o.Store.Now()
	a := store.Attempt{DeliveryID: del.ID, N: del.Attempts + 1, Time: start.UTC(), URL: del.URL, Body: del.Body}
	req, err := http.NewRequestWithContext(d.ctx, http.MethodPost, del.URL, bytes.NewReader(del.Body))
	var resp *http.Response
	if err == nil {
		req.Header.Set("Content-Type", "application/json")
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
	a.LatencyMS = float64(d.o.Store.Now().Sub(start).Microseconds()) / 1000
	next := *del
	next.Attempts = a.N
	delivered := err == nil && a.Status/100 == 2
	switch {
	case delivered:
		next.State, next.NextAt = store.DeliveryDelivered, time.Time{}
	case a.N < len(d.o.Schedule):
		next.State, next.NextAt = store.DeliveryPending, d.o.Store.Now().Add(d.o.Schedule[a.N]).UTC()
	default:
		next.State, next.NextAt = store.DeliveryFailed, time.Time{}
	}
	if err := d.o.Store.RecordAttempt(&next, a); err != nil {
		d.o.Logger.Error("record callback attempt", "delivery", del.ID, "err", err)
		return
	}
	if d.o.OnAttempt != nil {
		d.o.OnAttempt(a, delivered)
	}
	d.o.Logger.Info("callback attempt", "delivery", del.ID, "order", del.OrderID, "attempt", a.N,
		"status", a.Status, "latency_ms", a.LatencyMS, "err", a.Error, "state", next.State)
}
