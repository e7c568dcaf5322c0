package server_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/config"
	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/scenarios"
	"github.com/vpay88/vpay88-sandbox/server/faults"
)

// putScenarios sends a rule document as the README's curl does; contentLength -1
// sends it chunked.
func putScenarios(tb testing.TB, e *testEnv, body io.Reader, contentLength int64) (int, map[string]any) {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPut, e.URL+"/sandbox/api/scenarios", body)
	require.NoError(tb, err)
	req.ContentLength = contentLength
	req.Header.Set("Content-Type", "application/yaml")
	resp, b, err := doRequest(req)
	require.NoError(tb, err)
	m := map[string]any{}
	require.NoError(tb, json.Unmarshal(b, &m), "%s", b)
	return resp.StatusCode, m
}

func (e *testEnv) ruleCount(tb testing.TB) int {
	tb.Helper()
	var v struct {
		Rules []any `json:"rules"`
	}
	getJSON(tb, e.URL+"/sandbox/api/scenarios", &v)
	return len(v.Rules)
}

// TestScenarioBounds: every bound of PUT /sandbox/api/scenarios, through HTTP. Each
// refusal names its limit and leaves the rules in force as they were.
func TestScenarioBounds(t *testing.T) {
	e := MustOpenEnv(t)
	one := "- name: big deposits fail\n  match: {kind: deposit, amount_min: 5000}\n  effect: {outcome: fail}\n"
	code, m := putScenarios(t, e, strings.NewReader(one), int64(len(one)))
	require.Equal(t, http.StatusOK, code, "%v", m)

	many := func(n int) string { return strings.Repeat("- {effect: {outcome: completed}}\n", n) }
	bomb := "- &r {name: x, match: {kind: deposit, orderid: '^X-'}, effect: {outcome: completed}}\n" + strings.Repeat("- *r\n", 20_000)
	// Billion laughs in a window's endpoints: 90 aliases, 10^9 endpoints once expanded.
	var nb strings.Builder
	nb.WriteString("x0: &a0 [withdraw_orders]\n")
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&nb, "x%d: &a%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*a%d, ", i-1), 10), ", "))
	}
	nb.WriteString("scenarios: [{match: {kind: withdrawal}, effect: {maintenance: {endpoints: *a9, duration: 1m}}}]\n")
	nested := nb.String()
	big := "# " + strings.Repeat("x", 128<<10) + "\n" + one
	for _, tc := range []struct {
		name   string
		body   string
		length int64 // 0: len(body); -1 chunked
		code   int
		want   string
	}{
		{"EmptyBody", "", 0, 400, "rules: []"},
		{"Whitespace", "\n  \n", 0, 400, "rules: []"},
		{"OnlyComments", "# rules go here\n", 0, 400, "rules: []"},
		{"NullList", "scenarios:\n", 0, 400, "rules: []"},
		{"OverBodyLimit", big, 0, 413, "128 KiB"},
		{"OverBodyLimitChunked", big, -1, 413, "128 KiB"},
		{"AliasBomb", bomb, 0, 400, "used more than 1000 times"},
		{"NestedAliasBomb", nested, 0, 400, "YAML aliases expand past their limit"},
		{"TooManyRules", many(scenarios.MaxRules + 1), 0, 400, "at most 1000"},
		{"LongName", "- {name: " + strings.Repeat("n", 129) + ", effect: {outcome: fail}}\n", 0, 400, "scenarios[0].name: 129 bytes: at most 128"},
		{"LongPattern", "- {match: {orderid: " + strings.Repeat("a", 513) + "}, effect: {outcome: fail}}\n", 0, 400, "at most 512"},
		{"LongError", "- {effect: {error: " + strings.Repeat("e", 1025) + "}}\n", 0, 400, "at most 1024"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			length := tc.length
			if length == 0 {
				length = int64(len(tc.body))
			}
			var body io.Reader = strings.NewReader(tc.body)
			if tc.body == "" {
				body = http.NoBody
			}
			code, m := putScenarios(t, e, body, length)
			assert.Equal(t, tc.code, code, "%v", m)
			assert.Contains(t, m["error"], tc.want)
			assert.Equal(t, 1, e.ruleCount(t), "the rules in force stay")
		})
	}
	t.Run("MaxRulesAccepted", func(t *testing.T) {
		code, m := putScenarios(t, e, strings.NewReader(many(scenarios.MaxRules)), -1)
		require.Equal(t, http.StatusOK, code, "%v", m)
		assert.Equal(t, scenarios.MaxRules, e.ruleCount(t))
	})
	t.Run("ExplicitEmptyListClears", func(t *testing.T) {
		for _, doc := range []string{"rules: []\n", "scenarios: []\n", "[]"} {
			code, m := putScenarios(t, e, strings.NewReader(one), int64(len(one)))
			require.Equal(t, http.StatusOK, code, "%v", m)
			code, m = putScenarios(t, e, strings.NewReader(doc), int64(len(doc)))
			require.Equal(t, http.StatusOK, code, "%s: %v", doc, m)
			assert.Equal(t, 0, e.ruleCount(t), doc)
		}
	})
}

// TestScenarioIndexThroughHTTP: an order finds its rule behind 999 rules written for
// another merchant and currency, and the first match in list order still wins.
func TestScenarioIndexThroughHTTP(t *testing.T) {
	e := MustOpenEnv(t)
	var b strings.Builder
	for i := 0; i < scenarios.MaxRules-2; i++ {
		fmt.Fprintf(&b, "- {match: {kind: deposit, currency: THB, merchant: other}, effect: {outcome: fail}}\n")
	}
	b.WriteString("- {name: first, match: {currency: myr, orderid: '^IX-'}, effect: {outcome: completed}}\n")
	b.WriteString("- {name: second, match: {kind: deposit}, effect: {outcome: fail}}\n")
	code, m := putScenarios(t, e, strings.NewReader(b.String()), -1)
	require.Equal(t, http.StatusOK, code, "%v", m)
	e.Deposit(t, "IX-1", nil)
	e.Deposit(t, "OTHER-1", nil)
	assert.Equal(t, "completed", e.status(t, gateway.KindDeposit, "IX-1")["order_status"])
	assert.Equal(t, "fail", e.status(t, gateway.KindDeposit, "OTHER-1")["order_status"])
}

// TestConfigScenariosBounded: a config file's rules meet the API's bounds at start.
func TestConfigScenariosBounded(t *testing.T) {
	base := strings.Replace(string(config.DefaultYAML()), "\nscenarios: []\n", "\n", 1)
	_, err := config.Parse("team.yaml", []byte(base+"\nscenarios:\n"+strings.Repeat("- {effect: {outcome: completed}}\n", scenarios.MaxRules+1)))
	require.ErrorIs(t, err, config.ErrTooManyRules)
}

// TestFaultBounds: every bound of POST /sandbox/api/faults and /maintenance, through
// HTTP; a refusal queues nothing and GET /faults keeps answering.
func TestFaultBounds(t *testing.T) {
	e := MustOpenEnv(t)
	matches := map[string]string{"kind": "status"}
	for i := 0; i < 9; i++ {
		matches[fmt.Sprintf("match.f%d", i)] = "*"
	}
	for _, tc := range []struct {
		name   string
		fields map[string]string
		want   string
	}{
		{"ProbabilityNaN", map[string]string{"kind": "status", "probability": "NaN"}, "probability must be"},
		{"ProbabilityInf", map[string]string{"kind": "status", "probability": "Inf"}, "probability must be"},
		{"ProbabilityMinusInf", map[string]string{"kind": "status", "probability": "-Inf"}, "probability must be"},
		{"ProbabilityNegative", map[string]string{"kind": "status", "probability": "-0.5"}, "probability must be"},
		{"ProbabilityZero", map[string]string{"kind": "status", "probability": "0"}, "probability must be"},
		{"ProbabilityAboveOne", map[string]string{"kind": "status", "probability": "1.01"}, "probability must be"},
		{"LongMessage", map[string]string{"kind": "message", "message": strings.Repeat("m", gateway.MaxMessageBytes+1)}, "at most 1024"},
		{"LongMessageOtherKind", map[string]string{"kind": "status", "message": strings.Repeat("m", gateway.MaxMessageBytes+1)}, "at most 1024"},
		{"TooManyPatterns", matches, "at most 8 match"},
		{"LongPattern", map[string]string{"kind": "status", "match.orderid": strings.Repeat("*", 257)}, "at most 256"},
		{"LongFieldName", map[string]string{"kind": "status", "match." + strings.Repeat("f", 65): "*"}, "at most 64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, b := e.PostForm(t, "/sandbox/api/faults", tc.fields)
			assert.Equal(t, http.StatusBadRequest, code, "%s", b)
			assert.Contains(t, string(b), tc.want)
			assert.Empty(t, e.faultList(t), "nothing queued; GET /faults answers")
		})
	}
	// JSON bodies are read by the same parser: a NaN written as a string is refused too.
	code, b := postJSON(t, e.URL+"/sandbox/api/faults", `{"kind":"status","probability":"NaN"}`)
	assert.Equal(t, http.StatusBadRequest, code, "%s", b)
	assert.Empty(t, e.faultList(t))
	assert.Equal(t, true, e.Call(t, pathCurrency, map[string]string{"username": testMerchant})["status"], "no fault fires")
}

// TestFaultQueueFull: past MaxFaults live faults, a fault or a window is refused with
// the limit named; ended faults do not count, and deleting one makes room.
func TestFaultQueueFull(t *testing.T) {
	e := MustOpenEnv(t)
	f := url.Values{"kind": {"status"}, "endpoint": {"check_status"}, "match.id": {"NEVER-*"}}
	for i := 0; i < faults.MaxFaults; i++ {
		code, b := e.PostForm(t, "/sandbox/api/faults", map[string]string{"kind": f.Get("kind"), "endpoint": f.Get("endpoint"), "match.id": f.Get("match.id")})
		require.Equal(t, http.StatusCreated, code, "fault %d: %s", i, b)
	}
	code, b := e.PostForm(t, "/sandbox/api/faults", map[string]string{"kind": "reset"})
	assert.Equal(t, http.StatusBadRequest, code, "%s", b)
	assert.Contains(t, string(b), "1000 live faults, its limit")
	code, b = e.PostForm(t, "/sandbox/api/maintenance", map[string]string{"duration": "1m"})
	assert.Equal(t, http.StatusBadRequest, code, "%s", b)
	assert.Len(t, e.faultList(t), faults.MaxFaults)
	// Requests still work with the queue full of faults that never match.
	assert.Equal(t, true, e.Call(t, pathCurrency, map[string]string{"username": testMerchant})["status"])

	req, _ := http.NewRequest(http.MethodDelete, e.URL+"/sandbox/api/faults/1", nil)
	resp, _, err := doRequest(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	e.addFault(t, map[string]string{"kind": "reset", "endpoint": "bank_list"})
}

// TestFaultHitsSavedTogether: a fault hit by every request costs no goroutine and no
// store write of its own; its hits are stored (at shutdown at the latest) and survive
// a restart.
func TestFaultHitsSavedTogether(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sandbox.db")
	e := MustOpenEnvAt(t, path)
	e.addFault(t, map[string]string{"kind": "message", "message": "Params incorrect", "endpoint": "currency", "count": "0", "probability": "1"})
	before := runtime.NumGoroutine()
	const n = 300
	for i := 0; i < n; i++ {
		require.Equal(t, refusal("Params incorrect"), callRaw(t, e, pathCurrency, map[string]string{"username": testMerchant}))
	}
	assert.LessOrEqual(t, runtime.NumGoroutine(), before+5, "no goroutine per hit")
	e.Close()
	e2 := MustOpenEnvAt(t, path)
	list := e2.faultList(t)
	require.Len(t, list, 1)
	assert.Equal(t, n, list[0].Hits, "every hit stored")
}

// TestRuleWindowOnce: a rule that opens a maintenance window for requests it does not
// refuse keeps one window per rule, extended by each match, not one per request.
func TestRuleWindowOnce(t *testing.T) {
	e := MustOpenEnv(t, func(c *config.Config) {
		c.Scenarios = []scenarios.Rule{{Name: "payouts-down", Match: scenarios.Match{Kind: gateway.KindDeposit, OrderID: "^MW-"},
			Effect: scenarios.Effect{Maintenance: &scenarios.Maintenance{Endpoints: []gateway.Endpoint{gateway.EndpointWithdrawOrders}, Duration: scenarios.Duration(600e9)}}}}
		require.NoError(t, scenarios.Validate(c.Scenarios))
	})
	for i := 0; i < 20; i++ {
		// Each matched deposit is refused by the window's 503 page, as documented.
		resp, _, err := e.send(t, 5*time.Second, pathGenerateOrders, e.depositFields(t, fmt.Sprintf("MW-%d", i)))
		require.NoError(t, err)
		require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	}
	list := e.faultList(t)
	require.Len(t, list, 1, "one window for the rule")
	assert.Equal(t, "rule payouts-down", list[0].Source)
}

// TestFaultsSurviveReset: a full reset keeps the fault queue in memory (it is QA's
// setup, not state), and stores it again: a restart after the reset still has it.
func TestFaultsSurviveReset(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sandbox.db")
	e := MustOpenEnvAt(t, path)
	e.addFault(t, map[string]string{"kind": "status", "status": "502", "endpoint": "currency", "count": "0"})
	code, b := e.PostForm(t, "/sandbox/api/reset", map[string]string{})
	require.Equal(t, http.StatusOK, code, "%s", b)
	require.Len(t, e.faultList(t), 1)
	e.Close()
	e2 := MustOpenEnvAt(t, path)
	require.Len(t, e2.faultList(t), 1, "stored again after the reset")
}
