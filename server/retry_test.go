package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/config"
	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/store"
)

// switchable is a receiver that answers 500 until it is switched up.
func switchable(t *testing.T) (*recorder, *atomic.Bool) {
	var up atomic.Bool
	rc := newRecorder(t, func(_ int, w http.ResponseWriter, _ *http.Request, _ <-chan struct{}) {
		if !up.Load() {
			http.Error(w, "maintenance", http.StatusInternalServerError)
			return
		}
		_, _ = io.WriteString(w, "success")
	})
	return rc, &up
}

// withSchedule sets a short retry schedule, so deliveries end failed within the test.
func withSchedule(ds ...time.Duration) func(*config.Config) {
	return func(c *config.Config) {
		c.Callbacks.Schedule = nil
		for _, d := range ds {
			c.Callbacks.Schedule = append(c.Callbacks.Schedule, config.Duration(d))
		}
	}
}

// retryCallbacks posts the bulk retry with form fields and decodes the answer.
func (e *testEnv) retryCallbacks(tb testing.TB, fields map[string]string) (int, map[string]any) {
	tb.Helper()
	v := url.Values{}
	for k, val := range fields {
		v.Set(k, val)
	}
	resp, err := http.Post(e.URL+"/sandbox/api/callbacks/retry", "application/x-www-form-urlencoded", strings.NewReader(v.Encode()))
	require.NoError(tb, err)
	defer resp.Body.Close()
	assert.Contains(tb, resp.Header.Get("Content-Type"), "application/json")
	var m map[string]any
	b, err := io.ReadAll(resp.Body)
	require.NoError(tb, err)
	require.NoError(tb, json.Unmarshal(b, &m), "body %s", b)
	return resp.StatusCode, m
}

// waitTotal polls the admin callback log until a merchant has n deliveries in state.
func (e *testEnv) waitTotal(tb testing.TB, merchant, state string, n int, within time.Duration) {
	tb.Helper()
	if !assert.Eventually(tb, func() bool {
		got, err := e.fetchCallbackTotal(merchant, state)
		return err == nil && got == n
	}, within, 20*time.Millisecond) {
		require.FailNowf(tb, "callbacks not in state", "%d %s callbacks of %s, want %d, after %s",
			e.callbackTotal(tb, merchant, state), state, merchant, n, within)
	}
}

// TestRetryFailedCallbacks: a receiver down until the schedule is used up leaves the
// callbacks failed; a bulk retry gives them the whole schedule again (keeping their
// attempt log), and once the receiver is back they arrive.
func TestRetryFailedCallbacks(t *testing.T) {
	t.Parallel()
	sched := []time.Duration{0, 50 * time.Millisecond, 50 * time.Millisecond}
	rc, up := switchable(t)
	e := MustOpenEnv(t, withCallback(rc.URL), withSchedule(sched...))
	ids := []string{"RETRY-1", "RETRY-2", "RETRY-3"}
	e.createDeposits(t, testMerchant, testAPIKey, "success@example.com", ids)
	e.waitTotal(t, testMerchant, store.DeliveryFailed, len(ids), 5*time.Second)
	rc.wait(t, len(ids)*len(sched), time.Second) // drain: one hit per attempt

	// Still down: a retry runs the whole schedule again, and fails again.
	code, m := e.retryCallbacks(t, map[string]string{"merchant": "vpay88_test"}) // an alias names the merchant
	require.Equal(t, http.StatusOK, code, "%v", m)
	assert.EqualValues(t, len(ids), m["retried"])
	rc.wait(t, len(ids)*len(sched), 5*time.Second)
	e.waitTotal(t, testMerchant, store.DeliveryFailed, len(ids), 5*time.Second)
	for _, id := range ids {
		v := e.adminOrder(t, gateway.KindDeposit, id)
		require.Len(t, v.Callbacks, 1)
		assert.Equal(t, 2*len(sched), v.Callbacks[0].Attempts, "%s: a fresh run of %d attempts", id, len(sched))
	}

	// Back up: the next retry delivers each with one more attempt, logged as n+1.
	up.Store(true)
	code, m = e.retryCallbacks(t, nil) // state failed and every merchant by default
	require.Equal(t, http.StatusOK, code, "%v", m)
	assert.EqualValues(t, len(ids), m["retried"])
	seen := map[string]bool{}
	for _, h := range rc.wait(t, len(ids), 5*time.Second) {
		var cb struct {
			OrderID string `json:"order_id"`
		}
		require.NoError(t, json.Unmarshal(h.Body, &cb))
		seen[cb.OrderID] = true
	}
	assert.Len(t, seen, len(ids))
	for _, id := range ids {
		v := e.waitOrder(t, gateway.KindDeposit, id, 3*time.Second, func(v orderJSON) bool {
			return len(v.Callbacks) == 1 && v.Callbacks[0].State == store.DeliveryDelivered
		})
		log := v.Callbacks[0].AttemptLog
		n := 2*len(sched) + 1
		require.Len(t, log, n, "%s: every attempt kept", id)
		assert.Equal(t, n, v.Callbacks[0].Attempts)
		for i, a := range log {
			assert.Equal(t, i+1, a.N)
		}
		assert.Equal(t, http.StatusInternalServerError, log[n-2].Status)
		assert.Equal(t, http.StatusOK, log[n-1].Status)
		assert.Equal(t, "success", log[n-1].Answer)
	}

	code, m = e.retryCallbacks(t, nil)
	assert.Equal(t, http.StatusOK, code)
	assert.EqualValues(t, 0, m["retried"], "nothing failed is left")
	assert.Equal(t, len(ids), e.callbackTotal(t, testMerchant, store.DeliveryDelivered), "all delivered, none due again")
	assert.Equal(t, len(ids)*(2*len(sched)+1), rc.Count(), "one request per logged attempt")
}

// TestRetryPendingCallbacks: state=pending makes a delivery waiting for a distant
// next try due now.
func TestRetryPendingCallbacks(t *testing.T) {
	t.Parallel()
	rc, up := switchable(t)
	e := MustOpenEnv(t, withCallback(rc.URL), withSchedule(0, time.Hour))
	e.createDeposits(t, testMerchant, testAPIKey, "success@example.com", []string{"RETRY-P"})
	rc.wait(t, 1, 5*time.Second)
	e.waitOrder(t, gateway.KindDeposit, "RETRY-P", 3*time.Second, func(v orderJSON) bool {
		return len(v.Callbacks) == 1 && v.Callbacks[0].Attempts == 1 && v.Callbacks[0].State == store.DeliveryPending
	})

	code, m := e.retryCallbacks(t, map[string]string{"state": "failed"})
	assert.Equal(t, http.StatusOK, code)
	assert.EqualValues(t, 0, m["retried"], "a pending delivery is not failed")

	up.Store(true)
	code, m = e.retryCallbacks(t, map[string]string{"state": "pending", "merchant": testMerchant})
	require.Equal(t, http.StatusOK, code, "%v", m)
	assert.EqualValues(t, 1, m["retried"])
	rc.wait(t, 1, 5*time.Second)
	v := e.waitOrder(t, gateway.KindDeposit, "RETRY-P", 3*time.Second, func(v orderJSON) bool {
		return len(v.Callbacks) == 1 && v.Callbacks[0].State == store.DeliveryDelivered
	})
	require.Len(t, v.Callbacks[0].AttemptLog, 2)
	assert.Equal(t, 2, v.Callbacks[0].AttemptLog[1].N)
}

// TestRetryCallbacksErrors: an unknown merchant or state is refused with a JSON error.
func TestRetryCallbacksErrors(t *testing.T) {
	t.Parallel()
	e := MustOpenEnv(t)
	code, m := e.retryCallbacks(t, map[string]string{"merchant": "nobody"})
	assert.Equal(t, http.StatusNotFound, code)
	assert.Contains(t, m["error"], "unknown merchant nobody")
	for _, state := range []string{"delivered", "dropped", "all"} {
		code, m = e.retryCallbacks(t, map[string]string{"state": state})
		assert.Equal(t, http.StatusBadRequest, code, state)
		assert.NotEmpty(t, m["error"], state)
	}
	// The query works as well as the form.
	resp, err := http.Post(e.URL+"/sandbox/api/callbacks/retry?merchant=nobody", "", nil)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}
