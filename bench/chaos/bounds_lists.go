package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// trialBoundsLists reproduces issue 18's finding 10 on a real sandbox: a quiet
// merchant (the configured vpay88-test) with a few MYR orders named LONE-… and their
// ledger entries, then a busy run-time merchant with more than the store's 100,000
// scanned entries of newer SGD orders and ledger entries. Before the fix, the quiet
// merchant's ledger, orders?currency=MYR, orders?prefix=LONE and offset=100000
// answered [] and next null while total said more existed. Each list is paged with
// its next cursor to its end: the goal is a next whenever total says more exist, and
// the union of the pages equal to total (and to what the quiet merchant made).
func trialBoundsLists(ctx context.Context, t *T) []Row {
	// Process durability: 105,000 fsynced commits are not what this part measures.
	env := *t.Env
	env.Durability = "process"
	sb, err := Start(ctx, &env, Opts{Data: filepath.Join(t.Env.Tmp, "lists.db")})
	if err != nil {
		return startFailed(err)
	}
	defer sb.Stop()
	quiet, err := auth(ctx, sb.URL, defaultMerchant)
	if err != nil {
		return failed("auth", err)
	}
	var fives atomic.Int64
	count := func(code int) {
		if code >= 500 {
			fives.Add(1)
		}
	}

	// The quiet merchant: 3 deposits paid at once (ledger credits), 2 left pending.
	made := 0
	for i := 0; i < 5; i++ {
		email := "success@example.com"
		if i >= 3 {
			email = "lone@example.com"
		}
		code, b, err := post(ctx, sb.URL+"/merchant/generate_orders", url.Values{"username": {"john"}, "auth": {quiet},
			"amount": {"100"}, "currency": {"MYR"}, "orderid": {fmt.Sprintf("LONE-%d", i)}, "email": {email}, "phone_number": {"0123456789"}})
		count(code)
		if okAnswer(code, b, err) {
			made++
		}
	}
	quietLedger, _, err := pageAll(ctx, sb.URL+"/sandbox/api/ledger?merchant=vpay88-test", "entries", "seq")
	if err != nil || made != 5 {
		return failed("the quiet merchant's orders", fmt.Errorf("%d of 5 made; ledger: %v", made, err))
	}

	// The busy merchant: a run-time one with SGD only, every deposit paid at once.
	busyUser, busyKey, err := makeMerchant(ctx, sb.URL, `{"username":"busy-team","currencies":["SGD"]}`)
	if err != nil {
		return failed("the busy merchant", err)
	}
	busy, err := auth(ctx, sb.URL, Merchant{User: busyUser, APIKey: busyKey})
	if err != nil {
		return failed("auth busy", err)
	}
	n := 105_000
	var ok, refused, errs atomic.Int64
	var firstRefusal atomic.Value
	t0 := time.Now()
	parallel(ctx, n, 16, func(i int) {
		// Padded ids: each insert lands on the last page of the id index.
		code, b, err := postForm(ctx, sb.URL+"/merchant/generate_orders", fmt.Sprintf(busyForm, busy, i))
		count(code)
		switch {
		case err != nil:
			errs.Add(1)
		case okAnswer(code, b, nil):
			ok.Add(1)
		default:
			if refused.Add(1) == 1 {
				firstRefusal.Store(fmt.Sprintf("HTTP %d %.200s", code, b))
			}
		}
	})
	load := time.Since(t0)
	cpu := cpuSeconds(sb.PID())
	t.Logf("busy merchant %s: %d paid SGD deposits in %.1f s (%.0f/s; the sandbox's CPU %.1f s), %d refused (first: %v), %d transport errors",
		busyUser, ok.Load(), load.Seconds(), float64(ok.Load())/load.Seconds(), cpu, refused.Load(), firstRefusal.Load(), errs.Load())
	if ok.Load() < 100_500 {
		return append(failed("the busy merchant's orders", fmt.Errorf("%d of %d made in %.1f s (%d refused, %d errors)", ok.Load(), n, load.Seconds(), refused.Load(), errs.Load())),
			Row{Measured: "5xx", Figure: strconv.FormatInt(fives.Load(), 10), Goal: "0", Result: pass(fives.Load() == 0)})
	}

	var rows []Row
	var slowest time.Duration
	slowestList := ""
	check := func(name, path, list, key string, want entries) {
		got, st, err := pageAll(ctx, sb.URL+path, list, key)
		count(st.fiveXX)
		if st.slowest > slowest {
			slowest, slowestList = st.slowest, name
		}
		// Complete: every page but the last has a next, the entries are distinct, and
		// as many as total says (and, where known, the very ones expected).
		complete := err == nil && len(got) == max(st.total-st.offset, 0) && st.distinct && !st.earlyEnd
		missing := 0
		for k := range want {
			if _, ok := got[k]; !ok {
				missing++
			}
		}
		complete = complete && missing == 0
		figure := fmt.Sprintf("%d of total %d in %d pages", len(got), st.total, st.pages)
		if st.offset > 0 {
			figure = fmt.Sprintf("%d of total %d past offset %d in %d pages", len(got), st.total, st.offset, st.pages)
		}
		if want != nil {
			figure += fmt.Sprintf(", %d of the quiet merchant's %d missing", missing, len(want))
		}
		if st.earlyEnd {
			figure += "; next null with more to come"
		}
		if err != nil {
			figure += "; " + err.Error()
		}
		t.Logf("%s: %s (first page %d entries, slowest page %s)", name, figure, st.first, st.slowest.Round(time.Millisecond))
		rows = append(rows, Row{Measured: name, Figure: figure, Goal: "union = total, next until the end", Result: pass(complete && st.total > 0)})
	}
	lone := entries{}
	for i := 0; i < 5; i++ {
		lone["deposit/vpay88-test/LONE-"+strconv.Itoa(i)] = nil
	}
	quietMYR := entries{}
	for k, e := range quietLedger {
		if e["currency"] == "MYR" {
			quietMYR[k] = e
		}
	}
	check("quiet merchant's ledger behind 105,000 newer entries", "/sandbox/api/ledger?merchant=vpay88-test&limit=100", "entries", "seq", quietLedger)
	check("ledger?currency=MYR", "/sandbox/api/ledger?currency=MYR&limit=100", "entries", "seq", quietMYR)
	check("orders?currency=MYR", "/sandbox/api/orders?currency=MYR&limit=2", "orders", "", lone)
	check("orders?prefix=LONE", "/sandbox/api/orders?prefix=LONE&limit=2", "orders", "", lone)
	check("orders?merchant=vpay88-test&currency=MYR&offset=1", "/sandbox/api/orders?merchant=vpay88-test&currency=MYR&offset=1&limit=500", "orders", "", nil)
	check("orders?offset=100000", "/sandbox/api/orders?offset=100000&limit=500", "orders", "", nil)

	rss, hwm := sb.RSS(), procStatus(sb.PID(), "VmHWM")
	anon, file := procStatus(sb.PID(), "RssAnon"), procStatus(sb.PID(), "RssFile")
	return append(rows,
		Row{Measured: "slowest page", Figure: fmt.Sprintf("%s (%s)", slowest.Round(time.Millisecond), slowestList), Goal: "-", Result: "info"},
		Row{Measured: "busy merchant's paid deposits (16 clients, --durability process)", Figure: fmt.Sprintf("%d in %.1f s (sandbox CPU %.1f s)", ok.Load(), load.Seconds(), cpu), Goal: "-", Result: "info"},
		Row{Measured: "5xx over the part", Figure: strconv.FormatInt(fives.Load(), 10), Goal: "0", Result: pass(fives.Load() == 0)},
		// The state file is mapped: the pages of 105,000 paid orders that the load and
		// the full scans touched count in VmRSS as RssFile. The private memory is what
		// a list could make grow.
		Row{Measured: "RssAnon at the end (VmRSS, its mapped state file, peak VmRSS)", Figure: fmt.Sprintf("%s (%s, %s, %s)", mb(anon), mb(rss), mb(file), mb(hwm)),
			Goal: "RssAnon < 64 MB", Result: pass(anon > 0 && anon < 64<<20)},
	)
}

// cpuSeconds is the user and system CPU time a process has used (0 if unknown).
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The fields after the command's closing parenthesis: utime and stime are the
	// 12th and 13th, in clock ticks (100 a second on Linux).
	_, rest, _ := strings.Cut(string(b), ") ")
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	s, _ := strconv.ParseFloat(f[12], 64)
	return (u + s) / 100
}

// busyForm is a busy merchant's paid deposit (auth, number), encoded once.
const busyForm = "username=jane&auth=%s&amount=100&currency=SGD&orderid=BUSY-%07d&email=success%%40example.com&phone_number=0123456789"

// postForm posts an encoded form.
func postForm(ctx context.Context, u, form string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return do(req)
}

// makeMerchant makes a run-time merchant (body: its JSON) and returns its username
// and api_key. A merchant without a callback URL has its callbacks stored as dropped,
// so no receiver is needed.
func makeMerchant(ctx context.Context, base, body string) (user, key string, err error) {
	code, b, err := postJSON(ctx, base+"/sandbox/api/merchants", body)
	if err != nil || code != http.StatusCreated {
		return "", "", fmt.Errorf("POST /sandbox/api/merchants: HTTP %d %.200s %v", code, b, err)
	}
	var v struct {
		Username string `json:"username"`
		APIKey   string `json:"api_key"`
	}
	if err := json.Unmarshal(b, &v); err != nil || v.APIKey == "" {
		return "", "", fmt.Errorf("POST /sandbox/api/merchants: %.200s", b)
	}
	return v.Username, v.APIKey, nil
}

// entries are list entries by their key.
type entries map[string]map[string]any

// pageStats is what paging a list to its end found.
type pageStats struct {
	total, pages, first int
	offset              int  // the first page's ?offset=
	distinct            bool // no entry came twice
	earlyEnd            bool // next was null while total said more existed
	slowest             time.Duration
	fiveXX              int // the status of a 5xx page, else 0
}

// pageAll reads a list from its first page to the one whose next is null, passing
// each next as before= (it replaces offset, so offset is dropped from the query after
// the first page). Entries are keyed by idKey, or for orders (idKey "") by kind,
// merchant and order id. At most 400 pages.
func pageAll(ctx context.Context, first, list, idKey string) (entries, pageStats, error) {
	got := entries{}
	st := pageStats{distinct: true}
	u, err := url.Parse(first)
	if err != nil {
		return nil, st, err
	}
	q := u.Query()
	st.offset, _ = strconv.Atoi(q.Get("offset"))
	for st.pages < 400 {
		u.RawQuery = q.Encode()
		t0 := time.Now()
		code, b, err := get(ctx, u.String())
		st.slowest = max(st.slowest, time.Since(t0))
		if err != nil {
			return got, st, err
		}
		if code != http.StatusOK {
			if code >= 500 {
				st.fiveXX = code
			}
			return got, st, fmt.Errorf("page %d: HTTP %d %.200s", st.pages+1, code, b)
		}
		var page map[string]json.RawMessage
		if err := json.Unmarshal(b, &page); err != nil {
			return got, st, err
		}
		var entries []map[string]any
		var next *string
		_ = json.Unmarshal(page[list], &entries)
		_ = json.Unmarshal(page["total"], &st.total)
		_ = json.Unmarshal(page["next"], &next)
		if st.pages == 0 {
			st.first = len(entries)
		}
		st.pages++
		for _, e := range entries {
			k := fmt.Sprint(e[idKey])
			if idKey == "" {
				k = fmt.Sprintf("%v/%v/%v", e["kind"], e["merchant"], e["order_id"])
			}
			if _, seen := got[k]; seen {
				st.distinct = false
			}
			got[k] = e
		}
		if next == nil {
			st.earlyEnd = len(got)+st.offset < st.total
			return got, st, nil
		}
		q.Del("offset")
		q.Set("before", *next)
	}
	return got, st, fmt.Errorf("more than 400 pages")
}
