package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/config"
	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/internal/inproc"
	"github.com/vpay88/vpay88-sandbox/scenarios"
	"github.com/vpay88/vpay88-sandbox/server"
)

// faultJSON decodes a fault as the admin API shows it.
type faultJSON struct {
	ID        int64    `json:"id"`
	Kind      string   `json:"kind"`
	Endpoints []string `json:"endpoints"`
	Hits      int      `json:"hits"`
	Remaining *int     `json:"remaining"`
	Ended     bool     `json:"ended"`
	Until     string   `json:"until"`
	Source    string   `json:"source"`
}

// addFault queues a fault, requiring 201.
func (e *testEnv) addFault(tb testing.TB, fields map[string]string) faultJSON {
	tb.Helper()
	code, b := e.PostForm(tb, "/sandbox/api/faults", fields)
	require.Equal(tb, http.StatusCreated, code, "%s", b)
	var f faultJSON
	require.NoError(tb, json.Unmarshal(b, &f))
	return f
}

func (e *testEnv) faultList(tb testing.TB) []faultJSON {
	tb.Helper()
	var v struct {
		Faults []faultJSON `json:"faults"`
	}
	getJSON(tb, e.URL+"/sandbox/api/faults", &v)
	return v.Faults
}

// send posts multipart fields with a client of the given timeout, as a merchant's
// integration would, and returns the answer or the client's error.
func (e *testEnv) send(tb testing.TB, timeout time.Duration, path string, fields map[string]string) (*http.Response, []byte, error) {
	tb.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		require.NoError(tb, w.WriteField(k, v))
	}
	require.NoError(tb, w.Close())
	req, err := http.NewRequest(http.MethodPost, e.URL+path, &buf)
	require.NoError(tb, err)
	req.Header.Set("Content-Type", w.FormDataContentType())
	hc := &http.Client{Timeout: timeout, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

func (e *testEnv) depositFields(tb testing.TB, id string) map[string]string {
	return map[string]string{"username": "john", "auth": e.Auth(tb), "amount": "100", "currency": "MYR",
		"orderid": id, "email": "john@example.com", "phone_number": "601012456789"}
}

// lastJournal is the newest journal entry of an endpoint.
func (e *testEnv) lastJournal(tb testing.TB, endpoint string) server.JournalEntry {
	tb.Helper()
	var j struct {
		Entries []server.JournalEntry `json:"entries"`
	}
	getJSON(tb, e.URL+"/sandbox/api/journal?endpoint="+endpoint, &j)
	require.NotEmpty(tb, j.Entries)
	return j.Entries[0]
}

// TestFaultStatus: a queued 502 hits the next generate_orders once, with nginx's page,
// stores nothing, is journaled as injected and counted; the request after it works.
func TestFaultStatus(t *testing.T) {
	e := MustOpenEnv(t)
	f := e.addFault(t, map[string]string{"endpoint": "generate_orders", "kind": "status", "status": "502"})
	assert.Equal(t, 1, *f.Remaining)
	resp, b, err := e.send(t, 5*time.Second, pathGenerateOrders, e.depositFields(t, "F-502"))
	require.NoError(t, err)
	assert.Equal(t, http.StatusBadGateway, resp.StatusCode)
	assert.Equal(t, "text/html", resp.Header.Get("Content-Type"))
	assert.Contains(t, string(b), "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>")
	assert.Equal(t, refusal(gateway.MsgOrderNotFound), callRaw(t, e, pathCheckStatus, map[string]string{"username": testMerchant, "id": "F-502"}), "nothing was stored")
	j := e.lastJournal(t, "generate_orders")
	assert.Equal(t, http.StatusBadGateway, j.HTTP)
	assert.Contains(t, j.Fault, "injected: status 502 html (fault 1)")
	assert.Equal(t, testMerchant, j.Merchant, "the hit is its merchant's, though no handler ran")

	assert.Equal(t, true, e.Deposit(t, "F-502", nil)["status"], "the fault was one-shot")
	list := e.faultList(t)
	require.Len(t, list, 1)
	assert.Equal(t, 1, list[0].Hits)
	assert.Equal(t, 0, *list[0].Remaining)
	assert.True(t, list[0].Ended)
	mresp, err := http.Get(e.URL + "/metrics")
	require.NoError(t, err)
	defer mresp.Body.Close()
	mb, _ := io.ReadAll(mresp.Body)
	assert.Contains(t, string(mb), `vpay88_faults_injected_total{kind="status"} 1`)
}

// TestFaultBodies: json is the vendor's shape, empty has no body, 429 says when to
// retry.
func TestFaultBodies(t *testing.T) {
	e := MustOpenEnv(t)
	for _, tc := range []struct {
		status, body string
		code         int
		ctype, want  string
	}{
		{"503", "json", 503, "application/json", `{"status":false,"message":"Service Unavailable."}`},
		{"500", "empty", 500, "", ""},
		{"429", "cloudflare", 429, "text/html; charset=UTF-8", "<h1>Error 429</h1>"},
	} {
		e.addFault(t, map[string]string{"endpoint": "currency", "kind": "status", "status": tc.status, "body": tc.body})
		resp, b, err := e.send(t, 5*time.Second, pathCurrency, map[string]string{"username": testMerchant})
		require.NoError(t, err)
		assert.Equal(t, tc.code, resp.StatusCode)
		assert.Equal(t, tc.ctype, resp.Header.Get("Content-Type"))
		assert.Contains(t, string(b), tc.want)
		if tc.code == 429 {
			assert.Equal(t, "1", resp.Header.Get("Retry-After"))
		}
	}
}

// TestFaultHang: the request is held until the client's timeout; then the handler is
// gone (its journal entry says the client gave up) and the next request is served.
func TestFaultHang(t *testing.T) {
	e := MustOpenEnv(t)
	e.addFault(t, map[string]string{"endpoint": "check_status", "kind": "hang"})
	start := time.Now()
	_, _, err := e.send(t, 300*time.Millisecond, pathCheckStatus, map[string]string{"username": testMerchant, "id": "x"})
	require.Error(t, err)
	var ne interface{ Timeout() bool }
	require.True(t, errors.As(err, &ne) && ne.Timeout(), "a client timeout: %v", err)
	assert.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond)
	require.Eventually(t, func() bool {
		var j struct {
			Entries []server.JournalEntry `json:"entries"`
		}
		getJSON(t, e.URL+"/sandbox/api/journal?endpoint=check_status", &j)
		return len(j.Entries) == 1 && j.Entries[0].Message == "injected hang: the client gave up"
	}, 5*time.Second, 10*time.Millisecond, "the hung handler ends with its client")
	assert.Equal(t, refusal(gateway.MsgOrderNotFound), callRaw(t, e, pathCheckStatus, map[string]string{"username": testMerchant, "id": "x"}))
}

// TestFaultReset: the client sees the connection reset, and nothing was stored.
func TestFaultReset(t *testing.T) {
	e := MustOpenEnv(t)
	e.addFault(t, map[string]string{"endpoint": "withdraw_orders", "kind": "reset"})
	f := map[string]string{"auth": e.Auth(t), "amount": "100", "currency": "MYR", "orderid": "F-RST",
		"bank_id": "1", "holder_name": "John Doe", "account_no": "12332343432"}
	_, _, err := e.send(t, 5*time.Second, pathWithdrawOrders, f)
	require.Error(t, err)
	assert.True(t, errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF) || strings.Contains(err.Error(), "reset"), "%v", err)
	assert.Equal(t, refusal(gateway.MsgOrderNotFound), callRaw(t, e, pathCheckWithdrawStatus, map[string]string{"username": testMerchant, "id": "F-RST"}))
}

// TestFaultSlow: the answer is right, and takes at least the duration to arrive.
func TestFaultSlow(t *testing.T) {
	e := MustOpenEnv(t)
	e.addFault(t, map[string]string{"endpoint": "bank_list", "kind": "slow", "duration": "400ms"})
	start := time.Now()
	resp, b, err := e.send(t, 10*time.Second, pathBankList, map[string]string{"username": testMerchant})
	require.NoError(t, err)
	assert.GreaterOrEqual(t, time.Since(start), 380*time.Millisecond)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m), "%s", b)
	assert.Equal(t, true, m["status"])
	// The journal entry is written once the handler has sent the last piece, which
	// the client may have read just before.
	require.Eventually(t, func() bool {
		var j struct {
			Entries []server.JournalEntry `json:"entries"`
		}
		getJSON(t, e.URL+"/sandbox/api/journal?endpoint=bank_list", &j)
		return len(j.Entries) == 1 && strings.Contains(j.Entries[0].Fault, "slow 400ms")
	}, 5*time.Second, 5*time.Millisecond)
}

// TestFaultLostAnswer is the check every integration should pass: the gateway made
// the order and the answer was lost (a 504 page, or a reset), so a naive retry is
// refused "Order ID Exist." and check_status finds the order.
func TestFaultLostAnswer(t *testing.T) {
	e := MustOpenEnv(t, noAutoWithdrawal)
	e.addFault(t, map[string]string{"endpoint": "generate_orders", "kind": "lost_answer", "match.orderid": "LOST-*"})
	resp, b, err := e.send(t, 5*time.Second, pathGenerateOrders, e.depositFields(t, "LOST-1"))
	require.NoError(t, err)
	assert.Equal(t, http.StatusGatewayTimeout, resp.StatusCode)
	assert.Contains(t, string(b), "504 Gateway Time-out")
	st := e.Call(t, pathCheckStatus, map[string]string{"username": testMerchant, "id": "LOST-1"})
	assert.Equal(t, "pending", st["order_status"], "the order exists")
	assert.Equal(t, refusal(gateway.MsgOrderIDExist), callRaw(t, e, pathGenerateOrders, e.depositFields(t, "LOST-1")))

	before, _ := e.available(t, "MYR")
	e.addFault(t, map[string]string{"endpoint": "withdraw_orders", "kind": "lost_answer", "then": "reset"})
	f := map[string]string{"auth": e.Auth(t), "amount": "100", "currency": "MYR", "orderid": "LOST-W",
		"bank_id": "1", "holder_name": "John Doe", "account_no": "12332343432"}
	_, _, err = e.send(t, 5*time.Second, pathWithdrawOrders, f)
	require.Error(t, err, "the answer was lost to a reset")
	after, reserved := e.available(t, "MYR")
	assert.Equal(t, before-gateway.MustMoney("105"), after, "the payout is reserved: amount and fee")
	assert.Equal(t, gateway.MustMoney("105"), reserved)
	assert.Equal(t, refusal(gateway.MsgOrderIDExistWithdrawal), callRaw(t, e, pathWithdrawOrders, f))
}

// TestFaultMalformed: the order is made; the answer is cut in half, or written with
// the vendor document's trailing comma.
func TestFaultMalformed(t *testing.T) {
	e := MustOpenEnv(t)
	e.addFault(t, map[string]string{"endpoint": "generate_orders", "kind": "malformed"})
	resp, b, err := e.send(t, 5*time.Second, pathGenerateOrders, e.depositFields(t, "MAL-1"))
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.False(t, json.Valid(b), "%s", b)
	assert.True(t, strings.HasPrefix(string(b), `{"status":true,`), "%s", b)
	e.addFault(t, map[string]string{"endpoint": "generate_orders", "kind": "malformed", "malformed": "trailing_comma"})
	_, b, err = e.send(t, 5*time.Second, pathGenerateOrders, e.depositFields(t, "MAL-2"))
	require.NoError(t, err)
	assert.True(t, strings.HasSuffix(string(b), `,}`), "%s", b)
	for _, id := range []string{"MAL-1", "MAL-2"} {
		assert.Equal(t, "pending", e.Call(t, pathCheckStatus, map[string]string{"username": testMerchant, "id": id})["order_status"])
	}
}

// TestFaultMessageAndMatching: a message fault refuses as the vendor does; field
// patterns, merchant and count pick which requests it hits.
func TestFaultMessageAndMatching(t *testing.T) {
	e := MustOpenEnv(t)
	e.addFault(t, map[string]string{"endpoint": "generate_orders", "kind": "message", "message": "System busy.", "count": "2", "match.orderid": "BUSY-*", "merchant": testMerchant})
	assert.Equal(t, true, e.Deposit(t, "CALM-1", nil)["status"], "another id is not hit")
	assert.Equal(t, refusal("System busy."), callRaw(t, e, pathGenerateOrders, e.depositFields(t, "BUSY-1")))
	assert.Equal(t, refusal("System busy."), callRaw(t, e, pathGenerateOrders, e.depositFields(t, "BUSY-2")))
	assert.Equal(t, true, e.Deposit(t, "BUSY-3", nil)["status"], "count 2 is spent")
}

// TestFaultProbabilityRepeats: with the same seed, a probabilistic fault hits the
// same requests of the same run in two sandboxes.
func TestFaultProbabilityRepeats(t *testing.T) {
	pattern := func() string {
		e := openEnv(t, inproc.Options{Seed: 99})
		e.addFault(t, map[string]string{"endpoint": "currency", "kind": "status", "status": "500", "probability": "0.5"})
		var out []byte
		for range 40 {
			resp, _, err := e.send(t, 5*time.Second, pathCurrency, map[string]string{"username": testMerchant})
			require.NoError(t, err)
			hit := byte('.')
			if resp.StatusCode == http.StatusInternalServerError {
				hit = 'x'
			}
			out = append(out, hit)
		}
		return string(out)
	}
	a, b := pattern(), pattern()
	assert.Equal(t, a, b)
	assert.Contains(t, a, "x")
	assert.Contains(t, a, ".")
}

// TestMaintenanceWindow: payouts are refused "Bank Maintenance.", other chosen
// endpoints answer a 503 page, until the window ends by the sandbox clock.
func TestMaintenanceWindow(t *testing.T) {
	e := frozenEnv(t)
	code, b := e.PostForm(t, "/sandbox/api/maintenance", map[string]string{"endpoint": "withdraw_orders,generate_orders", "duration": "10m"})
	require.Equal(t, http.StatusCreated, code, "%s", b)
	wd := map[string]string{"auth": e.Auth(t), "amount": "100", "currency": "MYR", "orderid": "MNT-1",
		"bank_id": "1", "holder_name": "John Doe", "account_no": "12332343432"}
	assert.Equal(t, refusal(gateway.MsgBankMaintenance), callRaw(t, e, pathWithdrawOrders, wd))
	resp, _, err := e.send(t, 5*time.Second, pathGenerateOrders, e.depositFields(t, "MNT-D"))
	require.NoError(t, err)
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.Equal(t, "60", resp.Header.Get("Retry-After"))
	assert.Equal(t, true, e.Call(t, pathCurrency, map[string]string{"username": testMerchant})["status"], "other endpoints are up")

	e.advance(t, "10m")
	wd["auth"] = e.Auth(t)
	assert.Equal(t, true, e.Call(t, pathWithdrawOrders, wd)["status"], "the window ended with the clock")
	assert.Equal(t, true, e.Deposit(t, "MNT-D", nil)["status"])
	list := e.faultList(t)
	require.Len(t, list, 1)
	assert.Equal(t, "maintenance", list[0].Kind)
	assert.True(t, list[0].Ended)
	assert.Equal(t, 2, list[0].Hits)
}

// TestFaultsByScenario: a rule's fault hits the orders it matches (a lost answer on
// one id pattern), and a rule's maintenance window refuses that payout and the next.
func TestFaultsByScenario(t *testing.T) {
	e := MustOpenEnv(t, noAutoWithdrawal, func(c *config.Config) {
		c.Scenarios = []scenarios.Rule{
			{Name: "lost", Match: scenarios.Match{OrderID: "^RULE-LOST"}, Effect: scenarios.Effect{Fault: &gateway.FaultSpec{Kind: gateway.FaultLostAnswer, Status: 502}}},
			{Name: "bank down", Match: scenarios.Match{Kind: gateway.KindWithdrawal, Amount: new(gateway.MustMoney("77"))}, Effect: scenarios.Effect{Maintenance: &scenarios.Maintenance{Duration: gateway.Duration(time.Hour)}}},
		}
		require.NoError(t, scenarios.Validate(c.Scenarios))
	})
	resp, _, err := e.send(t, 5*time.Second, pathGenerateOrders, e.depositFields(t, "RULE-LOST-1"))
	require.NoError(t, err)
	assert.Equal(t, http.StatusBadGateway, resp.StatusCode)
	assert.Equal(t, "pending", e.Call(t, pathCheckStatus, map[string]string{"username": testMerchant, "id": "RULE-LOST-1"})["order_status"])
	assert.Contains(t, e.lastJournal(t, "generate_orders").Fault, "(rule lost)")
	assert.Equal(t, true, e.Deposit(t, "OTHER-1", nil)["status"])

	wd := map[string]string{"auth": e.Auth(t), "amount": "77", "currency": "MYR", "orderid": "RULE-M1",
		"bank_id": "1", "holder_name": "John Doe", "account_no": "12332343432"}
	assert.Equal(t, refusal(gateway.MsgBankMaintenance), callRaw(t, e, pathWithdrawOrders, wd))
	wd["orderid"], wd["amount"] = "RULE-M2", "10"
	assert.Equal(t, refusal(gateway.MsgBankMaintenance), callRaw(t, e, pathWithdrawOrders, wd), "the window is open for every payout")
}

// TestFaultsSurviveRestart: the queue is state: a restart on the same file keeps it.
func TestFaultsSurviveRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sandbox.db")
	e := MustOpenEnvAt(t, path)
	e.addFault(t, map[string]string{"endpoint": "currency", "kind": "status", "status": "502", "count": "2"})
	resp, _, err := e.send(t, 5*time.Second, pathCurrency, map[string]string{"username": testMerchant})
	require.NoError(t, err)
	require.Equal(t, http.StatusBadGateway, resp.StatusCode)
	e.Close()
	e2 := MustOpenEnvAt(t, path)
	list := e2.faultList(t)
	require.Len(t, list, 1)
	assert.Equal(t, 1, list[0].Hits)
	resp, _, err = e2.send(t, 5*time.Second, pathCurrency, map[string]string{"username": testMerchant})
	require.NoError(t, err)
	assert.Equal(t, http.StatusBadGateway, resp.StatusCode, "the second hit survived the restart")
	assert.Equal(t, true, e2.Call(t, pathCurrency, map[string]string{"username": testMerchant})["status"])
}

// TestFaultAPIErrors: bad faults are refused with a clear message; DELETE clears one
// or all.
func TestFaultAPIErrors(t *testing.T) {
	e := MustOpenEnv(t)
	for _, tc := range []struct {
		fields map[string]string
		code   int
		msg    string
	}{
		{map[string]string{"endpoint": "generate_orders"}, 400, "kind is required"},
		{map[string]string{"kind": "explode"}, 400, "is not one of status, hang"},
		{map[string]string{"kind": "status", "endpoint": "pay"}, 400, "is not a vendor endpoint"},
		{map[string]string{"kind": "status", "status": "99"}, 400, "status must be an HTTP status"},
		{map[string]string{"kind": "status", "body": "xml"}, 400, "body must be html, json, cloudflare or empty"},
		{map[string]string{"kind": "status", "probability": "2"}, 400, "probability must be"},
		{map[string]string{"kind": "slow", "duration": "1h"}, 400, "duration must be between"},
		{map[string]string{"kind": "message"}, 400, "needs its message"},
		{map[string]string{"kind": "status", "then": "reset"}, 400, "then=reset is lost_answer's"},
		{map[string]string{"kind": "status", "merchant": "nobody"}, 404, "unknown merchant"},
		{map[string]string{"kind": "status", "match.orderid": "[x"}, 400, "bad pattern"},
	} {
		code, b := e.PostForm(t, "/sandbox/api/faults", tc.fields)
		assert.Equal(t, tc.code, code, "%v: %s", tc.fields, b)
		assert.Contains(t, string(b), tc.msg, "%v", tc.fields)
	}
	assert.Empty(t, e.faultList(t), "refused faults queue nothing")

	code, b := postJSON(t, e.URL+"/sandbox/api/faults", `{"endpoint":["currency","auth"],"kind":"status","status":502,"count":3,"match":{"username":"vpay*"}}`)
	require.Equal(t, http.StatusCreated, code, "%s", b)
	e.addFault(t, map[string]string{"kind": "reset"})
	list := e.faultList(t)
	require.Len(t, list, 2)
	assert.Equal(t, []string{"currency", "auth"}, list[0].Endpoints)
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodDelete, e.URL+"/sandbox/api/faults/1", nil)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	require.Len(t, e.faultList(t), 1)
	req, _ = http.NewRequestWithContext(context.Background(), http.MethodDelete, e.URL+"/sandbox/api/faults", nil)
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Empty(t, e.faultList(t))
	assert.Equal(t, true, e.Call(t, pathCurrency, map[string]string{"username": testMerchant})["status"])
}
