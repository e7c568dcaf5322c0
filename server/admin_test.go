package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/config"
	"github.com/vpay88/vpay88-sandbox/internal/inproc"
	"github.com/vpay88/vpay88-sandbox/server"
)

// adminDo sends an admin request and decodes the JSON answer.
func adminDo(tb testing.TB, e *testEnv, method, path, contentType, body, token string) (int, map[string]any) {
	tb.Helper()
	req, err := http.NewRequest(method, e.URL+path, strings.NewReader(body))
	require.NoError(tb, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(tb, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(tb, err)
	var m map[string]any
	require.NoError(tb, json.Unmarshal(b, &m), "body: %s", b)
	return resp.StatusCode, m
}

func adminGet(tb testing.TB, e *testEnv, path string) (int, map[string]any) {
	return adminDo(tb, e, http.MethodGet, path, "", "", "")
}

func adminForm(tb testing.TB, e *testEnv, method, path string, v url.Values) (int, map[string]any) {
	return adminDo(tb, e, method, path, "application/x-www-form-urlencoded", v.Encode(), "")
}

func TestAdminOrders(t *testing.T) {
	e := MustOpenEnv(t)
	e.Deposit(t, "A-1", nil)
	e.Deposit(t, "A-2", map[string]string{"currency": "VND"})
	e.Deposit(t, "B-1", nil)
	e.Withdraw(t, "W-1", map[string]string{"account_no": "4000000009"}) // stays pending

	t.Run("OK", func(t *testing.T) {
		code, m := adminGet(t, e, "/sandbox/api/orders")
		require.Equal(t, 200, code)
		assert.EqualValues(t, 4, m["total"])
		orders := m["orders"].([]any)
		assert.Equal(t, "W-1", orders[0].(map[string]any)["order_id"], "newest first")
	})
	for _, tc := range []struct {
		query string
		want  int
	}{
		{"kind=deposit", 3}, {"kind=withdrawal", 1}, {"currency=VND", 1}, {"currency=vnd", 1},
		{"prefix=A-", 2}, {"status=pending", 4}, {"status=completed", 0}, {"merchant=vpay88-test", 4},
		{"merchant=vpay88_test", 4}, // an alias names the same merchant
		{"kind=deposit&limit=1", 3}, {"kind=deposit&offset=2", 3},
	} {
		t.Run("Filter "+tc.query, func(t *testing.T) {
			code, m := adminGet(t, e, "/sandbox/api/orders?"+tc.query)
			require.Equal(t, 200, code)
			assert.EqualValues(t, tc.want, m["total"])
		})
	}
	_, m := adminGet(t, e, "/sandbox/api/orders?kind=deposit&limit=1")
	assert.Len(t, m["orders"], 1)
	_, m = adminGet(t, e, "/sandbox/api/orders?kind=deposit&offset=2")
	assert.Len(t, m["orders"], 1)

	for _, bad := range []struct {
		query, want string
		code        int
	}{
		{"kind=refund", "kind must be", 400}, {"status=paid", "status must be", 400},
		{"limit=0", "limit must be", 400}, {"limit=9999", "limit must be", 400}, {"offset=-1", "offset must be", 400},
		{"merchant=nobody", "unknown merchant", 404},
	} {
		t.Run("Err "+bad.query, func(t *testing.T) {
			code, m := adminGet(t, e, "/sandbox/api/orders?"+bad.query)
			assert.Equal(t, bad.code, code)
			assert.Contains(t, m["error"], bad.want)
		})
	}
}

func TestAdminOrderSettleResend(t *testing.T) {
	rec := newRecorder(t, nil)
	e := MustOpenEnv(t, func(c *config.Config) { c.Merchants[0].CallbackURL = rec.URL })
	e.Deposit(t, "S-1", nil)

	code, m := adminGet(t, e, "/sandbox/api/deposits/S-1")
	require.Equal(t, 200, code)
	assert.Equal(t, "pending", m["status"])
	assert.Empty(t, m["callbacks"])

	code, m = adminForm(t, e, http.MethodPost, "/sandbox/api/deposits/S-1/settle", url.Values{"outcome": {"completed"}, "name": {"Ali Bin Abu"}})
	require.Equal(t, 200, code, "%v", m)
	assert.Equal(t, "completed", m["status"])
	assert.Equal(t, "Ali Bin Abu", m["name"])
	rec.wait(t, 1, 5*time.Second)

	code, m = adminForm(t, e, http.MethodPost, "/sandbox/api/deposits/S-1/settle", url.Values{"outcome": {"fail"}})
	assert.Equal(t, 409, code)
	assert.Contains(t, m["error"], "already completed")

	code, m = adminDo(t, e, http.MethodPost, "/sandbox/api/deposits/S-1/callback", "", "", "")
	assert.Equal(t, 202, code)
	assert.Equal(t, "resend", m["note"])
	rec.wait(t, 1, 5*time.Second)

	// The receiver has answered; the attempt is recorded just after.
	var cbs []any
	require.Eventually(t, func() bool {
		_, m = adminGet(t, e, "/sandbox/api/deposits/S-1")
		cbs = m["callbacks"].([]any)
		for _, cb := range cbs {
			if cb.(map[string]any)["state"] != "delivered" {
				return false
			}
		}
		return len(cbs) == 2
	}, 5*time.Second, 10*time.Millisecond)
	for _, cb := range cbs {
		c := cb.(map[string]any)
		assert.Equal(t, "delivered", c["state"])
		log := c["attempt_log"].([]any)
		require.Len(t, log, 1)
		assert.EqualValues(t, 200, log[0].(map[string]any)["http_status"])
		assert.Equal(t, "success", log[0].(map[string]any)["answer"])
	}

	_, m = adminGet(t, e, "/sandbox/api/callbacks")
	assert.EqualValues(t, 2, m["total"])
	_, m = adminGet(t, e, "/sandbox/api/callbacks?merchant=vpay88_test")
	assert.EqualValues(t, 2, m["total"], "an alias names the same merchant")
	code, _ = adminGet(t, e, "/sandbox/api/callbacks?merchant=ghost")
	assert.Equal(t, 404, code)
	_, m = adminGet(t, e, "/sandbox/api/callbacks?state=pending")
	assert.EqualValues(t, 0, m["total"])
	code, _ = adminGet(t, e, "/sandbox/api/callbacks?state=lost")
	assert.Equal(t, 400, code)

	t.Run("Errors", func(t *testing.T) {
		for _, tc := range []struct {
			method, path string
			form         url.Values
			code         int
			want         string
		}{
			{"GET", "/sandbox/api/deposits/nope", nil, 404, "no deposit nope"},
			{"GET", "/sandbox/api/withdrawals/S-1", nil, 404, "no withdrawal S-1"},
			{"GET", "/sandbox/api/deposits/S-1?merchant=ghost", nil, 404, "unknown merchant"},
			{"POST", "/sandbox/api/deposits/nope/settle", url.Values{"outcome": {"completed"}}, 404, "no deposit"},
			{"POST", "/sandbox/api/deposits/S-1/settle", url.Values{}, 400, "outcome is required"},
			{"POST", "/sandbox/api/deposits/S-1/settle", url.Values{"outcome": {"paid"}}, 400, "unknown outcome"},
			{"POST", "/sandbox/api/deposits/S-1/settle", url.Values{"outcome": {"name_mismatch"}}, 400, "withdrawals only"},
			{"POST", "/sandbox/api/deposits/nope/callback", url.Values{}, 404, "no deposit"},
		} {
			code, m := adminForm(t, e, tc.method, tc.path, tc.form)
			assert.Equal(t, tc.code, code, tc.path)
			assert.Contains(t, m["error"], tc.want, tc.path)
		}
		e.Deposit(t, "P-1", nil)
		code, m := adminForm(t, e, "POST", "/sandbox/api/deposits/P-1/callback", nil)
		assert.Equal(t, 409, code)
		assert.Contains(t, m["error"], "pending")
	})
}

func TestAdminBalancesMerchantsReset(t *testing.T) {
	e := MustOpenEnv(t)
	code, m := adminGet(t, e, "/sandbox/api/merchants")
	require.Equal(t, 200, code)
	ms := m["merchants"].([]any)
	require.Len(t, ms, 1)
	mm := ms[0].(map[string]any)
	assert.Equal(t, "vpay88-test", mm["username"])
	assert.NotContains(t, mm, "api_key")
	assert.NotContains(t, mm, "secret_key")

	_, m = adminGet(t, e, "/sandbox/api/balances")
	assert.Len(t, m["balances"], 5)

	code, m = adminForm(t, e, http.MethodPut, "/sandbox/api/balances/vpay88-test/MYR", url.Values{"available": {"150.5"}})
	require.Equal(t, 200, code, "%v", m)
	assert.Equal(t, "150.5000", m["available"], "amounts are exact decimal strings")
	// The new balance is what a payout is checked against.
	assert.Equal(t, "Balance not enough!", e.Withdraw(t, "W-big", map[string]string{"amount": "146"})["message"])
	assert.Equal(t, true, e.Withdraw(t, "W-ok", map[string]string{"amount": "145", "account_no": "4000000009"})["status"])

	for _, tc := range []struct {
		path string
		form url.Values
		code int
		want string
	}{
		{"/sandbox/api/balances/ghost/MYR", url.Values{"available": {"1"}}, 404, "unknown merchant"},
		{"/sandbox/api/balances/vpay88-test/EUR", url.Values{"available": {"1"}}, 404, "no currency EUR"},
		{"/sandbox/api/balances/vpay88-test/MYR", url.Values{"available": {"-1"}}, 400, "available must be"},
		{"/sandbox/api/balances/vpay88-test/MYR", url.Values{}, 400, "available must be"},
	} {
		code, m := adminForm(t, e, http.MethodPut, tc.path, tc.form)
		assert.Equal(t, tc.code, code, tc.path)
		assert.Contains(t, m["error"], tc.want)
	}
	code, _ = adminGet(t, e, "/sandbox/api/balances?merchant=ghost")
	assert.Equal(t, 404, code)

	// Reset one merchant: orders gone, balances back to the start.
	code, m = adminForm(t, e, http.MethodPost, "/sandbox/api/reset", url.Values{"merchant": {"vpay88_test"}})
	require.Equal(t, 200, code)
	assert.Equal(t, "vpay88-test", m["reset"])
	_, m = adminGet(t, e, "/sandbox/api/orders")
	assert.EqualValues(t, 0, m["total"])
	_, m = adminGet(t, e, "/sandbox/api/balances")
	for _, b := range m["balances"].([]any) {
		assert.Equal(t, "1000000.0000", b.(map[string]any)["available"])
		assert.Equal(t, "0.0000", b.(map[string]any)["reserved"])
	}
	// The id can be used again after a reset.
	assert.Equal(t, true, e.Withdraw(t, "W-ok", nil)["status"])
	e.Deposit(t, "D-1", nil)

	code, m = adminForm(t, e, http.MethodPost, "/sandbox/api/reset", nil)
	require.Equal(t, 200, code)
	assert.Equal(t, "all", m["reset"])
	_, m = adminGet(t, e, "/sandbox/api/orders")
	assert.EqualValues(t, 0, m["total"])
	_, m = adminGet(t, e, "/sandbox/api/journal")
	assert.EqualValues(t, 0, m["total"])
	code, _ = adminForm(t, e, http.MethodPost, "/sandbox/api/reset", url.Values{"merchant": {"ghost"}})
	assert.Equal(t, 404, code)
}

func TestAdminJournal(t *testing.T) {
	e := MustOpenEnv(t)
	e.Deposit(t, "J-1", nil) // auth + generate_orders
	e.Call(t, "/merchant/check_status", map[string]string{"username": "vpay88-test", "id": "nope"})

	_, m := adminGet(t, e, "/sandbox/api/journal")
	require.EqualValues(t, 3, m["total"])
	entries := m["entries"].([]any)
	last := entries[0].(map[string]any)
	assert.Equal(t, "/merchant/check_status", last["endpoint"])
	assert.Equal(t, "Order not found.", last["message"])
	assert.Equal(t, `{"status":false,"message":"Order not found."}`, last["response"])
	assert.Equal(t, "nope", last["fields"].(map[string]any)["id"])
	assert.NotEmpty(t, last["request_id"])

	_, m = adminGet(t, e, "/sandbox/api/journal?endpoint=generate_orders")
	assert.EqualValues(t, 1, m["total"])
	_, m = adminGet(t, e, "/sandbox/api/journal?message=OK")
	assert.EqualValues(t, 2, m["total"])
	_, m = adminGet(t, e, "/sandbox/api/journal?q=J-1")
	assert.EqualValues(t, 1, m["total"])
	_, m = adminGet(t, e, "/sandbox/api/journal?limit=1&offset=1")
	assert.Len(t, m["entries"], 1)
}

func TestAdminScenarios(t *testing.T) {
	e := MustOpenEnv(t)
	_, m := adminGet(t, e, "/sandbox/api/scenarios")
	assert.Empty(t, m["rules"])

	rules := "- name: big deposits fail\n  match: {kind: deposit, amount_min: 5000}\n  effect: {outcome: fail}\n"
	code, m := adminDo(t, e, http.MethodPut, "/sandbox/api/scenarios", "application/yaml", rules, "")
	require.Equal(t, 200, code, "%v", m)
	e.Deposit(t, "R-1", map[string]string{"amount": "6000"})
	st := e.Call(t, "/merchant/check_status", map[string]string{"username": "vpay88-test", "id": "R-1"})
	assert.Equal(t, "fail", st["order_status"])

	_, m = adminGet(t, e, "/sandbox/api/scenarios")
	assert.Contains(t, m["yaml"], "big deposits fail")

	for _, tc := range []struct{ body, want string }{
		{"- match: {kind: refund}\n  effect: {outcome: fail}\n", "rules:1: scenarios[0].match.kind"},
		{"- match: {orderid: '('}\n  effect: {outcome: fail}\n", "bad pattern"},
		{"- match: {}\n  effect: {outcome: paid}\n", "outcome \"paid\""},
		{"- match: {}\n  effect: {}\n", "no effect"},
		{"- match: {kind: deposit}\n  effect: {outcome: name_mismatch}\n", "withdrawals only"},
		{"- matc: {}\n", "unknown field"},
		{"! 00", "not a YAML document"}, // crashed the YAML decoder before (found by FuzzParse)
		{"scenarios:\n  - match: {kind: deposit}\n    effect: {outcome: rejected}\n", "rules:3: scenarios[0].effect.outcome"},
	} {
		code, m := adminDo(t, e, http.MethodPut, "/sandbox/api/scenarios", "application/yaml", tc.body, "")
		assert.Equal(t, 400, code, tc.body)
		assert.Contains(t, m["error"], tc.want, tc.body)
	}
	// The old rules stay after a refusal.
	_, m = adminGet(t, e, "/sandbox/api/scenarios")
	assert.Len(t, m["rules"], 1)

	// A document with a scenarios: key is accepted too; an empty list clears.
	code, _ = adminDo(t, e, http.MethodPut, "/sandbox/api/scenarios", "application/yaml", "scenarios: []\n", "")
	require.Equal(t, 200, code)
	_, m = adminGet(t, e, "/sandbox/api/scenarios")
	assert.Empty(t, m["rules"])
}

func TestAdminTokenGuard(t *testing.T) {
	e := MustOpenEnv(t)
	// A second server over the same store options but with a token.
	opts := e.Opts
	opts.AdminToken = "s3cret"
	srv, err := server.New(opts)
	require.NoError(t, err)
	t.Cleanup(func() { srv.Close() })
	guarded := &testEnv{URL: startHTTP(t, srv)}

	code, m := adminDo(t, guarded, http.MethodGet, "/sandbox/api/orders", "", "", "")
	assert.Equal(t, 401, code)
	assert.Contains(t, m["error"], "Bearer")
	code, _ = adminDo(t, guarded, http.MethodGet, "/sandbox/api/orders", "", "", "wrong")
	assert.Equal(t, 401, code)
	code, _ = adminDo(t, guarded, http.MethodGet, "/sandbox/api/orders", "", "", "s3cret")
	assert.Equal(t, 200, code)
	code, _ = adminDo(t, guarded, http.MethodGet, "/sandbox/api/openapi.json", "", "", "")
	assert.Equal(t, 200, code, "the OpenAPI document stays public")
	// The vendor API is never guarded by the admin token.
	code, _ = guarded.PostForm(t, "/merchant/currency", map[string]string{"username": "vpay88-test"})
	assert.Equal(t, 200, code)
	// Without a token configured, the admin surface is open.
	code, _ = adminGet(t, e, "/sandbox/api/orders")
	assert.Equal(t, 200, code)
}

// TestOpenAPIMatchesRoutes checks the OpenAPI document against the routes that exist,
// both ways, so neither can drift.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	e := MustOpenEnv(t)
	code, doc := adminGet(t, e, "/sandbox/api/openapi.json")
	require.Equal(t, 200, code)
	assert.Equal(t, "3.0.3", doc["openapi"])
	var documented []string
	for path, ops := range doc["paths"].(map[string]any) {
		for method := range ops.(map[string]any) {
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	param := regexp.MustCompile(`:([a-z]+)`)
	var routed []string
	for _, r := range e.Srv.Routes() {
		if (strings.HasPrefix(r.Path, "/sandbox/api/") || strings.HasPrefix(r.Path, "/sandbox/capture/")) && !strings.HasPrefix(r.Method, "echo_") {
			routed = append(routed, r.Method+" "+param.ReplaceAllString(r.Path, "{$1}"))
		}
	}
	sort.Strings(documented)
	sort.Strings(routed)
	assert.Equal(t, routed, documented)
}

// startHTTP serves h on 127.0.0.1 until the test ends.
func startHTTP(t *testing.T, h http.Handler) string {
	hs, err := inproc.Serve("127.0.0.1:0", h)
	require.NoError(t, err)
	t.Cleanup(hs.Close)
	return hs.URL
}

func TestAdminScenariosBadValueNamesLine(t *testing.T) {
	e := MustOpenEnv(t)
	code, m := adminDo(t, e, http.MethodPut, "/sandbox/api/scenarios", "application/yaml",
		"- name: slow\n  match: {kind: deposit}\n  effect:\n    outcome: completed\n    delay: soon\n", "")
	assert.Equal(t, 400, code)
	assert.Contains(t, m["error"], "rules:5:")
	assert.Contains(t, m["error"], "not a duration")
}

func TestAdminLedger(t *testing.T) {
	e := MustOpenEnv(t)
	e.Deposit(t, "L-1", map[string]string{"email": "success@example.com"})              // credit 97
	e.Withdraw(t, "L-W", map[string]string{"account_no": "4000000002", "amount": "10"}) // reserve 15, release 15

	code, m := adminGet(t, e, "/sandbox/api/ledger?currency=myr")
	require.Equal(t, 200, code)
	assert.EqualValues(t, 4, m["total"], "opening, deposit_credit, payout_reserve, payout_release")
	entries := m["entries"].([]any)
	var reasons []string
	for _, en := range entries {
		reasons = append(reasons, en.(map[string]any)["reason"].(string))
	}
	assert.Equal(t, []string{"payout_release", "payout_reserve", "deposit_credit", "opening"}, reasons, "newest first")
	assert.Equal(t, "97.0000", entries[2].(map[string]any)["available"])
	assert.Equal(t, "L-1", entries[2].(map[string]any)["order_id"])

	_, m = adminGet(t, e, "/sandbox/api/ledger?merchant=vpay88_test&limit=1&offset=1")
	assert.EqualValues(t, 8, m["total"], "four openings of the other currencies too")
	assert.Len(t, m["entries"], 1)
	code, _ = adminGet(t, e, "/sandbox/api/ledger?merchant=ghost")
	assert.Equal(t, 404, code)
	code, _ = adminGet(t, e, "/sandbox/api/ledger?limit=0")
	assert.Equal(t, 400, code)
}
