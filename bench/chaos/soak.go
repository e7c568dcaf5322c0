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

// trialSoak: mixed load at a bounded rate, with a dashboard polling the admin lists.
func trialSoak(ctx context.Context, t *T) []Row {
	dur := 60 * time.Second
	if t.Env.Quick {
		dur = 20 * time.Second
	}
	const rate = 150 // requests per second, all workers together
	data := filepath.Join(t.Env.Tmp, "soak.db")
	sb, err := Start(ctx, t.Env, Opts{Data: data})
	if err != nil {
		return []Row{{Measured: "server start", Figure: err.Error(), Goal: "starts", Result: "FAIL"}}
	}
	defer sb.Stop()
	token, err := auth(ctx, sb.URL, defaultMerchant)
	if err != nil {
		return []Row{{Measured: "auth", Figure: err.Error(), Goal: "-", Result: "FAIL"}}
	}
	// Warm up for a second, then take the starting figures.
	for i := 0; i < 20; i++ {
		deposit(ctx, sb.URL, token, fmt.Sprintf("WARM-%d", i), "w@example.com")
	}
	time.Sleep(time.Second)
	rss0 := sb.RSS()
	size0, disk0 := fileSize(data)
	runCtx, stop := context.WithTimeout(ctx, dur)
	defer stop()
	var (
		reqs, errs, bad, created atomic.Int64
		mu                       sync.Mutex
		ids                      []string
		tok                      = token
	)
	tick := time.NewTicker(time.Second / rate)
	defer tick.Stop()
	jobs := make(chan struct{})
	go func() {
		defer close(jobs)
		for {
			select {
			case <-runCtx.Done():
				return
			case <-tick.C:
				select {
				case jobs <- struct{}{}:
				default: // workers busy: the rate is a ceiling, not a backlog
				}
			}
		}
	}()
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(7, uint64(w)))
			i := 0
			for range jobs {
				i++
				reqs.Add(1)
				var ok bool
				var err error
				switch x := r.IntN(100); {
				case x < 3:
					var nt string
					if nt, err = auth(runCtx, sb.URL, defaultMerchant); err == nil {
						mu.Lock()
						tok = nt
						mu.Unlock()
						ok = true
					}
				case x < 50:
					id := fmt.Sprintf("S%d-%d", w, i)
					email := "soak@example.com"
					if x%4 == 0 {
						email = "success@example.com"
					}
					mu.Lock()
					tk := tok
					mu.Unlock()
					if ok, err = deposit(runCtx, sb.URL, tk, id, email); ok {
						created.Add(1)
						mu.Lock()
						ids = append(ids, id)
						mu.Unlock()
					}
				case x < 85:
					mu.Lock()
					id := "none"
					if len(ids) > 0 {
						id = ids[r.IntN(len(ids))]
					}
					mu.Unlock()
					var found bool
					found, _, err = status(runCtx, sb.URL, defaultMerchant.User, "deposit", id)
					ok = found || id == "none"
				default:
					acct := "1234567890"
					if x%2 == 0 {
						acct = "4000000001"
					}
					mu.Lock()
					tk := tok
					mu.Unlock()
					if ok, err = withdraw(runCtx, sb.URL, tk, fmt.Sprintf("SW%d-%d", w, i), "2", acct); ok {
						created.Add(1)
					}
				}
				if err != nil && runCtx.Err() == nil {
					errs.Add(1)
				} else if !ok && runCtx.Err() == nil {
					bad.Add(1)
				}
			}
		}()
	}
	// The open dashboard: its lists, once a second.
	var polls, pollErrs atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		pt := time.NewTicker(time.Second)
		defer pt.Stop()
		for {
			select {
			case <-runCtx.Done():
				return
			case <-pt.C:
			}
			for _, p := range []string{"/sandbox/api/orders?limit=50", "/sandbox/api/journal?limit=50", "/sandbox/api/callbacks?limit=50", "/sandbox/api/balances"} {
				polls.Add(1)
				if code, _, err := get(runCtx, sb.URL+p); (err != nil || code != 200) && runCtx.Err() == nil {
					pollErrs.Add(1)
				}
			}
		}
	}()
	var peakV atomic.Int64
	go func() {
		for runCtx.Err() == nil {
			if r := sb.RSS(); r > peakV.Load() {
				peakV.Store(r)
			}
			time.Sleep(500 * time.Millisecond)
		}
	}()
	<-runCtx.Done()
	wg.Wait()
	alive := sb.Alive()
	peak := peakV.Load()
	// Let the store settle (the last withdrawals complete after withdrawal_delay).
	time.Sleep(500 * time.Millisecond)
	rss1 := sb.RSS()
	size1, disk1 := fileSize(data)
	_, _, _ = post(ctx, sb.URL+"/merchant/check_status", url.Values{"username": {"vpay88-test"}, "id": {"x"}})
	n := created.Load()
	per := func(d int64) string {
		if n == 0 {
			return "-"
		}
		return mb(d * 100000 / n)
	}
	t.Logf("%.0f s at <= %d req/s: %d requests, %d orders created, %d transport errors, %d refused; %d dashboard polls (%d failed); VmRSS %s → %s (peak %s); file %s → %s apparent, %s → %s on disk",
		dur.Seconds(), rate, reqs.Load(), n, errs.Load(), bad.Load(), polls.Load(), pollErrs.Load(), mb(rss0), mb(rss1), mb(peak), mb(size0), mb(size1), mb(disk0), mb(disk1))
	return []Row{
		{Measured: fmt.Sprintf("VmRSS start → end, %.0f s mixed load", dur.Seconds()), Figure: fmt.Sprintf("%s → %s (peak %s)", mb(rss0), mb(rss1), mb(peak)),
			Goal: "end < 64 MB", Result: pass(rss1 > 0 && rss1 < 64<<20)},
		{Measured: fmt.Sprintf("data file growth for %d orders, per 100k orders", n), Figure: fmt.Sprintf("%s → %s; %s per 100k (on disk %s per 100k)", mb(size0), mb(size1), per(size1-size0), per(disk1-disk0)),
			Goal: "-", Result: "info"},
		{Measured: "errors during the soak (transport, refused, dashboard)", Figure: fmt.Sprintf("%d, %d, %d; alive %v", errs.Load(), bad.Load(), pollErrs.Load(), alive),
			Goal: "0, 0, 0; alive", Result: pass(errs.Load() == 0 && bad.Load() == 0 && pollErrs.Load() == 0 && alive)},
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
