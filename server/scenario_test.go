package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/clock"
	"github.com/vpay88/vpay88-sandbox/config"
	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/internal/inproc"
	"github.com/vpay88/vpay88-sandbox/scenarios"
	"github.com/vpay88/vpay88-sandbox/store"
)

// status calls check_status or check_withdraw_status for the default merchant.
func (e *testEnv) status(tb testing.TB, kind gateway.Kind, id string) map[string]any {
	tb.Helper()
	path := "/merchant/check_status"
	if kind == gateway.KindWithdrawal {
		path = "/merchant/check_withdraw_status"
	}
	return e.Call(tb, path, map[string]string{"username": testMerchant, "id": id})
}

// waitStatus polls check_status until the order reaches want (bounded in time).
func (e *testEnv) waitStatus(tb testing.TB, kind gateway.Kind, id, want string, within time.Duration) {
	tb.Helper()
	path := "/merchant/check_status"
	if kind == gateway.KindWithdrawal {
		path = "/merchant/check_withdraw_status"
	}
	if !assert.Eventually(tb, func() bool {
		m, err := postAnswer(e, path, map[string]string{"username": testMerchant, "id": id})
		return err == nil && m["order_status"] == want
	}, within, 20*time.Millisecond) {
		require.FailNowf(tb, "status not reached", "%s %s is %v after %s, want %s", kind, id, e.status(tb, kind, id)["order_status"], within, want)
	}
}

// decode parses a callback body.
func decode(tb testing.TB, b []byte) map[string]any {
	tb.Helper()
	var m map[string]any
	require.NoError(tb, json.Unmarshal(b, &m), "body %s", b)
	return m
}

// TestMagicValues: the documented values settle at once, before the API answers, and
// send their callback; no configuration needed.
func TestMagicValues(t *testing.T) {
	t.Parallel()
	rc := newRecorder(t, nil)
	e := MustOpenEnv(t, withCallback(rc.URL), func(c *config.Config) {
		// Short defaults, to show that the magic values override them.
		c.WithdrawalDelay = config.Duration(50 * time.Millisecond)
		c.AutoSettle, c.AutoSettleDelay = "fail", config.Duration(50*time.Millisecond)
	})

	deposits := []struct {
		email, status string
	}{
		{scenarios.MagicEmailSuccess + "@example.com", "completed"},
		{scenarios.MagicEmailFail + "@example.com", "fail"},
		{scenarios.MagicEmailPending + "@example.com", "pending"},
	}
	for i, d := range deposits {
		id := "MAGIC-D" + string(rune('1'+i))
		before, _ := e.available(t, "MYR")
		m := e.Deposit(t, id, map[string]string{"email": d.email})
		require.Equal(t, true, m["status"], "%v", m)
		assert.Equal(t, d.status, e.status(t, gateway.KindDeposit, id)["order_status"], "%s: settled before the answer", d.email)
		after, _ := e.available(t, "MYR")
		if d.status == "completed" {
			assert.Equal(t, gateway.MustMoney("97"), after-before)
		} else {
			assert.Equal(t, before, after)
		}
		if d.status != "pending" {
			cb := decode(t, rc.wait(t, 1, 5*time.Second)[0].Body)
			assert.Equal(t, id, cb["order_id"])
			assert.Equal(t, d.status, cb["order_status"])
			if d.status == "completed" { // the vendor's fail example has no name
				assert.NotEmpty(t, cb["name"], "a generated payer name")
			}
		}
	}

	withdrawals := []struct {
		account, status, remarks string
	}{
		{scenarios.MagicAccountSuccess, "completed", "Success"},
		{scenarios.MagicAccountFail, "fail", "Transaction Failed"},
		{scenarios.MagicAccountNameMismatch, "fail", "Account Holder Name Mismatch (MR JOHN != John Doe)"},
		{scenarios.MagicAccountPending, "pending", ""},
	}
	for i, w := range withdrawals {
		id := "MAGIC-W" + string(rune('1'+i))
		m := e.Withdraw(t, id, map[string]string{"account_no": w.account})
		require.Equal(t, true, m["status"])
		require.Equal(t, "Success", m["message"])
		assert.Equal(t, w.status, e.status(t, gateway.KindWithdrawal, id)["order_status"], "%s: settled before the answer", w.account)
		if w.status != "pending" {
			cb := decode(t, rc.wait(t, 1, 5*time.Second)[0].Body)
			assert.Equal(t, id, cb["order_id"])
			assert.Equal(t, w.status, cb["order_status"])
			assert.Equal(t, w.remarks, cb["remarks"])
			assert.Equal(t, "John Doe", cb["name"])
		}
	}

	t.Run("InsufficientBalance", func(t *testing.T) {
		before, reserved := e.available(t, "MYR")
		m := e.Withdraw(t, "MAGIC-NOBAL", map[string]string{"account_no": scenarios.MagicAccountNoBalance})
		assert.Equal(t, map[string]any{"status": false, "message": "Balance not enough!"}, m)
		after, reservedAfter := e.available(t, "MYR")
		assert.Equal(t, before, after, "nothing is debited by a rejected request")
		assert.Equal(t, reserved, reservedAfter)
		assert.Equal(t, map[string]any{"status": false, "message": "Order not found."}, e.status(t, gateway.KindWithdrawal, "MAGIC-NOBAL"))
	})

	t.Run("InsufficientBalanceReal", func(t *testing.T) {
		// The honest way: ask for more than the balance (1,000,000 by default).
		// 999,995 + the fee of 5 reserves the whole VND balance; one more is too much.
		m := e.Withdraw(t, "REAL-NOBAL-1", map[string]string{"amount": "999995", "currency": "VND"})
		require.Equal(t, true, m["status"], "%v", m)
		m = e.Withdraw(t, "REAL-NOBAL-2", map[string]string{"amount": "1", "currency": "VND"})
		assert.Equal(t, map[string]any{"status": false, "message": "Balance not enough!"}, m)
		assert.Equal(t, "REAL-NOBAL-1", decode(t, rc.wait(t, 1, 5*time.Second)[0].Body)["order_id"], "the accepted one completes")
	})

	t.Run("PendingStaysPending", func(t *testing.T) {
		// The defaults (auto_settle fail, withdrawal_delay 50ms) settle an ordinary
		// order; the pending magic values hold theirs.
		e.Deposit(t, "PLAIN-D", nil)
		e.Withdraw(t, "PLAIN-W", nil)
		e.waitStatus(t, gateway.KindDeposit, "PLAIN-D", "fail", 3*time.Second)
		e.waitStatus(t, gateway.KindWithdrawal, "PLAIN-W", "completed", 3*time.Second)
		rc.wait(t, 2, 5*time.Second)
		assert.Equal(t, "pending", e.status(t, gateway.KindDeposit, "MAGIC-D3")["order_status"])
		assert.Equal(t, "pending", e.status(t, gateway.KindWithdrawal, "MAGIC-W4")["order_status"])
		// A pending magic order can still be settled by hand.
		e.mustSettle(t, gateway.KindWithdrawal, "MAGIC-W4", map[string]string{"outcome": "completed"})
		assert.Equal(t, "MAGIC-W4", decode(t, rc.wait(t, 1, 5*time.Second)[0].Body)["order_id"])
	})
}

// exampleScenarios is the README's annotated example: it must parse with the real
// config schema, and every rule in it is exercised below.
const exampleScenarios = `scenarios:
  # A THB deposit of exactly 123.45 completes at once, paid by a fixed name, with a
  # fixed charge instead of the 3%.
  - name: thb-exact
    match: {kind: deposit, currency: THB, amount: "123.45"}
    effect: {outcome: completed, name: Somchai Jaidee, charge: "1.00"}

  # MYR deposits from 7000 to 7999.9999 fail 150 ms after they are created.
  - name: big-deposits-fail-later
    match: {kind: deposit, currency: MYR, amount_min: 7000, amount_max: "7999.9999"}
    effect: {outcome: fail, delay: 150ms}

  # Any order id starting ERR- is refused with this message; nothing is stored.
  - name: gateway-busy
    match: {orderid: '^ERR-'}
    effect: {error: "System busy, please try again."}

  # Customers of slow.test wait 300 ms for the API's answer, then pay at once.
  - name: slow-api
    match: {email: '@slow\.test$'}
    effect: {latency: 300ms, outcome: completed}

  # Payouts to a holder name starting "mismatch" fail as a name mismatch; "name" is
  # the bank's record shown in the remarks.
  - name: holder-mismatch
    match: {kind: withdrawal, holder_name: '(?i)^mismatch'}
    effect: {outcome: name_mismatch, name: MR BANK RECORD}

  # Payouts to accounts starting 555 fail with a remark of your choice.
  - name: closed-accounts
    match: {kind: withdrawal, account_no: '^555'}
    effect: {outcome: fail, remarks: Bank account closed}

  # A payout with a cheaper fee and its own success remark.
  - name: cheap-payout
    match: {kind: withdrawal, orderid: '^CHEAP-'}
    effect: {outcome: completed, charge: "2.50", remarks: Paid by instant transfer}

  # Callback faults: each matched order completes at once, its callback misbehaves.
  - name: duplicate-callback   # sent three times (two extra)
    match: {orderid: '^DUP-'}
    effect: {outcome: completed, callback: {duplicate: 2}}
  - name: late-callback        # every delivery held back 300 ms
    match: {orderid: '^LATE-'}
    effect: {outcome: completed, callback: {delay: 300ms}}
  - name: lost-callback        # never sent; recorded as "dropped"
    match: {orderid: '^LOST-'}
    effect: {outcome: completed, callback: {drop: true}}
  - name: forged-callback      # token that does not verify
    match: {orderid: '^FORGED-'}
    effect: {outcome: completed, callback: {wrong_token: true}}
  - name: overtaken-callback   # held 400 ms so later orders' callbacks arrive first
    match: {orderid: '^SLOWCB-'}
    effect: {outcome: completed, callback: {out_of_order: true, delay: 400ms}}
`

// exampleRules parses exampleScenarios inside the default config document.
func exampleRules(tb testing.TB) []scenarios.Rule {
	tb.Helper()
	doc := strings.Replace(string(config.DefaultYAML()), "scenarios: []\n", exampleScenarios, 1)
	require.NotEqual(tb, string(config.DefaultYAML()), doc, "default.yaml has no `scenarios: []` line to replace")
	cfg, err := config.Parse("example", []byte(doc))
	require.NoError(tb, err)
	require.Len(tb, cfg.Scenarios, 12)
	return cfg.Scenarios
}

// TestScenarioRules: YAML rules match on kind, currency, amount and patterns, and
// their effects reach the API, the balances and the callbacks.
func TestScenarioRules(t *testing.T) {
	t.Parallel()
	rules := exampleRules(t)
	// openAt opens a sandbox with the example rules on a clock (nil: real time), with a
	// recorder that stamps arrivals by the same clock.
	openAt := func(t *testing.T, clk *clock.Clock) (*testEnv, *recorder) {
		rc := newRecorderWith(t, inproc.RecorderOptions{Clock: clk})
		e := openEnv(t, inproc.Options{Clock: clk, Changes: []func(*config.Config){withCallback(rc.URL), noAutoWithdrawal, func(c *config.Config) {
			c.Scenarios = append([]scenarios.Rule(nil), rules...)
			require.NoError(t, scenarios.Validate(c.Scenarios))
		}}})
		return e, rc
	}
	open := func(t *testing.T) (*testEnv, *recorder) { return openAt(t, nil) }

	t.Run("AmountExactCurrency", func(t *testing.T) {
		t.Parallel()
		e, rc := open(t)
		before, _ := e.available(t, "THB")
		e.Deposit(t, "THB-1", map[string]string{"amount": "123.45", "currency": "THB", "bank_id": "1"})
		assert.Equal(t, "completed", e.status(t, gateway.KindDeposit, "THB-1")["order_status"])
		h := rc.wait(t, 1, 5*time.Second)[0]
		assert.Equal(t, `{"order_id":"THB-1","amount":123.4500,"currency":"THB","order_status":"completed","status":true,`+
			`"charge":"1.0000","token":"`+md5hex(testSecret+"THB-1")+`","name":"Somchai Jaidee","type":"deposit"}`, string(h.Body))
		after, _ := e.available(t, "THB")
		assert.Equal(t, gateway.MustMoney("122.45"), after-before, "credit is amount minus the rule's charge")

		// Same amount, other currency; same currency, other amount: no match.
		e.Deposit(t, "MYR-123", map[string]string{"amount": "123.45"})
		e.Deposit(t, "THB-2", map[string]string{"amount": "123.46", "currency": "THB", "bank_id": "1"})
		assert.Equal(t, "pending", e.status(t, gateway.KindDeposit, "MYR-123")["order_status"])
		assert.Equal(t, "pending", e.status(t, gateway.KindDeposit, "THB-2")["order_status"])
	})

	t.Run("AmountRangeDelay", func(t *testing.T) {
		t.Parallel()
		// A frozen clock: the rule's 150 ms pass when the test says so, not by sleeping.
		clk := clock.Frozen(time.Now())
		e, rc := openAt(t, clk)
		start := clk.Now()
		e.Deposit(t, "BIG-1", map[string]string{"amount": "7500"})
		assert.Equal(t, "pending", e.status(t, gateway.KindDeposit, "BIG-1")["order_status"], "the delay has not passed")
		require.NoError(t, clk.Advance(149*time.Millisecond))
		assert.Equal(t, "pending", e.status(t, gateway.KindDeposit, "BIG-1")["order_status"], "nor 1 ms before it ends")
		assert.Empty(t, e.adminOrder(t, gateway.KindDeposit, "BIG-1").Callbacks)
		require.NoError(t, clk.Advance(time.Millisecond))
		e.waitStatus(t, gateway.KindDeposit, "BIG-1", "fail", 3*time.Second)
		h := rc.wait(t, 1, 5*time.Second)[0]
		assert.GreaterOrEqual(t, h.At.Sub(start), 150*time.Millisecond)
		assert.Equal(t, "fail", decode(t, h.Body)["order_status"])

		for _, a := range []string{"7000", "7999.9999"} {
			e.Deposit(t, "EDGE-"+a, map[string]string{"amount": a})
		}
		e.Deposit(t, "OUT-8000", map[string]string{"amount": "8000"})
		e.Deposit(t, "OUT-6999", map[string]string{"amount": "6999.9999"})
		require.NoError(t, clk.Advance(150*time.Millisecond))
		rc.wait(t, 2, 5*time.Second) // both edges match
		assert.Equal(t, "fail", e.status(t, gateway.KindDeposit, "EDGE-7000")["order_status"])
		assert.Equal(t, "fail", e.status(t, gateway.KindDeposit, "EDGE-7999.9999")["order_status"])
		assert.Equal(t, "pending", e.status(t, gateway.KindDeposit, "OUT-8000")["order_status"])
		assert.Equal(t, "pending", e.status(t, gateway.KindDeposit, "OUT-6999")["order_status"])
	})

	t.Run("ForcedError", func(t *testing.T) {
		t.Parallel()
		e, rc := open(t)
		want := map[string]any{"status": false, "message": "System busy, please try again."}
		assert.Equal(t, want, e.Deposit(t, "ERR-1", nil))
		assert.Equal(t, map[string]any{"status": false, "message": "Order not found."}, e.status(t, gateway.KindDeposit, "ERR-1"))
		before, reserved := e.available(t, "MYR")
		assert.Equal(t, want, e.Withdraw(t, "ERR-2", nil))
		after, reservedAfter := e.available(t, "MYR")
		assert.Equal(t, before, after, "nothing reserved")
		assert.Equal(t, reserved, reservedAfter)
		// The id is free: the same id without the rule's pattern is a different id,
		// but a refused id can be used again once the rule is gone (nothing stored).
		assert.Equal(t, true, e.Deposit(t, "OK-1", nil)["status"])
		// Refused orders are not stored, so they have no callback to send.
		for _, o := range []struct {
			kind gateway.Kind
			id   string
		}{{gateway.KindDeposit, "ERR-1"}, {gateway.KindWithdrawal, "ERR-2"}} {
			code, _, _ := e.adminGet(t, o.kind, o.id)
			assert.Equal(t, http.StatusNotFound, code, o.id)
		}
		assert.Zero(t, e.callbackTotal(t, testMerchant, ""), "no callback stored")
		assert.Zero(t, rc.Count())
	})

	t.Run("Latency", func(t *testing.T) {
		t.Parallel()
		e, rc := open(t)
		auth := e.Auth(t)
		start := time.Now()
		m := e.Call(t, "/merchant/generate_orders", map[string]string{"username": "john", "auth": auth, "amount": "10",
			"currency": "MYR", "orderid": "LAT-1", "email": "me@slow.test", "phone_number": "601012456789"})
		took := time.Since(start)
		assert.Equal(t, true, m["status"])
		assert.GreaterOrEqual(t, took, 300*time.Millisecond)
		assert.Less(t, took, 3*time.Second)
		assert.Equal(t, "completed", e.status(t, gateway.KindDeposit, "LAT-1")["order_status"])
		rc.wait(t, 1, 5*time.Second)
		start = time.Now()
		e.Deposit(t, "FAST-1", nil)
		assert.Less(t, time.Since(start), 300*time.Millisecond, "other customers are not slowed")
	})

	t.Run("HolderNamePattern", func(t *testing.T) {
		t.Parallel()
		e, rc := open(t)
		before, _ := e.available(t, "MYR")
		e.Withdraw(t, "HN-1", map[string]string{"holder_name": "Mismatch Tan"})
		assert.Equal(t, "fail", e.status(t, gateway.KindWithdrawal, "HN-1")["order_status"])
		cb := decode(t, rc.wait(t, 1, 5*time.Second)[0].Body)
		assert.Equal(t, "Account Holder Name Mismatch (MR BANK RECORD != Mismatch Tan)", cb["remarks"])
		assert.Equal(t, "Mismatch Tan", cb["name"])
		assert.Equal(t, "0", cb["charge"])
		after, _ := e.available(t, "MYR")
		assert.Equal(t, before, after, "released")
		// A deposit never matches a withdrawal rule.
		e.Deposit(t, "HN-D", map[string]string{"username": "mismatch"})
		assert.Equal(t, "pending", e.status(t, gateway.KindDeposit, "HN-D")["order_status"])
	})

	t.Run("AccountNoPatternRemarks", func(t *testing.T) {
		t.Parallel()
		e, rc := open(t)
		e.Withdraw(t, "AC-1", map[string]string{"account_no": "5550001"})
		assert.Equal(t, "fail", e.status(t, gateway.KindWithdrawal, "AC-1")["order_status"])
		cb := decode(t, rc.wait(t, 1, 5*time.Second)[0].Body)
		assert.Equal(t, "Bank account closed", cb["remarks"])
		e.Withdraw(t, "AC-2", map[string]string{"account_no": "1555"})
		assert.Equal(t, "pending", e.status(t, gateway.KindWithdrawal, "AC-2")["order_status"], "anchored pattern")
	})

	t.Run("ChargeOverride", func(t *testing.T) {
		t.Parallel()
		e, rc := open(t)
		before, _ := e.available(t, "MYR")
		e.Withdraw(t, "CHEAP-1", nil)
		cb := decode(t, rc.wait(t, 1, 5*time.Second)[0].Body)
		assert.Equal(t, "2.50", cb["charge"])
		assert.Equal(t, "Paid by instant transfer", cb["remarks"])
		after, reserved := e.available(t, "MYR")
		assert.Equal(t, gateway.MustMoney("102.5"), before-after, "amount plus the rule's fee; the rest of the reservation returns")
		assert.Equal(t, gateway.Money(0), reserved)
	})

	t.Run("CallbackDuplicate", func(t *testing.T) {
		t.Parallel()
		e, rc := open(t)
		e.Deposit(t, "DUP-1", nil)
		hits := rc.wait(t, 3, 5*time.Second)
		for _, h := range hits[1:] {
			assert.Equal(t, string(hits[0].Body), string(h.Body))
		}
		v := e.waitOrder(t, gateway.KindDeposit, "DUP-1", 2*time.Second, func(v orderJSON) bool {
			for _, d := range v.Callbacks {
				if d.State != store.DeliveryDelivered {
					return false
				}
			}
			return len(v.Callbacks) == 3
		})
		assert.Contains(t, v.Callbacks[1].Note, "duplicate")
		// Each copy is delivered (final) at its first attempt: nothing more to send.
		for _, d := range v.Callbacks {
			assert.Equal(t, 1, d.Attempts)
		}
		assert.Equal(t, 3, rc.Count())
	})

	t.Run("CallbackDelayed", func(t *testing.T) {
		t.Parallel()
		clk := clock.Frozen(time.Now())
		e, rc := openAt(t, clk)
		e.Deposit(t, "LATE-1", nil)
		settled := clk.Now()
		assert.Equal(t, "completed", e.status(t, gateway.KindDeposit, "LATE-1")["order_status"], "the order settles at once")
		// The callback is stored, held back: pending, never attempted, due 300 ms later.
		dels, err := e.Store.Deliveries(gateway.KindDeposit, testMerchant, "LATE-1")
		require.NoError(t, err)
		require.Len(t, dels, 1)
		assert.Equal(t, store.DeliveryPending, dels[0].State)
		assert.Zero(t, dels[0].Attempts)
		assert.Equal(t, settled.Add(300*time.Millisecond).UTC(), dels[0].NextAt.UTC())
		require.NoError(t, clk.Advance(300*time.Millisecond))
		h := rc.wait(t, 1, 5*time.Second)[0]
		assert.GreaterOrEqual(t, h.At.Sub(settled), 250*time.Millisecond, "only the callback waits")
	})

	t.Run("CallbackDropped", func(t *testing.T) {
		t.Parallel()
		e, rc := open(t)
		e.Deposit(t, "LOST-1", nil)
		assert.Equal(t, "completed", e.status(t, gateway.KindDeposit, "LOST-1")["order_status"])
		// Dropped is final, stored with the settlement: never attempted, never due.
		v := e.adminOrder(t, gateway.KindDeposit, "LOST-1")
		require.Len(t, v.Callbacks, 1)
		assert.Equal(t, store.DeliveryDropped, v.Callbacks[0].State)
		assert.Zero(t, v.Callbacks[0].Attempts)
		assert.Empty(t, v.Callbacks[0].AttemptLog)
		assert.Equal(t, 0, rc.Count())
		// The merchant can still ask for it.
		resp, err := http.Post(e.URL+"/sandbox/api/deposits/LOST-1/callback", "", nil)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, "LOST-1", decode(t, rc.wait(t, 1, 5*time.Second)[0].Body)["order_id"])
	})

	t.Run("CallbackWrongToken", func(t *testing.T) {
		t.Parallel()
		e, rc := open(t)
		e.Deposit(t, "FORGED-1", nil)
		cb := decode(t, rc.wait(t, 1, 5*time.Second)[0].Body)
		tok, _ := cb["token"].(string)
		assert.Len(t, tok, 32)
		assert.NotEqual(t, md5hex(testSecret+"FORGED-1"), tok)
		// Everything else is as usual, in the vendor's key order.
		h := rc.Count()
		assert.Equal(t, 1, h)
		v := e.adminOrder(t, gateway.KindDeposit, "FORGED-1")
		assert.Contains(t, v.Callbacks[0].Note, "wrong token")
		assert.True(t, strings.HasPrefix(string(v.Callbacks[0].Body), `{"order_id":"FORGED-1","amount":100.0000,`), "%s", v.Callbacks[0].Body)
	})

	t.Run("CallbackOutOfOrder", func(t *testing.T) {
		t.Parallel()
		e, rc := open(t)
		e.Deposit(t, "SLOWCB-1", nil)
		assert.Equal(t, "completed", e.status(t, gateway.KindDeposit, "SLOWCB-1")["order_status"])
		e.Deposit(t, "AFTER-1", map[string]string{"email": "success@example.com"})
		hits := rc.wait(t, 2, 5*time.Second)
		assert.Equal(t, "AFTER-1", decode(t, hits[0].Body)["order_id"], "the order settled later is called back first")
		assert.Equal(t, "SLOWCB-1", decode(t, hits[1].Body)["order_id"])
	})

	t.Run("ConfigErrorNamesLine", func(t *testing.T) {
		t.Parallel()
		doc := strings.Replace(string(config.DefaultYAML()), "scenarios: []\n",
			"scenarios:\n  - name: typo\n    match: {kind: deposit}\n    effect: {outcome: paid}\n", 1)
		_, err := config.Parse("bad.yaml", []byte(doc))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "scenarios[0].effect.outcome")
		assert.Contains(t, err.Error(), "bad.yaml:")
	})
}
