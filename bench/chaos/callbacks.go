package main

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// Receiver is a loopback callback receiver that counts deliveries per order id.
type Receiver struct {
	URL string
	srv *http.Server
	ln  net.Listener

	mu        sync.Mutex
	delivered map[string]int       // 2xx answers given per order id
	first     map[string]time.Time // arrival of the first delivery answered 2xx
	attempts  map[string]int       // every POST per order id
	// FailFirst, when set, answers 500 to the first attempt for the order ids it picks,
	// so retries are in the outbox when the server is killed.
	FailFirst func(id string) bool
}

func NewReceiver() (*Receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &Receiver{URL: "http://" + ln.Addr().String() + "/cb", ln: ln,
		delivered: map[string]int{}, first: map[string]time.Time{}, attempts: map[string]int{}}
	r.srv = &http.Server{Handler: http.HandlerFunc(r.serve), ReadHeaderTimeout: 5 * time.Second}
	go r.srv.Serve(ln)
	return r, nil
}

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	now := time.Now()
	b, _ := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	var cb struct {
		OrderID string `json:"order_id"`
	}
	if json.Unmarshal(b, &cb) != nil || cb.OrderID == "" {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	r.attempts[cb.OrderID]++
	n := r.attempts[cb.OrderID]
	if n == 1 && r.FailFirst != nil && r.FailFirst(cb.OrderID) {
		r.mu.Unlock()
		http.Error(w, "try again", http.StatusInternalServerError)
		return
	}
	r.delivered[cb.OrderID]++
	if _, ok := r.first[cb.OrderID]; !ok {
		r.first[cb.OrderID] = now
	}
	r.mu.Unlock()
	io.WriteString(w, "success")
}

func (r *Receiver) Delivered(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.delivered[id]
}

func (r *Receiver) First(id string) (time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t, ok := r.first[id]
	return t, ok
}

func (r *Receiver) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	r.srv.Shutdown(ctx)
	r.srv.Close()
}

// trialCallbacks: deposits that complete at once (success@), --fast-retries, a receiver
// that fails the first attempt of one order in four; SIGKILL when half are in, restart,
// the other half, then wait for the outbox to drain.
func trialCallbacks(ctx context.Context, t *T) []Row {
	n := 400
	if t.Env.Quick {
		n = 160
	}
	recv, err := NewReceiver()
	if err != nil {
		return failed("receiver", err)
	}
	defer recv.Close()
	recv.FailFirst = func(id string) bool {
		h := fnv.New32a()
		h.Write([]byte(id))
		return h.Sum32()%4 == 0
	}
	opts := Opts{Data: filepath.Join(t.Env.Tmp, "callbacks.db"), CallbackURL: recv.URL, FastRetries: true}
	sb, err := Start(ctx, t.Env, opts)
	if err != nil {
		return startFailed(err)
	}
	c := &cbCreator{n: n, attempted: make([]bool, n)}
	c.firstHalfThenKill(ctx, t, sb)
	sb, err = Start(ctx, t.Env, opts)
	if err != nil {
		return []Row{{Measured: "restart after kill -9", Figure: err.Error(), Goal: "restarts", Result: "FAIL"}}
	}
	defer sb.Stop()
	c.create(ctx, t, sb.URL, int64(n))
	// Wait (bounded) for the outbox to have nothing pending.
	pending := -1
	waitUntil(ctx, 20*time.Second, 200*time.Millisecond, func() bool {
		pending = callbackCount(ctx, sb.URL, "pending")
		return pending == 0
	})
	failedN := callbackCount(ctx, sb.URL, "failed")
	tl := c.tally(ctx, sb.URL, recv)
	if len(tl.undelivered) > 0 {
		ex := tl.undelivered
		if len(ex) > 5 {
			ex = ex[:5]
		}
		t.Logf("settled but never delivered: %d, e.g. %v", len(tl.undelivered), ex)
	}
	t.Logf("outbox after the wait: %d pending, %d failed (gave up); %d lookups failed", pending, failedN, tl.lookupErrs)
	return []Row{
		{Measured: "settled deposits whose callback arrived (kill -9 mid-way, --fast-retries)",
			Figure: fmt.Sprintf("%d of %d delivered; outbox pending %d", tl.delivered, tl.settled, pending),
			Goal:   "all delivered", Result: pass(tl.settled > 0 && tl.delivered == tl.settled && pending == 0 && tl.lookupErrs == 0)},
		{Measured: "duplicate deliveries (at least once allows them)", Figure: fmt.Sprintf("%d", tl.dups), Goal: "-", Result: "info"},
	}
}

// cbCreator creates the trial's deposits CB-00000… across the two processes.
type cbCreator struct {
	n         int
	attempted []bool // the ids sent (an answer lost in the crash may still be committed)
	next      atomic.Int64
	ackedN    atomic.Int64
}

func cbID(i int) string { return fmt.Sprintf("CB-%05d", i) }

// create issues ids from next until n, or until stopAt are acknowledged.
func (c *cbCreator) create(ctx context.Context, t *T, base string, stopAt int64) {
	token, err := auth(ctx, base, defaultMerchant)
	if err != nil {
		t.Logf("auth: %v", err)
		return
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil && c.ackedN.Load() < stopAt {
				i := int(c.next.Add(1) - 1)
				if i >= c.n {
					return
				}
				c.attempted[i] = true
				if ok, _ := deposit(ctx, base, token, cbID(i), "success@example.com"); ok {
					c.ackedN.Add(1)
				}
			}
		}()
	}
	wg.Wait()
}

// firstHalfThenKill creates the first half, then kill -9 while the outbox still works
// on them.
func (c *cbCreator) firstHalfThenKill(ctx context.Context, t *T, sb *Sandbox) {
	half := int64(c.n / 2)
	done := make(chan struct{})
	go func() { c.create(ctx, t, sb.URL, half); close(done) }()
wait:
	for ctx.Err() == nil && c.ackedN.Load() < half {
		select {
		case <-done:
			break wait
		case <-time.After(2 * time.Millisecond):
		}
	}
	pendingAtKill := callbackCount(ctx, sb.URL, "pending")
	sb.Kill9()
	<-done
	t.Logf("killed after %d acknowledged deposits (%d ids sent); outbox had %d pending just before", c.ackedN.Load(), c.next.Load(), pendingAtKill)
}

// cbTally is what the receiver got of the settled deposits.
type cbTally struct {
	settled, delivered, dups, lookupErrs int
	undelivered                          []string
}

// tally looks up every id sent. Settled: every id the server holds as completed (an
// answer lost in the crash may still have been committed).
func (c *cbCreator) tally(ctx context.Context, base string, recv *Receiver) cbTally {
	var mu sync.Mutex
	var tl cbTally
	parallel(ctx, c.n, 8, func(i int) {
		if !c.attempted[i] {
			return
		}
		found, st, err := status(ctx, base, defaultMerchant.User, "deposit", cbID(i))
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			tl.lookupErrs++
			return
		}
		if !found || st != "completed" {
			return
		}
		tl.settled++
		if d := recv.Delivered(cbID(i)); d > 0 {
			tl.delivered++
			tl.dups += d - 1
		} else {
			tl.undelivered = append(tl.undelivered, cbID(i))
		}
	})
	return tl
}
