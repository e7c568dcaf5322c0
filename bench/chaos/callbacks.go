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
		return []Row{{Measured: "receiver", Figure: err.Error(), Goal: "-", Result: "FAIL"}}
	}
	defer recv.Close()
	recv.FailFirst = func(id string) bool {
		h := fnv.New32a()
		h.Write([]byte(id))
		return h.Sum32()%4 == 0
	}
	data := filepath.Join(t.Env.Tmp, "callbacks.db")
	opts := Opts{Data: data, CallbackURL: recv.URL, FastRetries: true}
	sb, err := Start(ctx, t.Env, opts)
	if err != nil {
		return []Row{{Measured: "server start", Figure: err.Error(), Goal: "starts", Result: "FAIL"}}
	}
	id := func(i int) string { return fmt.Sprintf("CB-%05d", i) }
	attempted := make([]bool, n)
	var next atomic.Int64
	var ackedN atomic.Int64
	// create issues ids from next until n or until stop() says so.
	create := func(base string, stopAt int64) {
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
				for ctx.Err() == nil && ackedN.Load() < stopAt {
					i := int(next.Add(1) - 1)
					if i >= n {
						return
					}
					attempted[i] = true
					if ok, _ := deposit(ctx, base, token, id(i), "success@example.com"); ok {
						ackedN.Add(1)
					}
				}
			}()
		}
		wg.Wait()
	}
	// First half, then kill -9 while the outbox still works on them.
	half := int64(n / 2)
	done := make(chan struct{})
	go func() { create(sb.URL, half); close(done) }()
wait:
	for ctx.Err() == nil && ackedN.Load() < half {
		select {
		case <-done:
			break wait
		case <-time.After(2 * time.Millisecond):
		}
	}
	pendingAtKill := callbackCount(ctx, sb.URL, "pending")
	sb.Kill9()
	<-done
	t.Logf("killed after %d acknowledged deposits (%d ids sent); outbox had %d pending just before", ackedN.Load(), next.Load(), pendingAtKill)
	sb, err = Start(ctx, t.Env, opts)
	if err != nil {
		return []Row{{Measured: "restart after kill -9", Figure: err.Error(), Goal: "restarts", Result: "FAIL"}}
	}
	defer sb.Stop()
	create(sb.URL, int64(n))
	// Wait (bounded) for the outbox to have nothing pending.
	deadline := time.Now().Add(20 * time.Second)
	pending := -1
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if pending = callbackCount(ctx, sb.URL, "pending"); pending == 0 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	failed := callbackCount(ctx, sb.URL, "failed")
	// Settled: every id the server holds as completed (an answer lost in the crash may
	// still have been committed).
	var mu sync.Mutex
	settled, delivered, dups, lookupErrs := 0, 0, 0, 0
	var undelivered []string
	parallel(ctx, n, 8, func(i int) {
		if !attempted[i] {
			return
		}
		found, st, err := status(ctx, sb.URL, defaultMerchant.User, "deposit", id(i))
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			lookupErrs++
			return
		}
		if !found || st != "completed" {
			return
		}
		settled++
		if d := recv.Delivered(id(i)); d > 0 {
			delivered++
			dups += d - 1
		} else {
			undelivered = append(undelivered, id(i))
		}
	})
	if len(undelivered) > 0 {
		ex := undelivered
		if len(ex) > 5 {
			ex = ex[:5]
		}
		t.Logf("settled but never delivered: %d, e.g. %v", len(undelivered), ex)
	}
	t.Logf("outbox after the wait: %d pending, %d failed (gave up); %d lookups failed", pending, failed, lookupErrs)
	return []Row{
		{Measured: "settled deposits whose callback arrived (kill -9 mid-way, --fast-retries)",
			Figure: fmt.Sprintf("%d of %d delivered; outbox pending %d", delivered, settled, pending),
			Goal:   "all delivered", Result: pass(settled > 0 && delivered == settled && pending == 0 && lookupErrs == 0)},
		{Measured: "duplicate deliveries (at least once allows them)", Figure: fmt.Sprintf("%d", dups), Goal: "-", Result: "info"},
	}
}
