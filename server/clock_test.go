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
	"github.com/vpay88/vpay88-sandbox/server"
)

// t0 is where the frozen test clocks start.
var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// frozenEnv is a sandbox on a clock frozen at t0, with the real retry schedule.
func frozenEnv(t *testing.T, changes ...func(*config.Config)) *testEnv {
	t.Helper()
	return openEnv(t, inproc.Options{Clock: clock.Frozen(t0), Changes: append([]func(*config.Config){func(c *config.Config) {
		c.Callbacks.Schedule = config.Default().Callbacks.Schedule // the real one, not the fast
	}}, changes...)})
}

// moveClock posts fields to /sandbox/api/clock and decodes the answer, requiring 200.
func (e *testEnv) moveClock(tb testing.TB, fields map[string]string) server.ClockView {
	tb.Helper()
	code, b := e.PostForm(tb, "/sandbox/api/clock", fields)
	require.Equal(tb, http.StatusOK, code, "%s", b)
	var v server.ClockView
	require.NoError(tb, json.Unmarshal(b, &v))
	return v
}

func (e *testEnv) advance(tb testing.TB, d string) server.ClockView {
	tb.Helper()
	return e.moveClock(tb, map[string]string{"advance": d})
}

// attemptTimes are the sandbox times of an order's first callback's attempts.
func (e *testEnv) attemptTimes(tb testing.TB, kind gateway.Kind, id string) []time.Duration {
	tb.Helper()
	o := e.adminOrder(tb, kind, id)
	require.Len(tb, o.Callbacks, 1)
	var out []time.Duration
	for _, a := range o.Callbacks[0].AttemptLog {
		out = append(out, a.Time.Sub(t0))
	}
	return out
}

// TestClockRetriesOnTheRealSchedule: a receiver that answers 500 gets attempt 2
// exactly when the clock passes one minute and attempt 3 at six minutes, on the real
// default schedule (0 s, 1 m, 5 m, …), each advance answering only once the attempts
// that came due have been made: the test reads stored state, it never waits.
func TestClockRetriesOnTheRealSchedule(t *testing.T) {
	rc := newRecorder(t, func(_ int, w http.ResponseWriter, _ *http.Request, _ <-chan struct{}) {
		w.WriteHeader(http.StatusInternalServerError)
	})
	e := frozenEnv(t, withCallback(rc.URL), func(c *config.Config) { c.WithdrawalDelay = 0 })
	e.Withdraw(t, "CLK-1", nil)
	e.advance(t, "0s") // runs what is due now: the settlement and attempt 1
	assert.Equal(t, []time.Duration{0}, e.attemptTimes(t, gateway.KindWithdrawal, "CLK-1"))

	e.advance(t, "59s")
	assert.Len(t, e.attemptTimes(t, gateway.KindWithdrawal, "CLK-1"), 1, "not before the minute")
	e.advance(t, "1s")
	assert.Equal(t, []time.Duration{0, time.Minute}, e.attemptTimes(t, gateway.KindWithdrawal, "CLK-1"))

	e.advance(t, "4m59s")
	assert.Len(t, e.attemptTimes(t, gateway.KindWithdrawal, "CLK-1"), 2, "attempt 3 waits five minutes after attempt 2")
	v := e.advance(t, "1s")
	assert.Equal(t, []time.Duration{0, time.Minute, 6 * time.Minute}, e.attemptTimes(t, gateway.KindWithdrawal, "CLK-1"))
	assert.Equal(t, t0.Add(6*time.Minute), v.Now)
	require.NotNil(t, v.NextDue)
	assert.Equal(t, t0.Add(21*time.Minute), *v.NextDue, "attempt 4 is 15 minutes after attempt 3")
}

// TestClockOneAdvanceRunsEverythingInOrder: one advance of an hour stops at each
// instant on the way: the payout settles at its withdrawal_delay, and its callback's
// attempts are made at 10, 11, 16 and 31 minutes, each at its own sandbox time.
func TestClockOneAdvanceRunsEverythingInOrder(t *testing.T) {
	rc := newRecorder(t, func(_ int, w http.ResponseWriter, _ *http.Request, _ <-chan struct{}) {
		w.WriteHeader(http.StatusBadGateway)
	})
	e := frozenEnv(t, withCallback(rc.URL), func(c *config.Config) { c.WithdrawalDelay = config.Duration(10 * time.Minute) })
	e.Withdraw(t, "CLK-H", nil)
	v := e.advance(t, "1h")
	assert.Equal(t, t0.Add(time.Hour), v.Now)
	assert.Equal(t, []time.Duration{10 * time.Minute, 11 * time.Minute, 16 * time.Minute, 31 * time.Minute},
		e.attemptTimes(t, gateway.KindWithdrawal, "CLK-H"))
	o := e.adminOrder(t, gateway.KindWithdrawal, "CLK-H")
	assert.Equal(t, "completed", o.Status)
	var cb map[string]any
	require.NoError(t, json.Unmarshal(o.Callbacks[0].Body, &cb))
	assert.Equal(t, "completed", cb["order_status"])
}

// TestClockTokenExpires: a token issued, the clock moved 31 minutes, and
// generate_orders answers "Params incorrect." (token lifetime 30 minutes).
func TestClockTokenExpires(t *testing.T) {
	e := frozenEnv(t)
	tok := e.Auth(t)
	e.advance(t, "31m")
	assert.Equal(t, refusal(gateway.MsgParamsIncorrectDot), callRaw(t, e, pathGenerateOrders, map[string]string{"username": "john",
		"auth": tok, "amount": "100", "currency": "MYR", "orderid": "EXP-1", "email": "john@example.com", "phone_number": "1"}))
}

// TestClockPayoutCompletes: a payout completes when the clock passes the withdrawal
// delay, not before, and its callback has been delivered when the advance answers.
func TestClockPayoutCompletes(t *testing.T) {
	rc := newRecorder(t, acknowledge)
	e := frozenEnv(t, withCallback(rc.URL), func(c *config.Config) { c.WithdrawalDelay = config.Duration(10 * time.Minute) })
	e.Withdraw(t, "CLK-W", nil)
	e.advance(t, "9m59s")
	assert.Equal(t, "pending", e.adminOrder(t, gateway.KindWithdrawal, "CLK-W").Status)
	assert.Empty(t, rc.Deliveries())
	e.advance(t, "1s")
	o := e.adminOrder(t, gateway.KindWithdrawal, "CLK-W")
	assert.Equal(t, "completed", o.Status)
	assert.Equal(t, "delivered", o.Callbacks[0].State)
	require.Len(t, rc.Deliveries(), 1)
}

// TestClockDepositExpiry: with deposit_expiry 15m a deposit nobody pays fails at 15
// minutes with remarks "Expired" and its callback; one paid before stays completed.
func TestClockDepositExpiry(t *testing.T) {
	rc := newRecorder(t, acknowledge)
	e := frozenEnv(t, withCallback(rc.URL), func(c *config.Config) { c.DepositExpiry = config.Duration(15 * time.Minute) })
	e.Deposit(t, "EXP-A", nil)
	e.Deposit(t, "EXP-B", nil)
	e.mustSettle(t, gateway.KindDeposit, "EXP-B", map[string]string{"outcome": "completed"})
	e.advance(t, "14m59s")
	assert.Equal(t, "pending", e.adminOrder(t, gateway.KindDeposit, "EXP-A").Status)
	e.advance(t, "1s")
	o := e.adminOrder(t, gateway.KindDeposit, "EXP-A")
	assert.Equal(t, "fail", o.Status)
	assert.Equal(t, gateway.RemarksExpired, o.Remarks)
	require.Len(t, o.Callbacks, 1)
	assert.Equal(t, "delivered", o.Callbacks[0].State)
	var cb map[string]any
	require.NoError(t, json.Unmarshal(o.Callbacks[0].Body, &cb))
	assert.Equal(t, "fail", cb["order_status"])
	assert.Equal(t, "completed", e.adminOrder(t, gateway.KindDeposit, "EXP-B").Status)
	st := e.Call(t, "/merchant/check_status", map[string]string{"username": testMerchant, "id": "EXP-A"})
	assert.Equal(t, "fail", st["order_status"])
}

// TestClockAPI: GET shows the clock; freeze, set and JSON bodies work; a move
// backwards, a bad duration or both advance and set are refused, moving nothing.
func TestClockAPI(t *testing.T) {
	e := MustOpenEnv(t)
	var v server.ClockView
	getJSON(t, e.URL+"/sandbox/api/clock", &v)
	assert.False(t, v.Frozen)
	assert.Equal(t, "0s", v.Offset)

	v = e.moveClock(t, map[string]string{"freeze": "true", "advance": "2h"})
	assert.True(t, v.Frozen)
	assert.InDelta(t, 7200, v.OffsetSeconds, 5)
	frozenAt := v.Now

	code, b := postJSON(t, e.URL+"/sandbox/api/clock", `{"set":"`+frozenAt.Add(24*time.Hour).Format(time.RFC3339)+`"}`)
	require.Equal(t, http.StatusOK, code, "%s", b)
	require.NoError(t, json.Unmarshal(b, &v))
	assert.Equal(t, frozenAt.Add(24*time.Hour).Truncate(time.Second), v.Now)

	for _, tc := range []struct {
		fields map[string]string
		code   int
		msg    string
	}{
		{map[string]string{"advance": "-1m"}, http.StatusBadRequest, "never goes backwards"},
		{map[string]string{"advance": "soon"}, http.StatusBadRequest, "advance must be a duration"},
		{map[string]string{"set": "2020-01-01T00:00:00Z"}, http.StatusConflict, "never goes backwards"},
		{map[string]string{"set": "tomorrow"}, http.StatusBadRequest, "RFC 3339"},
		{map[string]string{"advance": "1m", "set": "2030-01-01T00:00:00Z"}, http.StatusBadRequest, "not both"},
		{map[string]string{"freeze": "maybe"}, http.StatusBadRequest, "true or false"},
	} {
		code, b := e.PostForm(t, "/sandbox/api/clock", tc.fields)
		assert.Equal(t, tc.code, code, "%v: %s", tc.fields, b)
		assert.Contains(t, string(b), tc.msg, "%v", tc.fields)
	}
	getJSON(t, e.URL+"/sandbox/api/clock", &v)
	assert.Equal(t, frozenAt.Add(24*time.Hour).Truncate(time.Second), v.Now, "refused moves moved nothing")

	v = e.moveClock(t, map[string]string{"freeze": "false"})
	assert.False(t, v.Frozen)
	assert.InDelta(t, 26*3600, v.OffsetSeconds, 5, "a restarted clock runs on from where it stood")
}

// TestClockTimesOrders: order_datetime, the callback's time and the journal use the
// sandbox's time.
func TestClockTimesOrders(t *testing.T) {
	rc := newRecorder(t, acknowledge)
	e := frozenEnv(t, withCallback(rc.URL))
	e.advance(t, "72h")
	e.Deposit(t, "CLK-T", nil)
	e.mustSettle(t, gateway.KindDeposit, "CLK-T", map[string]string{"outcome": "completed"})
	e.advance(t, "0s")
	st := e.Call(t, "/merchant/check_status", map[string]string{"username": testMerchant, "id": "CLK-T"})
	assert.Equal(t, t0.Add(72*time.Hour).In(time.Local).Format(gateway.DateTimeLayout), st["order_datetime"])
	assert.Equal(t, []time.Duration{72 * time.Hour}, e.attemptTimes(t, gateway.KindDeposit, "CLK-T"))
	var j struct {
		Entries []server.JournalEntry `json:"entries"`
	}
	getJSON(t, e.URL+"/sandbox/api/journal?endpoint=generate_orders", &j)
	require.NotEmpty(t, j.Entries)
	assert.True(t, strings.HasPrefix(j.Entries[0].Time.Format(time.RFC3339), t0.Add(72*time.Hour).Format("2006-01-02")), "%v", j.Entries[0].Time)
}
