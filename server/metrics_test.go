package server_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/config"
)

// scrape returns the /metrics text.
func scrape(t *testing.T, e *testEnv) string {
	t.Helper()
	resp, err := http.Get(e.URL + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("Content-Type"), "text/plain")
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

// TestMetricsCounts runs a known sequence of requests and checks every count.
func TestMetricsCounts(t *testing.T) {
	rec := newRecorder(t, nil)
	e := MustOpenEnv(t, func(c *config.Config) { c.Merchants[0].CallbackURL = rec.URL })

	e.Deposit(t, "M-1", map[string]string{"email": "success@example.com"}) // auth + order, completes at once
	e.Deposit(t, "M-2", nil)                                               // auth + order, pending
	e.Deposit(t, "M-2", nil)                                               // auth + Order ID Exist.
	e.Withdraw(t, "M-W", map[string]string{"account_no": "4000000002"})    // auth + order, fails at once
	e.Call(t, "/merchant/auth", map[string]string{"username": testMerchant, "api_key": "bad"})
	e.Call(t, "/merchant/check_status", map[string]string{"username": testMerchant, "id": "M-1"})
	e.Call(t, "/merchant/check_status", map[string]string{"username": testMerchant})
	rec.wait(t, 2, 5*time.Second)

	want := []string{
		`vpay88_requests_total{endpoint="/merchant/auth",message="OK"} 4`,
		`vpay88_requests_total{endpoint="/merchant/auth",message="Params incorrect"} 1`,
		`vpay88_requests_total{endpoint="/merchant/generate_orders",message="OK"} 2`,
		`vpay88_requests_total{endpoint="/merchant/generate_orders",message="Order ID Exist."} 1`,
		`vpay88_requests_total{endpoint="/merchant/withdraw_orders",message="OK"} 1`,
		`vpay88_requests_total{endpoint="/merchant/check_status",message="OK"} 1`,
		`vpay88_requests_total{endpoint="/merchant/check_status",message="Params missing."} 1`,
		`vpay88_orders_created_total{currency="MYR",kind="deposit"} 2`,
		`vpay88_orders_created_total{currency="MYR",kind="withdrawal"} 1`,
		`vpay88_orders_settled_total{kind="deposit",status="completed"} 1`,
		`vpay88_orders_settled_total{kind="withdrawal",status="fail"} 1`,
	}
	var text string
	// The callbacks' attempts are counted just after the receiver answers.
	require.Eventually(t, func() bool {
		text = scrape(t, e)
		return strings.Contains(text, `vpay88_callback_attempts_total{result="delivered"} 2`)
	}, 5*time.Second, 10*time.Millisecond, "callback count")
	for _, w := range want {
		assert.Contains(t, text, w+"\n")
	}
	assert.Contains(t, text, "vpay88_callback_attempt_seconds_count 2\n")
	assert.Contains(t, text, `vpay88_request_seconds_count{endpoint="/merchant/auth"} 5`+"\n")
	assert.Contains(t, text, "go_goroutines")
}
