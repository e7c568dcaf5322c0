package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vpay88/vpay88-sandbox/gateway"
)

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

type ackID struct{ kind, id string }

// trialCrash: 12 clients create deposits and withdrawals; the server is SIGKILLed at a
// random moment, restarted on the same file, and every acknowledged order is looked up.
func trialCrash(ctx context.Context, t *T) []Row {
	crashes, minLoad, maxLoad := 5, 2*time.Second, 5*time.Second
	if t.Env.Quick {
		crashes, minLoad, maxLoad = 2, 1500*time.Millisecond, 3*time.Second
	}
	data := filepath.Join(t.Env.Tmp, "crash.db")
	sb, err := Start(ctx, t.Env, Opts{Data: data})
	if err != nil {
		return startFailed(err)
	}
	c := &crashRun{sb: sb}
	for round := 0; round < crashes && ctx.Err() == nil; round++ {
		token, err := auth(ctx, c.sb.URL, defaultMerchant)
		if err != nil {
			t.Logf("round %d: %v", round+1, err)
			break
		}
		wait := minLoad + time.Duration(rand.Int64N(int64(maxLoad-minLoad)))
		roundAcked, n := c.loadThenKill(ctx, round, token, wait)
		t.Progress("crash %d after %.1f s: %d requests, %d acknowledged", round+1, wait.Seconds(), n, len(roundAcked))
		c.sb, err = Start(ctx, t.Env, Opts{Data: data})
		if err != nil {
			t.Logf("restart after crash %d failed: %v", round+1, err)
			return []Row{
				{Measured: fmt.Sprintf("restarts after kill -9 (%d crashes)", round+1), Figure: "restart failed: " + err.Error(), Goal: "every restart", Result: "FAIL"},
				{Measured: "acknowledged orders lost", Figure: fmt.Sprintf("cannot check %d acknowledged orders", len(c.acked)), Goal: "0 lost", Result: "FAIL"},
			}
		}
		c.restarts++
		missing := c.check(ctx, roundAcked)
		c.lost = append(c.lost, missing...)
		if len(missing) > 0 {
			t.Logf("crash %d: %d of %d acknowledged orders not found after restart, e.g. %s %s", round+1, len(missing), len(roundAcked), missing[0].kind, missing[0].id)
		}
	}
	// Once more at the end: a later crash must not lose what an earlier restart had.
	if ctx.Err() == nil && c.sb.Alive() {
		c.lost = append(c.lost, c.check(ctx, c.acked)...)
	}
	rows := []Row{c.report(t, crashes)}
	if c.sb.Alive() {
		rows = append(rows, ledgerRow(ctx, t, c.sb.URL))
		c.sb.Stop()
	}
	return rows
}

// crashRun is the state of the crash trial across its rounds.
type crashRun struct {
	sb       *Sandbox
	acked    []ackID // every order acknowledged, all rounds
	lost     []ackID // acknowledged but not found after a restart (may repeat)
	restarts int
	unknown  int // lookups that got no answer
	connErrs atomic.Int64
	refused  atomic.Int64
}

// loadThenKill runs the clients for wait, then SIGKILLs the server under them. It
// returns the orders acknowledged in the round and the number of requests.
func (c *crashRun) loadThenKill(ctx context.Context, round int, token string, wait time.Duration) ([]ackID, int64) {
	const clients = 12
	loadCtx, stopLoad := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var n atomic.Int64
	var roundAcked []ackID
	for w := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(round), uint64(w)))
			for i := 0; loadCtx.Err() == nil; i++ {
				a, ok, err := c.order(loadCtx, r, token, fmt.Sprintf("K%d-%d-%d", round, w, i))
				n.Add(1)
				switch {
				case err != nil:
					c.connErrs.Add(1)
				case ok:
					mu.Lock()
					roundAcked = append(roundAcked, a)
					mu.Unlock()
				default:
					c.refused.Add(1)
				}
			}
		}()
	}
	select {
	case <-time.After(wait):
	case <-ctx.Done():
	}
	c.sb.Kill9()
	stopLoad()
	wg.Wait()
	c.acked = append(c.acked, roundAcked...)
	return roundAcked, n.Load()
}

// order creates one order: a withdrawal one time in five, else a deposit.
func (c *crashRun) order(ctx context.Context, r *rand.Rand, token, id string) (ackID, bool, error) {
	if r.IntN(5) == 0 {
		acct := "1234567890" // completes after withdrawal_delay
		if r.IntN(2) == 0 {
			acct = "4000000001" // completes at once
		}
		ok, err := withdraw(ctx, c.sb.URL, token, id, strconv.Itoa(1+r.IntN(20)), acct)
		return ackID{"withdrawal", id}, ok, err
	}
	email := "chaos@example.com" // stays pending
	if r.IntN(3) == 0 {
		email = "success@example.com" // completes at once: a ledger credit
	}
	ok, err := deposit(ctx, c.sb.URL, token, id, email)
	return ackID{"deposit", id}, ok, err
}

// check looks the orders up (three tries each) and returns those not found; lookups
// without an answer are counted in unknown.
func (c *crashRun) check(ctx context.Context, ids []ackID) (missing []ackID) {
	var mu sync.Mutex
	parallel(ctx, len(ids), 8, func(i int) {
		a := ids[i]
		var found bool
		var err error
		for try := 0; try < 3; try++ {
			if found, _, err = status(ctx, c.sb.URL, defaultMerchant.User, a.kind, a.id); err == nil {
				break
			}
		}
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			c.unknown++
		} else if !found {
			missing = append(missing, a)
		}
	})
	return missing
}

// report is the trial's main row: acknowledged orders lost across the crashes.
func (c *crashRun) report(t *T, crashes int) Row {
	lostSet := map[ackID]bool{}
	for _, a := range c.lost {
		lostSet[a] = true
	}
	deps, wds := 0, 0
	for _, a := range c.acked {
		if a.kind == "deposit" {
			deps++
		} else {
			wds++
		}
	}
	t.Logf("%d crashes, %d restarts; acknowledged %d deposits + %d withdrawals; %d requests refused, %d transport errors (in flight at the kill); %d lookups failed",
		c.restarts, c.restarts, deps, wds, c.refused.Load(), c.connErrs.Load(), c.unknown)
	return Row{
		Measured: fmt.Sprintf("acknowledged orders missing after %d kill -9 + restart", c.restarts),
		Figure:   fmt.Sprintf("%d lost of %d acknowledged (%d found)", len(lostSet), len(c.acked), len(c.acked)-len(lostSet)),
		Goal:     "0 lost",
		Result:   pass(len(lostSet) == 0 && c.restarts == crashes && c.unknown == 0),
	}
}

type acct struct{ m, c string }

// ledgerRow checks that the ledger entries of each merchant+currency sum to its balance.
func ledgerRow(ctx context.Context, t *T, base string) Row {
	// Withdrawals still pending complete after withdrawal_delay (2 s), which changes the
	// balances while they are read: wait (at most 8 s) until none is pending.
	waitUntil(ctx, 8*time.Second, 200*time.Millisecond, func() bool {
		code, b, err := get(ctx, base+"/sandbox/api/orders?kind=withdrawal&status=pending&limit=1")
		var v struct {
			Total int `json:"total"`
		}
		return err != nil || code != 200 || json.Unmarshal(b, &v) != nil || v.Total == 0
	})
	for try := 0; try < 6 && ctx.Err() == nil; try++ {
		if try > 0 {
			time.Sleep(300 * time.Millisecond)
		}
		b1, err1 := balances(ctx, base)
		sums, entries, err := ledgerSums(ctx, base)
		b2, err2 := balances(ctx, base)
		if err1 != nil || err2 != nil || err != nil {
			return Row{Measured: "ledger sums = balances", Figure: fmt.Sprintf("could not read: %v %v %v", err1, err, err2), Goal: "all match", Result: "FAIL"}
		}
		if fmt.Sprint(b1) != fmt.Sprint(b2) {
			continue // a withdrawal completed meanwhile: read again
		}
		bad := 0
		for _, bl := range b1 {
			s := sums[acct{bl.Merchant, bl.Currency}]
			if s[0] != bl.Available || s[1] != bl.Reserved {
				bad++
				t.Logf("ledger %s/%s: entries sum to available %s reserved %s, balance says %s / %s", bl.Merchant, bl.Currency, s[0], s[1], bl.Available, bl.Reserved)
			}
		}
		return Row{Measured: "ledger entries sum to balance (after the crashes)", Figure: fmt.Sprintf("%d of %d accounts match (%d entries)", len(b1)-bad, len(b1), entries),
			Goal: "all match", Result: pass(bad == 0 && len(b1) > 0)}
	}
	return Row{Measured: "ledger sums = balances", Figure: "balances kept changing", Goal: "all match", Result: "FAIL"}
}

// ledgerSums reads the whole ledger, 500 entries a page, and sums the available and
// reserved changes per merchant+currency.
func ledgerSums(ctx context.Context, base string) (map[acct][2]gateway.Money, int, error) {
	sums := map[acct][2]gateway.Money{}
	var entries int
	for off := 0; ctx.Err() == nil; off += 500 {
		var page struct {
			Total   int       `json:"total"`
			Entries []balance `json:"entries"`
		}
		code, b, err := get(ctx, fmt.Sprintf("%s/sandbox/api/ledger?limit=500&offset=%d", base, off))
		if err == nil && code != 200 {
			err = fmt.Errorf("HTTP %d", code)
		}
		if err == nil {
			err = json.Unmarshal(b, &page)
		}
		if err != nil {
			return sums, entries, err
		}
		for _, en := range page.Entries {
			s := sums[acct{en.Merchant, en.Currency}]
			s[0] += en.Available
			s[1] += en.Reserved
			sums[acct{en.Merchant, en.Currency}] = s
		}
		entries += len(page.Entries)
		if len(page.Entries) == 0 || off+500 >= page.Total {
			break
		}
	}
	return sums, entries, nil
}

type balance struct {
	Merchant  string        `json:"merchant"`
	Currency  string        `json:"currency"`
	Available gateway.Money `json:"available"`
	Reserved  gateway.Money `json:"reserved"`
}

func balances(ctx context.Context, base string) ([]balance, error) {
	code, b, err := get(ctx, base+"/sandbox/api/balances")
	if err != nil {
		return nil, err
	}
	if code != 200 {
		return nil, fmt.Errorf("balances: HTTP %d", code)
	}
	var v struct {
		Balances []balance `json:"balances"`
	}
	err = json.Unmarshal(b, &v)
	sort.Slice(v.Balances, func(i, j int) bool {
		return v.Balances[i].Merchant+v.Balances[i].Currency < v.Balances[j].Merchant+v.Balances[j].Currency
	})
	return v.Balances, err
}

// pendingCallbacks is the outbox's count of pending deliveries (-1 if unknown).
func callbackCount(ctx context.Context, base, state string) int {
	code, b, err := get(ctx, base+"/sandbox/api/callbacks?limit=1&state="+url.QueryEscape(state))
	if err != nil || code != 200 {
		return -1
	}
	var v struct {
		Total int `json:"total"`
	}
	if json.Unmarshal(b, &v) != nil {
		return -1
	}
	return v.Total
}
