package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/gateway"
)

// concurrently runs fn(i) for i in [0, n) on n goroutines released together, and
// waits for all of them, at most a bounded time.
func concurrently(tb testing.TB, n int, fn func(i int)) {
	tb.Helper()
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	ready.Add(n)
	done.Add(n)
	for i := 0; i < n; i++ {
		go func(i int) {
			defer done.Done()
			ready.Done()
			<-start
			fn(i)
		}(i)
	}
	ready.Wait()
	close(start)
	finished := make(chan struct{})
	go func() { done.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(30 * time.Second):
		tb.Fatalf("%d concurrent requests did not finish within 30s", n)
	}
}

// postAnswer posts multipart fields from any goroutine (no require: it must not call
// FailNow off the test goroutine) and returns the decoded answer or an error.
func postAnswer(e *testEnv, path string, fields map[string]string) (map[string]any, error) {
	v := url.Values{}
	for k, val := range fields {
		v.Set(k, val)
	}
	resp, err := http.Post(e.URL+path, "application/x-www-form-urlencoded", strings.NewReader(v.Encode()))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		return nil, err
	}
	return m, nil
}

// tally counts the answers of concurrent requests by outcome: "OK" or the message.
func tally(tb testing.TB, n int, call func(i int) (map[string]any, error)) map[string]int {
	tb.Helper()
	var mu sync.Mutex
	counts := map[string]int{}
	var errs []error
	concurrently(tb, n, func(i int) {
		m, err := call(i)
		mu.Lock()
		defer mu.Unlock()
		switch {
		case err != nil:
			errs = append(errs, err)
		case m["status"] == true:
			counts["OK"]++
		default:
			counts[fmt.Sprint(m["message"])]++
		}
	})
	require.Empty(tb, errs)
	return counts
}

func TestConcurrentDepositsOneOrderID(t *testing.T) {
	e := MustOpenEnv(t)
	tok := e.Auth(t)
	const n = 32
	counts := tally(t, n, func(i int) (map[string]any, error) {
		// The requests differ in amount, so the one stored tells who won.
		f := merge(depositFields(tok, "race-dep"), map[string]string{"amount": fmt.Sprint(i + 1)})
		return postAnswer(e, pathGenerateOrders, f)
	})
	assert.Equal(t, map[string]int{"OK": 1, gateway.MsgOrderIDExist: n - 1}, counts)

	found, err := e.Store.FindOrders(gateway.KindDeposit, "race-dep")
	require.NoError(t, err)
	require.Len(t, found, 1)
	// The one stored is reachable by check_status, with its own amount.
	m := e.Call(t, pathCheckStatus, map[string]string{"username": testMerchant, "id": "race-dep"})
	assert.Equal(t, "pending", m["order_status"])
	assert.Equal(t, found[0].Amount.String(), fmt.Sprintf("%.4f", m["amount"]))
}

func TestConcurrentWithdrawalsOneOrderID(t *testing.T) {
	e := MustOpenEnv(t, holdWithdrawals)
	tok := e.Auth(t)
	before := mustBalance(t, e, testMerchant, "MYR")
	const n = 32
	counts := tally(t, n, func(i int) (map[string]any, error) {
		return postAnswer(e, pathWithdrawOrders, withdrawFields(tok, "race-wd"))
	})
	assert.Equal(t, map[string]int{"OK": 1, gateway.MsgOrderIDExistWithdrawal: n - 1}, counts)

	found, err := e.Store.FindOrders(gateway.KindWithdrawal, "race-wd")
	require.NoError(t, err)
	require.Len(t, found, 1)
	// Reserved once, not 32 times.
	after := mustBalance(t, e, testMerchant, "MYR")
	assert.Equal(t, before.Available-gateway.MustMoney("105"), after.Available)
	assert.Equal(t, before.Reserved+gateway.MustMoney("105"), after.Reserved)
	assertLedgerConsistent(t, e)
}

func TestConcurrentDepositAndWithdrawalOneOrderID(t *testing.T) {
	// Deposits and withdrawals are separate namespaces: one of each wins.
	e := MustOpenEnv(t, holdWithdrawals)
	tok := e.Auth(t)
	const n = 32
	counts := tally(t, n, func(i int) (map[string]any, error) {
		if i%2 == 0 {
			return postAnswer(e, pathGenerateOrders, depositFields(tok, "race-both"))
		}
		return postAnswer(e, pathWithdrawOrders, withdrawFields(tok, "race-both"))
	})
	assert.Equal(t, map[string]int{"OK": 2, gateway.MsgOrderIDExist: n/2 - 1, gateway.MsgOrderIDExistWithdrawal: n/2 - 1}, counts)
}

// TestConcurrentWithdrawalsOneBalance drives 40 payouts of 100 (fee 5) at a balance of
// 1000: exactly floor(1000/105) = 9 are accepted, the rest refused, and nothing is
// overdrawn.
func TestConcurrentWithdrawalsOneBalance(t *testing.T) {
	e := MustOpenEnv(t, withStartBalance("MYR", "1000", "5"), holdWithdrawals)
	tok := e.Auth(t)
	const n = 40
	counts := tally(t, n, func(i int) (map[string]any, error) {
		return postAnswer(e, pathWithdrawOrders, withdrawFields(tok, fmt.Sprintf("race-bal-%02d", i)))
	})
	accepted := int(gateway.MustMoney("1000") / gateway.MustMoney("105"))
	require.Equal(t, 9, accepted)
	assert.Equal(t, map[string]int{"OK": accepted, gateway.MsgBalanceNotEnough: n - accepted}, counts)

	bal := mustBalance(t, e, testMerchant, "MYR")
	assert.Equal(t, "55.0000", bal.Available.String())
	assert.Equal(t, "945.0000", bal.Reserved.String())
	assertLedgerConsistent(t, e)

	// The accepted ones are stored, each reserving 105; the refused ones are not.
	var ids []string
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("race-bal-%02d", i)
		o, err := e.Store.Order(gateway.KindWithdrawal, testMerchant, id)
		if err != nil {
			continue
		}
		assert.Equal(t, gateway.MustMoney("105"), o.Reserved, id)
		ids = append(ids, id)
	}
	require.Len(t, ids, accepted)

	t.Run("FailReleasesAmountAndFee", func(t *testing.T) {
		settleWithdrawal(t, e, ids[0], "fail")
		bal := mustBalance(t, e, testMerchant, "MYR")
		assert.Equal(t, "160.0000", bal.Available.String()) // 55 + 105
		assert.Equal(t, "840.0000", bal.Reserved.String())  // 945 - 105
		assertLedgerConsistent(t, e)
		m := e.Call(t, pathCheckWithdrawStatus, map[string]string{"username": testMerchant, "id": ids[0]})
		assert.Equal(t, "fail", m["order_status"])
	})
	t.Run("CompletedConsumesReserve", func(t *testing.T) {
		settleWithdrawal(t, e, ids[1], "completed")
		bal := mustBalance(t, e, testMerchant, "MYR")
		assert.Equal(t, "160.0000", bal.Available.String()) // unchanged: it was reserved
		assert.Equal(t, "735.0000", bal.Reserved.String())  // 840 - 105, paid out
		assertLedgerConsistent(t, e)
		o, err := e.Store.Order(gateway.KindWithdrawal, testMerchant, ids[1])
		require.NoError(t, err)
		assert.Equal(t, gateway.StatusCompleted, o.Status)
		assert.Equal(t, "5.0000", o.Charge.String())
	})
	t.Run("NameMismatchReleasesAmountAndFee", func(t *testing.T) {
		settleWithdrawal(t, e, ids[2], "name_mismatch")
		bal := mustBalance(t, e, testMerchant, "MYR")
		assert.Equal(t, "265.0000", bal.Available.String())
		assert.Equal(t, "630.0000", bal.Reserved.String())
		assertLedgerConsistent(t, e)
	})
	t.Run("RejectedReleasesAmountAndFee", func(t *testing.T) {
		// A payout the bank rejects never leaves: like a failure, its reserve returns.
		settleWithdrawal(t, e, ids[3], "rejected")
		bal := mustBalance(t, e, testMerchant, "MYR")
		assert.Equal(t, "370.0000", bal.Available.String())
		assert.Equal(t, "525.0000", bal.Reserved.String())
		assertLedgerConsistent(t, e)
	})
	t.Run("ConcurrentSettlementsApplyOnce", func(t *testing.T) {
		// 16 admins fail the same payout at once: it is released once.
		codes := map[int]int{}
		var mu sync.Mutex
		concurrently(t, 16, func(int) {
			resp, err := http.PostForm(e.URL+"/sandbox/api/withdrawals/"+ids[4]+"/settle", url.Values{"outcome": {"fail"}})
			if err != nil {
				return
			}
			resp.Body.Close()
			mu.Lock()
			codes[resp.StatusCode]++
			mu.Unlock()
		})
		assert.Equal(t, map[int]int{http.StatusOK: 1, http.StatusConflict: 15}, codes)
		bal := mustBalance(t, e, testMerchant, "MYR")
		assert.Equal(t, "475.0000", bal.Available.String())
		assert.Equal(t, "420.0000", bal.Reserved.String())
		assertLedgerConsistent(t, e)
	})
	t.Run("ReleasedMoneyCanBeSpent", func(t *testing.T) {
		// 475 available: 4 more payouts of 105 fit (420), a fifth does not (55 left).
		counts := tally(t, 10, func(i int) (map[string]any, error) {
			return postAnswer(e, pathWithdrawOrders, withdrawFields(tok, fmt.Sprintf("race-again-%d", i)))
		})
		assert.Equal(t, map[string]int{"OK": 4, gateway.MsgBalanceNotEnough: 6}, counts)
		bal := mustBalance(t, e, testMerchant, "MYR")
		assert.Equal(t, "55.0000", bal.Available.String())
		assertLedgerConsistent(t, e)
	})
}

// settleWithdrawal settles a withdrawal through the admin API.
func settleWithdrawal(tb testing.TB, e *testEnv, id, outcome string) {
	tb.Helper()
	resp, err := http.PostForm(e.URL+"/sandbox/api/withdrawals/"+id+"/settle", url.Values{"outcome": {outcome}})
	require.NoError(tb, err)
	resp.Body.Close()
	require.Equal(tb, http.StatusOK, resp.StatusCode, "settle %s %s", id, outcome)
}

// TestConcurrentMixedTraffic runs deposits that complete, payouts that complete, fail
// or stay pending, and refusals, all at once on one small balance; whatever the
// interleaving, the ledger sums to the balances and the money adds up.
func TestConcurrentMixedTraffic(t *testing.T) {
	e := MustOpenEnv(t, withStartBalance("MYR", "1000", "5"), holdWithdrawals)
	tok := e.Auth(t)
	const n = 60
	kinds := make([]string, n)
	counts := tally(t, n, func(i int) (map[string]any, error) {
		id := fmt.Sprintf("mix-%02d", i)
		switch i % 4 {
		case 0: // a deposit of 100 that completes at once: +97
			kinds[i] = "deposit"
			return postAnswer(e, pathGenerateOrders, merge(depositFields(tok, id), map[string]string{"email": "success@example.com"}))
		case 1: // a payout that completes at once
			kinds[i] = "payout-completed"
			return postAnswer(e, pathWithdrawOrders, merge(withdrawFields(tok, id), map[string]string{"account_no": "4000000001"}))
		case 2: // a payout that fails at once
			kinds[i] = "payout-fail"
			return postAnswer(e, pathWithdrawOrders, merge(withdrawFields(tok, id), map[string]string{"account_no": "4000000002"}))
		default: // a payout that stays pending
			kinds[i] = "payout-pending"
			return postAnswer(e, pathWithdrawOrders, withdrawFields(tok, id))
		}
	})
	t.Logf("answers: %v", counts)
	assert.Equal(t, n/4, counts["OK"]-countAccepted(t, e, n, kinds, "payout"), "every deposit is accepted")
	assertLedgerConsistent(t, e)

	// Money adds up: start + deposits credited - payouts completed = available + reserved.
	want := gateway.MustMoney("1000")
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("mix-%02d", i)
		kind := gateway.KindWithdrawal
		if kinds[i] == "deposit" {
			kind = gateway.KindDeposit
		}
		o, err := e.Store.Order(kind, testMerchant, id)
		if err != nil {
			continue
		}
		switch {
		case kind == gateway.KindDeposit:
			require.Equal(t, gateway.StatusCompleted, o.Status)
			want += o.Amount - o.Charge
		case o.Status == gateway.StatusCompleted:
			want -= o.Amount + o.Charge
		}
	}
	bal := mustBalance(t, e, testMerchant, "MYR")
	assert.Equal(t, want, bal.Available+bal.Reserved)
}

// countAccepted counts the stored orders whose kind starts with prefix.
func countAccepted(tb testing.TB, e *testEnv, n int, kinds []string, prefix string) int {
	tb.Helper()
	c := 0
	for i := 0; i < n; i++ {
		if !strings.HasPrefix(kinds[i], prefix) {
			continue
		}
		if _, err := e.Store.Order(gateway.KindWithdrawal, testMerchant, fmt.Sprintf("mix-%02d", i)); err == nil {
			c++
		}
	}
	return c
}
