package server_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/clock"
	"github.com/vpay88/vpay88-sandbox/config"
	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/inproc"
)

// TestRetriesFollowTheClock: on the real default schedule (0 s, 1 m, 5 m, …) a
// receiver that answers 500 gets attempt 2 exactly when the sandbox clock passes one
// minute and attempt 3 when it passes six, with no sleeping in the test.
func TestRetriesFollowTheClock(t *testing.T) {
	rc := newRecorder(t, func(_ int, w http.ResponseWriter, _ *http.Request, _ <-chan struct{}) {
		w.WriteHeader(http.StatusInternalServerError)
	})
	clk := clock.Frozen(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	e := openEnv(t, inproc.Options{Clock: clk, Changes: []func(*config.Config){withCallback(rc.URL), func(c *config.Config) {
		c.Callbacks.Schedule = config.Default().Callbacks.Schedule // the real one, not the fast
	}}})
	e.Withdraw(t, "CLK-1", map[string]string{"account_no": "4000000001"})
	rc.wait(t, 1, 5*time.Second)
	attempts := func() int {
		o := e.adminOrder(t, gateway.KindWithdrawal, "CLK-1")
		require.Len(t, o.Callbacks, 1)
		return o.Callbacks[0].Attempts
	}
	require.Eventually(t, func() bool { return attempts() == 1 }, 5*time.Second, time.Millisecond)

	require.NoError(t, clk.Advance(59*time.Second))
	assert.Equal(t, 1, attempts(), "not before the minute")
	require.NoError(t, clk.Advance(time.Second))
	rc.wait(t, 1, 5*time.Second)
	require.Eventually(t, func() bool { return attempts() == 2 }, 5*time.Second, time.Millisecond)

	require.NoError(t, clk.Advance(5*time.Minute-time.Second))
	assert.Equal(t, 2, attempts(), "attempt 3 waits five minutes after attempt 2")
	require.NoError(t, clk.Advance(time.Second))
	rc.wait(t, 1, 5*time.Second)
	require.Eventually(t, func() bool { return attempts() == 3 }, 5*time.Second, time.Millisecond)
}

// TestTokenExpiresByTheClock: a token issued, the clock moved 31 minutes, and
// generate_orders answers "Params incorrect." (token lifetime 30 minutes).
func TestTokenExpiresByTheClock(t *testing.T) {
	clk := clock.Frozen(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	e := openEnv(t, inproc.Options{Clock: clk})
	tok := e.Auth(t)
	require.NoError(t, clk.Advance(31*time.Minute))
	assert.Equal(t, refusal(gateway.MsgParamsIncorrectDot), callRaw(t, e, pathGenerateOrders, map[string]string{"username": "john",
		"auth": tok, "amount": "100", "currency": "MYR", "orderid": "EXP-1", "email": "john@example.com", "phone_number": "1"}))
}

// TestPayoutCompletesByTheClock: a payout completes when the clock passes the
// withdrawal delay, not before.
func TestPayoutCompletesByTheClock(t *testing.T) {
	clk := clock.Frozen(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	e := openEnv(t, inproc.Options{Clock: clk, Changes: []func(*config.Config){func(c *config.Config) {
		c.WithdrawalDelay = config.Duration(10 * time.Minute)
	}}})
	e.Withdraw(t, "CLK-W", nil)
	require.NoError(t, clk.Advance(10*time.Minute-time.Second))
	assert.Equal(t, "pending", e.adminOrder(t, gateway.KindWithdrawal, "CLK-W").Status)
	require.NoError(t, clk.Advance(time.Second))
	require.Eventually(t, func() bool { return e.adminOrder(t, gateway.KindWithdrawal, "CLK-W").Status == "completed" },
		5*time.Second, time.Millisecond)
}
