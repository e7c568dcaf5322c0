package server_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/clock"
	"github.com/vpay88/vpay88-sandbox/config"
	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/internal/inproc"
	"github.com/vpay88/vpay88-sandbox/scenarios"
)

func callbackStatus(t *testing.T, d inproc.Delivery) string {
	t.Helper()
	var body struct {
		OrderStatus string `json:"order_status"`
		Token       string `json:"token"`
		OrderID     string `json:"order_id"`
	}
	require.NoError(t, json.Unmarshal(d.Body, &body))
	assert.Equal(t, md5hex(testSecret+body.OrderID), body.Token, "every callback is signed")
	return body.OrderStatus
}

// TestReverseByAdmin reverses a paid deposit and a completed payout through the admin
// API: the other final status, the ledger in step with the balances, and a second
// signed callback with the new order_status.
func TestReverseByAdmin(t *testing.T) {
	rc := newRecorder(t, nil)
	e := MustOpenEnv(t, withCallback(rc.URL))
	start := mustBalance(t, e, testMerchant, "MYR").Available

	e.Deposit(t, "REV-D", nil)
	e.mustSettle(t, gateway.KindDeposit, "REV-D", map[string]string{"outcome": "completed"})
	assert.Equal(t, "completed", callbackStatus(t, rc.wait(t, 1, 5*time.Second)[0]))
	code, m := adminForm(t, e, http.MethodPost, "/sandbox/api/deposits/REV-D/reverse", url.Values{})
	require.Equal(t, 200, code, "%v", m)
	assert.Equal(t, "fail", m["status"])
	assert.EqualValues(t, 1, m["reversals"])
	assert.Equal(t, "fail", callbackStatus(t, rc.wait(t, 1, 5*time.Second)[0]))
	assert.Equal(t, start, mustBalance(t, e, testMerchant, "MYR").Available, "the credit is given back")

	e.Withdraw(t, "REV-W", map[string]string{"account_no": "4000000001"})
	assert.Equal(t, "completed", callbackStatus(t, rc.wait(t, 1, 5*time.Second)[0]))
	spent := mustBalance(t, e, testMerchant, "MYR").Available
	code, m = adminForm(t, e, http.MethodPost, "/sandbox/api/withdrawals/REV-W/reverse", url.Values{})
	require.Equal(t, 200, code, "%v", m)
	assert.Equal(t, "fail", m["status"])
	assert.Equal(t, "fail", callbackStatus(t, rc.wait(t, 1, 5*time.Second)[0]))
	assert.Equal(t, spent+gateway.MustMoney("105"), mustBalance(t, e, testMerchant, "MYR").Available, "amount and fee come back")
	assert.Equal(t, "fail", checkStatus(t, e, "/merchant/check_withdraw_status", "REV-W"))
	assertLedgerConsistent(t, e)

	e.Withdraw(t, "REV-P", map[string]string{"account_no": "4000000009"})
	code, m = adminForm(t, e, http.MethodPost, "/sandbox/api/withdrawals/REV-P/reverse", url.Values{})
	assert.Equal(t, http.StatusConflict, code, "a pending order cannot be reversed: %v", m)
	code, _ = adminForm(t, e, http.MethodPost, "/sandbox/api/withdrawals/NOPE/reverse", url.Values{})
	assert.Equal(t, http.StatusNotFound, code)
}

func checkStatus(t *testing.T, e *testEnv, path, id string) string {
	t.Helper()
	m := e.Call(t, path, map[string]string{"username": testMerchant, "id": id})
	return m["order_status"].(string)
}

// TestReverseAfterRule: a rule's reverse_after reverses a payout that long after it
// completes, by the sandbox's clock: nothing happens before, the reversal and its
// callback at once when the clock passes it.
func TestReverseAfterRule(t *testing.T) {
	rc := newRecorder(t, nil)
	clk := clock.Frozen(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	e := openEnv(t, inproc.Options{Clock: clk, Changes: []func(*config.Config){withCallback(rc.URL), func(c *config.Config) {
		c.Scenarios = []scenarios.Rule{{Name: "bounce", Match: scenarios.Match{Kind: gateway.KindWithdrawal, AccountNo: "^777"},
			Effect: scenarios.Effect{Outcome: gateway.OutcomeCompleted, ReverseAfter: config.Duration(30 * time.Second)}}}
		require.NoError(t, scenarios.Validate(c.Scenarios))
	}}})
	e.Withdraw(t, "RA-1", map[string]string{"account_no": "7770001"})
	assert.Equal(t, "completed", callbackStatus(t, rc.wait(t, 1, 5*time.Second)[0]))
	o := e.adminOrder(t, gateway.KindWithdrawal, "RA-1")
	assert.Equal(t, "completed", o.Status)

	require.NoError(t, clk.Advance(29*time.Second))
	assert.Equal(t, "completed", checkStatus(t, e, "/merchant/check_withdraw_status", "RA-1"), "not before reverse_after")
	require.NoError(t, clk.Advance(time.Second))
	assert.Equal(t, "fail", callbackStatus(t, rc.wait(t, 1, 5*time.Second)[0]))
	assert.Equal(t, "fail", checkStatus(t, e, "/merchant/check_withdraw_status", "RA-1"))
	assertLedgerConsistent(t, e)
}
