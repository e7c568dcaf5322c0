package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"
)

// trialJournal: 200 check_status requests with a 1 MB id; the request journal keeps
// its last entries in memory, so what it keeps of each decides the resident memory.
func trialJournal(ctx context.Context, t *T) []Row {
	const n = 200
	sb, err := Start(ctx, t.Env, Opts{Data: filepath.Join(t.Env.Tmp, "journal.db")})
	if err != nil {
		return startFailed(err)
	}
	defer sb.Stop()
	for i := 0; i < 20; i++ { // warm up: the first requests map code and pages
		post(ctx, sb.URL+"/merchant/check_status", url.Values{"username": {"vpay88-test"}, "id": {"warm"}})
	}
	time.Sleep(200 * time.Millisecond)
	before := sb.RSS()
	id := strings.Repeat("J", 1000000)
	var errs, non200 atomic.Int64
	t0 := time.Now()
	parallel(ctx, n, 4, func(i int) {
		code, _, err := post(ctx, sb.URL+"/merchant/check_status", url.Values{"username": {"vpay88-test"}, "id": {id}})
		if err != nil {
			errs.Add(1)
		} else if code != 200 {
			non200.Add(1)
		}
	})
	el := time.Since(t0)
	time.Sleep(500 * time.Millisecond)
	after := sb.RSS()
	hwm := procStatus(sb.PID(), "VmHWM")
	// The dashboard's journal view: its answer size.
	size := int64(-1)
	var jcode int
	req, _ := http.NewRequestWithContext(ctx, "GET", sb.URL+"/sandbox/api/journal?limit=50", nil)
	if resp, err := httpc.Do(req); err == nil {
		jcode = resp.StatusCode
		size, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<30))
		resp.Body.Close()
	}
	t.Logf("%d requests in %.1f s (%d transport errors, %d non-200); VmRSS %s before, %s after, peak %s; journal?limit=50 HTTP %d, %d bytes",
		n, el.Seconds(), errs.Load(), non200.Load(), mb(before), mb(after), mb(hwm), jcode, size)
	return []Row{
		{Measured: fmt.Sprintf("VmRSS after %d check_status with a 1 MB id", n), Figure: fmt.Sprintf("%s (before %s, peak %s)", mb(after), mb(before), mb(hwm)),
			Goal: "< 64 MB", Result: pass(after > 0 && after < 64<<20 && errs.Load() == 0)},
		{Measured: "GET /sandbox/api/journal?limit=50 answer size", Figure: fmt.Sprintf("%s (HTTP %d)", mb(size), jcode), Goal: "-", Result: "info"},
	}
}
