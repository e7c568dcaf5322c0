package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// soakRate is the ceiling of requests per second, all workers together.
const soakRate = 150

// trialSoak: mixed load at a bounded rate, with a dashboard polling the admin lists.
func trialSoak(ctx context.Context, t *T) []Row {
	dur := 60 * time.Second
	if t.Env.Quick {
		dur = 20 * time.Second
	}
	data := filepath.Join(t.Env.Tmp, "soak.db")
	sb, token, rows := startAuthed(ctx, t.Env, Opts{Data: data})
	if rows != nil {
		return rows
	}
	defer sb.Stop()
	// Warm up for a second, then take the starting figures.
	for i := 0; i < 20; i++ {
		deposit(ctx, sb.URL, token, fmt.Sprintf("WARM-%d", i), "w@example.com")
	}
	time.Sleep(time.Second)
	rss0 := sb.RSS()
	size0, disk0 := fileSize(data)
	runCtx, stop := context.WithTimeout(ctx, dur)
	defer stop()
	sk := &soak{sb: sb, tok: token}
	sk.run(runCtx)
	alive := sb.Alive()
	peak := sk.peak.Load()
	// Let the store settle (the last withdrawals complete after withdrawal_delay).
	time.Sleep(500 * time.Millisecond)
	rss1 := sb.RSS()
	size1, disk1 := fileSize(data)
	_, _, _ = post(ctx, sb.URL+"/merchant/check_status", url.Values{"username": {"vpay88-test"}, "id": {"x"}})
	n := sk.created.Load()
	per := func(d int64) string {
		if n == 0 {
			return "-"
		}
		return mb(d * 100000 / n)
	}
	errs, bad, pollErrs := sk.errs.Load(), sk.bad.Load(), sk.pollErrs.Load()
	t.Logf("%.0f s at <= %d req/s: %d requests, %d orders created, %d transport errors, %d refused; %d dashboard polls (%d failed); VmRSS %s → %s (peak %s); file %s → %s apparent, %s → %s on disk",
		dur.Seconds(), soakRate, sk.reqs.Load(), n, errs, bad, sk.polls.Load(), pollErrs, mb(rss0), mb(rss1), mb(peak), mb(size0), mb(size1), mb(disk0), mb(disk1))
	return []Row{
		{Measured: fmt.Sprintf("VmRSS start → end, %.0f s mixed load", dur.Seconds()), Figure: fmt.Sprintf("%s → %s (peak %s)", mb(rss0), mb(rss1), mb(peak)),
			Goal: "end < 64 MB", Result: pass(rss1 > 0 && rss1 < 64<<20)},
		{Measured: fmt.Sprintf("data file growth for %d orders, per 100k orders", n), Figure: fmt.Sprintf("%s → %s; %s per 100k (on disk %s per 100k)", mb(size0), mb(size1), per(size1-size0), per(disk1-disk0)),
			Goal: "-", Result: "info"},
		{Measured: "errors during the soak (transport, refused, dashboard)", Figure: fmt.Sprintf("%d, %d, %d; alive %v", errs, bad, pollErrs, alive),
			Goal: "0, 0, 0; alive", Result: pass(errs == 0 && bad == 0 && pollErrs == 0 && alive)},
	}
}

// soak is the soak's shared state: the current token, the deposits created so far
// (for lookups) and the counts.
type soak struct {
	sb                       *Sandbox
	mu                       sync.Mutex
	tok                      string
	ids                      []string
	reqs, errs, bad, created atomic.Int64
	polls, pollErrs, peak    atomic.Int64
}

// run runs the workers at the rate ceiling, the dashboard and the RSS watch until ctx
// ends.
func (sk *soak) run(ctx context.Context) {
	jobs := pace(ctx, soakRate)
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sk.worker(ctx, w, jobs)
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		sk.pollDashboard(ctx)
	}()
	go sk.watchPeak(ctx)
	<-ctx.Done()
	wg.Wait()
}

// pace hands out at most rate jobs a second until ctx ends.
func pace(ctx context.Context, rate int) <-chan struct{} {
	jobs := make(chan struct{})
	go func() {
		defer close(jobs)
		tick := time.NewTicker(time.Second / time.Duration(rate))
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				select {
				case jobs <- struct{}{}:
				default: // workers busy: the rate is a ceiling, not a backlog
				}
			}
		}
	}()
	return jobs
}

func (sk *soak) token() string {
	sk.mu.Lock()
	defer sk.mu.Unlock()
	return sk.tok
}

// worker does one request a job: 3% auth, 47% deposits, 35% lookups, 15% withdrawals.
func (sk *soak) worker(ctx context.Context, w int, jobs <-chan struct{}) {
	r := rand.New(rand.NewPCG(7, uint64(w)))
	i := 0
	for range jobs {
		i++
		sk.reqs.Add(1)
		var ok bool
		var err error
		switch x := r.IntN(100); {
		case x < 3:
			ok, err = sk.reauth(ctx)
		case x < 50:
			ok, err = sk.deposit(ctx, fmt.Sprintf("S%d-%d", w, i), x%4 == 0)
		case x < 85:
			ok, err = sk.lookup(ctx, r)
		default:
			acct := "1234567890"
			if x%2 == 0 {
				acct = "4000000001"
			}
			if ok, err = withdraw(ctx, sk.sb.URL, sk.token(), fmt.Sprintf("SW%d-%d", w, i), "2", acct); ok {
				sk.created.Add(1)
			}
		}
		if err != nil && ctx.Err() == nil {
			sk.errs.Add(1)
		} else if !ok && ctx.Err() == nil {
			sk.bad.Add(1)
		}
	}
}

// reauth fetches a new token for everyone.
func (sk *soak) reauth(ctx context.Context) (bool, error) {
	nt, err := auth(ctx, sk.sb.URL, defaultMerchant)
	if err != nil {
		return false, err
	}
	sk.mu.Lock()
	sk.tok = nt
	sk.mu.Unlock()
	return true, nil
}

// deposit creates a deposit, pending or (success) completed at once.
func (sk *soak) deposit(ctx context.Context, id string, success bool) (bool, error) {
	email := "soak@example.com"
	if success {
		email = "success@example.com"
	}
	ok, err := deposit(ctx, sk.sb.URL, sk.token(), id, email)
	if ok {
		sk.created.Add(1)
		sk.mu.Lock()
		sk.ids = append(sk.ids, id)
		sk.mu.Unlock()
	}
	return ok, err
}

// lookup asks the status of a deposit created earlier ("none" before there is one).
func (sk *soak) lookup(ctx context.Context, r *rand.Rand) (bool, error) {
	sk.mu.Lock()
	id := "none"
	if len(sk.ids) > 0 {
		id = sk.ids[r.IntN(len(sk.ids))]
	}
	sk.mu.Unlock()
	found, _, err := status(ctx, sk.sb.URL, defaultMerchant.User, "deposit", id)
	return found || id == "none", err
}

// pollDashboard is the open dashboard: its lists, once a second.
func (sk *soak) pollDashboard(ctx context.Context) {
	pt := time.NewTicker(time.Second)
	defer pt.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-pt.C:
		}
		for _, p := range []string{"/sandbox/api/orders?limit=50", "/sandbox/api/journal?limit=50", "/sandbox/api/callbacks?limit=50", "/sandbox/api/balances"} {
			sk.polls.Add(1)
			if code, _, err := get(ctx, sk.sb.URL+p); (err != nil || code != 200) && ctx.Err() == nil {
				sk.pollErrs.Add(1)
			}
		}
	}
}

// watchPeak keeps the highest VmRSS seen, twice a second.
func (sk *soak) watchPeak(ctx context.Context) {
	for ctx.Err() == nil {
		if r := sk.sb.RSS(); r > sk.peak.Load() {
			sk.peak.Store(r)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// fileSize returns the apparent size and the allocated bytes of a file.
func fileSize(p string) (int64, int64) {
	fi, err := os.Stat(p)
	if err != nil {
		return 0, 0
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return fi.Size(), st.Blocks * 512
	}
	return fi.Size(), fi.Size()
}
