package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/config"
	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/internal/inproc"
	"github.com/vpay88/vpay88-sandbox/server"
)

// TestHardeningLimits sends each vendor field over its limit, with a control character
// and as invalid UTF-8: every endpoint answers HTTP 200 with the message it gives for a
// wrong value of that field, and stores nothing.
func TestHardeningLimits(t *testing.T) {
	e := MustOpenEnv(t)
	tok := e.Auth(t)
	long := func(n int) string { return strings.Repeat("x", n) }
	huge := long(40000) // once a bbolt "key too large" and an HTTP 500

	cases := []struct {
		name   string
		path   string
		fields map[string]string
		want   string
	}{
		// generate_orders: 当代理商订单号错误或已存在 → "Order ID Exist." for a wrong id too.
		{"deposit orderid 40000", pathGenerateOrders, merge(depositFields(tok, huge), nil), gateway.MsgOrderIDExist},
		{"deposit orderid 129", pathGenerateOrders, depositFields(tok, long(129)), gateway.MsgOrderIDExist},
		{"deposit orderid newline", pathGenerateOrders, depositFields(tok, "A\nB"), gateway.MsgOrderIDExist},
		{"deposit orderid not UTF-8", pathGenerateOrders, depositFields(tok, "A\xffB"), gateway.MsgOrderIDExist},
		{"deposit auth 65", pathGenerateOrders, merge(depositFields(tok, "L-1"), map[string]string{"auth": long(65)}), gateway.MsgParamsIncorrectDot},
		{"deposit amount 33", pathGenerateOrders, merge(depositFields(tok, "L-1"), map[string]string{"amount": strings.Repeat("0", 32) + "1"}), gateway.MsgInvalidAmount},
		{"deposit email 255", pathGenerateOrders, merge(depositFields(tok, "L-1"), map[string]string{"email": long(243) + "@example.com"}), gateway.MsgEmailIncorrect},
		{"deposit email control", pathGenerateOrders, merge(depositFields(tok, "L-1"), map[string]string{"email": "jo\x01hn@example.com"}), gateway.MsgEmailIncorrect},
		{"deposit username 256", pathGenerateOrders, merge(depositFields(tok, "L-1"), map[string]string{"username": long(256)}), gateway.MsgParamsIncorrectDot},
		{"deposit username tab", pathGenerateOrders, merge(depositFields(tok, "L-1"), map[string]string{"username": "john\tdoe"}), gateway.MsgParamsIncorrectDot},
		{"deposit phone NUL", pathGenerateOrders, merge(depositFields(tok, "L-1"), map[string]string{"phone_number": "6010\x00"}), gateway.MsgParamsIncorrectDot},
		{"deposit phone 33", pathGenerateOrders, merge(depositFields(tok, "L-1"), map[string]string{"phone_number": strings.Repeat("6", 33)}), gateway.MsgParamsIncorrectDot},
		{"deposit redirect_url 2049", pathGenerateOrders, merge(depositFields(tok, "L-1"), map[string]string{"redirect_url": "https://a.example/" + long(2049-18)}), gateway.MsgParamsIncorrectDot},
		{"deposit mode long", pathGenerateOrders, merge(depositFields(tok, "L-1"), map[string]string{"mode": long(17)}), gateway.MsgParamsIncorrectDot},
		{"deposit bank_id long", pathGenerateOrders, merge(depositFields(tok, "L-1"), map[string]string{"currency": "THB", "bank_id": "1" + long(16)}), gateway.MsgBankIDInvalid},

		// withdraw_orders: a wrong id shares the duplicate's "Order id exist!".
		{"withdraw orderid 40000", pathWithdrawOrders, withdrawFields(tok, huge), gateway.MsgOrderIDExistWithdrawal},
		{"withdraw orderid control", pathWithdrawOrders, withdrawFields(tok, "W\x7f1"), gateway.MsgOrderIDExistWithdrawal},
		{"withdraw holder tab", pathWithdrawOrders, merge(withdrawFields(tok, "LW-1"), map[string]string{"holder_name": "John\tDoe"}), gateway.MsgParamsIncorrect},
		{"withdraw holder 256", pathWithdrawOrders, merge(withdrawFields(tok, "LW-1"), map[string]string{"holder_name": long(256)}), gateway.MsgParamsIncorrect},
		{"withdraw account 65", pathWithdrawOrders, merge(withdrawFields(tok, "LW-1"), map[string]string{"account_no": strings.Repeat("1", 65)}), gateway.MsgParamsIncorrect},
		{"withdraw branch not UTF-8", pathWithdrawOrders, merge(withdrawFields(tok, "LW-1"), map[string]string{"bank_branch": "Kent\xc3"}), gateway.MsgParamsIncorrect},
		{"withdraw branch huge", pathWithdrawOrders, merge(withdrawFields(tok, "LW-1"), map[string]string{"bank_branch": huge}), gateway.MsgParamsIncorrect},
		{"withdraw auth huge", pathWithdrawOrders, merge(withdrawFields(tok, "LW-1"), map[string]string{"auth": huge}), gateway.MsgParamsIncorrect},
		{"withdraw bank_id long", pathWithdrawOrders, merge(withdrawFields(tok, "LW-1"), map[string]string{"bank_id": "12" + long(15)}), gateway.MsgBankIDInvalid},
		{"withdraw amount control", pathWithdrawOrders, merge(withdrawFields(tok, "LW-1"), map[string]string{"amount": "100\x00"}), gateway.MsgAmountInvalid},

		// Lookups: an id no order can have is an unknown id.
		{"check_status id 40000 by merchant", "/merchant/check_status", map[string]string{"username": testMerchant, "id": huge}, gateway.MsgOrderNotFound},
		{"check_status id 40000 by customer", "/merchant/check_status", map[string]string{"username": "john", "id": huge}, gateway.MsgParamsIncorrect},
		{"check_status username 256", "/merchant/check_status", map[string]string{"username": long(256), "id": "X"}, gateway.MsgParamsIncorrect},
		{"check_withdraw_status id control", "/merchant/check_withdraw_status", map[string]string{"username": testMerchant, "id": "W\n1"}, gateway.MsgOrderNotFound},
		{"auth api_key 40000", pathAuth, map[string]string{"username": testMerchant, "api_key": huge}, gateway.MsgParamsIncorrect},
		{"currency username control", "/merchant/currency", map[string]string{"username": testMerchant + "\x00"}, gateway.MsgParamsIncorrect},
		{"bank_list currency long", "/wallet/bank_list", map[string]string{"username": testMerchant, "currency": "MYR" + long(9)}, gateway.MsgCurrencyInvalid},
	}
	avail, reserved := e.available(t, "MYR")
	for _, c := range cases {
		assert.Equal(t, refusal(c.want), callRaw(t, e, c.path, c.fields), c.name)
	}
	_, list := adminGet(t, e, "/sandbox/api/orders")
	assert.EqualValues(t, 0, list["total"], "no refused request stored an order")
	a2, r2 := e.available(t, "MYR")
	assert.Equal(t, avail, a2, "nothing was reserved")
	assert.Equal(t, reserved, r2)

	// At the limits everything is accepted, the multibyte id included.
	id128 := long(128)
	assert.Equal(t, true, e.Deposit(t, id128, map[string]string{"username": long(255), "email": long(242) + "@example.com",
		"phone_number": strings.Repeat("6", 32), "redirect_url": "https://a.example/" + long(2048-18)})["status"])
	assert.Equal(t, true, e.Withdraw(t, id128, map[string]string{"holder_name": "Zoë " + long(250), "account_no": strings.Repeat("1", 64),
		"bank_branch": long(255), "account_no_ignored": huge})["status"])
	assert.Equal(t, true, e.Call(t, "/merchant/check_status", map[string]string{"username": testMerchant, "id": id128})["status"])
	// mode and redirect_url are unknown fields outside MYR, and unknown fields are ignored.
	assert.Equal(t, true, e.Deposit(t, "L-VND", map[string]string{"currency": "VND", "redirect_url": huge, "mode": huge})["status"])
}

// TestHardeningJournalBounded sends 50 check_status requests with a 1 MB id: the
// journal keeps each value cut, says how much it cut, its byte accounting stays far
// under its bound, and its page stays small.
func TestHardeningJournalBounded(t *testing.T) {
	e := MustOpenEnv(t)
	big := strings.Repeat("A", 1_000_000)
	for range 50 {
		assert.Equal(t, refusal(gateway.MsgOrderNotFound), callRaw(t, e, "/merchant/check_status", map[string]string{"username": testMerchant, "id": big}))
	}
	resp, err := http.Get(e.URL + "/sandbox/api/journal?limit=50")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Less(t, len(body), 50*(4<<10), "the journal page is a few KiB per entry, not 50 MB")
	var page struct {
		Total    int `json:"total"`
		Bytes    int `json:"bytes"`
		MaxBytes int `json:"max_bytes"`
		Entries  []struct {
			Endpoint string            `json:"endpoint"`
			Fields   map[string]string `json:"fields"`
			Response string            `json:"response"`
		} `json:"entries"`
	}
	require.NoError(t, json.Unmarshal(body, &page))
	require.Equal(t, 50, page.Total)
	assert.Equal(t, 16<<20, page.MaxBytes)
	assert.Less(t, page.Bytes, 50*(4<<10), "byte accounting: each entry is counted at a few KiB")
	id := page.Entries[0].Fields["id"]
	assert.Equal(t, strings.Repeat("A", 2048)+"…[cut 997952 bytes]", id, "cut to 2 KiB with a visible marker")
	assert.Equal(t, testMerchant, page.Entries[0].Fields["username"], "short values are kept whole")
	assert.Equal(t, refusal(gateway.MsgOrderNotFound), page.Entries[0].Response)

	// Many small fields are cut as a whole (900: Go's multipart reader takes 1000 parts).
	many := map[string]string{"username": testMerchant}
	for i := range 900 {
		many[fmt.Sprintf("field%04d", i)] = strings.Repeat("v", 30)
	}
	callRaw(t, e, "/merchant/currency", many)
	_, m := adminGet(t, e, "/sandbox/api/journal?limit=1")
	fields := m["entries"].([]any)[0].(map[string]any)["fields"].(map[string]any)
	assert.Contains(t, fields["…"], "more fields cut]")
	assert.Less(t, len(fields), 900)

	// An unknown vendor-ish path is journaled as the path asked for, not as "/*".
	code, _ := e.PostMultipart(t, "/merchant/no_such_endpoint", map[string]string{"username": testMerchant})
	require.Equal(t, http.StatusNotFound, code)
	_, m = adminGet(t, e, "/sandbox/api/journal?limit=1")
	assert.Equal(t, "/merchant/no_such_endpoint", m["entries"].([]any)[0].(map[string]any)["endpoint"])
}

// guardEnv is a sandbox whose server.Options the test sets (LoopbackOnly, PublicURL).
func guardEnv(t *testing.T, change func(*server.Options)) *testEnv {
	t.Helper()
	return openEnv(t, inproc.Options{Config: config.Default(), Server: change})
}

// guardDo sends one request with the given Host (if any) and headers.
func guardDo(t *testing.T, e *testEnv, method, path, host string, headers map[string]string, form url.Values) (int, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, e.URL+path, body)
	require.NoError(t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if host != "" {
		req.Host = host
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// TestGuardCrossSite: a page on another site cannot settle orders or wipe state
// through the visitor's browser, while the dashboard itself and curl can.
func TestGuardCrossSite(t *testing.T) {
	e := guardEnv(t, func(o *server.Options) { o.LoopbackOnly = true })
	e.Deposit(t, "G-1", nil)
	settle := url.Values{"outcome": {"completed"}}

	for name, h := range map[string]map[string]string{
		"evil Origin":            {"Origin": "https://evil.example"},
		"null Origin":            {"Origin": "null"},
		"other port":             {"Origin": "http://127.0.0.1:1"},
		"Sec-Fetch-Site":         {"Sec-Fetch-Site": "cross-site"},
		"same-site is not yours": {"Sec-Fetch-Site": "same-site"},
	} {
		code, body := guardDo(t, e, http.MethodPost, "/sandbox/api/deposits/G-1/settle", "", h, settle)
		assert.Equal(t, http.StatusForbidden, code, name)
		assert.Contains(t, body, `"error":"cross-site request refused`, name)
		code, _ = guardDo(t, e, http.MethodPost, "/sandbox/api/reset", "", h, url.Values{})
		assert.Equal(t, http.StatusForbidden, code, name)
		code, _ = guardDo(t, e, http.MethodPut, "/sandbox/api/balances/vpay88-test/MYR", "", h, url.Values{"available": {"1"}})
		assert.Equal(t, http.StatusForbidden, code, name)
	}
	assert.Equal(t, "pending", e.adminOrder(t, gateway.KindDeposit, "G-1").Status, "the refused requests changed nothing")
	avail, _ := e.available(t, "MYR")
	assert.Equal(t, gateway.MustMoney("1000000"), avail)

	// Reading is not refused: a cross-site page cannot read the answer anyway.
	code, _ := guardDo(t, e, http.MethodGet, "/sandbox/api/orders", "", map[string]string{"Origin": "https://evil.example"}, nil)
	assert.Equal(t, http.StatusOK, code)
	// The dashboard's own fetch: same origin.
	code, body := guardDo(t, e, http.MethodPost, "/sandbox/api/deposits/G-1/settle", "",
		map[string]string{"Origin": e.URL, "Sec-Fetch-Site": "same-origin"}, settle)
	assert.Equal(t, http.StatusOK, code, body)
	// curl: no Origin at all.
	e.Deposit(t, "G-2", nil)
	code, body = guardDo(t, e, http.MethodPost, "/sandbox/api/deposits/G-2/settle", "", nil, settle)
	assert.Equal(t, http.StatusOK, code, body)
	// The vendor API is not a browser surface: merchants post to it from anywhere.
	code, _ = guardDo(t, e, http.MethodPost, pathAuth, "", map[string]string{"Origin": "https://evil.example"},
		url.Values{"username": {testMerchant}, "api_key": {testAPIKey}})
	assert.Equal(t, http.StatusOK, code)
}

// TestGuardHost: while the sandbox listens on loopback only, a DNS-rebinding page (a
// foreign Host) reaches neither the admin API, the dashboard nor /metrics.
func TestGuardHost(t *testing.T) {
	e := guardEnv(t, func(o *server.Options) {
		o.LoopbackOnly = true
		o.PublicURL = "http://sandbox.test:8088"
	})
	port := e.URL[strings.LastIndexByte(e.URL, ':'):]
	for _, path := range []string{"/sandbox/api/orders", "/sandbox/", "/sandbox/static/dashboard.js", "/metrics", "/sandbox/api/no-such"} {
		for _, host := range []string{"evil.example" + port, "evil.example", "127.0.0.1.evil.example", "localhost.evil.example" + port} {
			code, body := guardDo(t, e, http.MethodGet, path, host, nil, nil)
			assert.Equal(t, http.StatusForbidden, code, "%s Host %s", path, host)
			assert.Contains(t, body, `"error":"host`, path)
		}
		for _, host := range []string{"", "localhost" + port, "LOCALHOST" + port, "127.0.0.1" + port, "127.0.0.2" + port, "[::1]" + port,
			"dash.localhost" + port, "localhost." + port, "sandbox.test:8088", "sandbox.test"} {
			code, body := guardDo(t, e, http.MethodGet, path, host, nil, nil)
			if path == "/sandbox/api/no-such" {
				assert.Equal(t, http.StatusNotFound, code, "%s Host %q", path, host)
				continue
			}
			assert.Equal(t, http.StatusOK, code, "%s Host %q: %.200s", path, host, body)
		}
	}
	// The public URL is the sandbox's origin too (a proxy in front of it).
	e.Deposit(t, "H-1", nil)
	code, body := guardDo(t, e, http.MethodPost, "/sandbox/api/deposits/H-1/settle", "sandbox.test:8088",
		map[string]string{"Origin": "http://sandbox.test:8088"}, url.Values{"outcome": {"fail"}})
	assert.Equal(t, http.StatusOK, code, body)
	// Vendor API and checkout answer any Host (hosts-file aliases of the production name).
	code, _ = guardDo(t, e, http.MethodPost, "/merchant/currency", "gw.vpay88.example", nil, url.Values{"username": {testMerchant}})
	assert.Equal(t, http.StatusOK, code)
	code, _ = guardDo(t, e, http.MethodGet, "/healthz", "evil.example", nil, nil)
	assert.Equal(t, http.StatusOK, code)

	// Listening beyond loopback (Docker's 0.0.0.0), any Host is served; Origin still counts.
	open := guardEnv(t, func(o *server.Options) { o.LoopbackOnly = false })
	code, _ = guardDo(t, open, http.MethodGet, "/sandbox/api/orders", "sandbox.internal:8088", nil, nil)
	assert.Equal(t, http.StatusOK, code)
	code, _ = guardDo(t, open, http.MethodGet, "/sandbox/", "evil.example", nil, nil)
	assert.Equal(t, http.StatusOK, code)
	code, _ = guardDo(t, open, http.MethodPost, "/sandbox/api/reset", "sandbox.internal:8088", map[string]string{"Origin": "http://sandbox.internal:8088"}, url.Values{})
	assert.Equal(t, http.StatusOK, code, "same origin through a container name")
	code, _ = guardDo(t, open, http.MethodPost, "/sandbox/api/reset", "sandbox.internal:8088", map[string]string{"Origin": "https://evil.example"}, url.Values{})
	assert.Equal(t, http.StatusForbidden, code)
}

// TestOddOrderIDs: any order id the vendor API takes can be read, settled and resent
// through the admin API, escaped as the dashboard escapes it (encodeURIComponent).
func TestOddOrderIDs(t *testing.T) {
	rc := newRecorder(t, nil)
	e := MustOpenEnv(t, withCallback(rc.URL))
	ids := []string{"INV/2024/001", "a%2Fb", "a/b", "what?", "x#y", "with space", "订单-1", "100%", "a+b&c=d", "..", "%zz"}
	for _, id := range ids {
		t.Run(id, func(t *testing.T) {
			require.Equal(t, true, e.Deposit(t, id, nil)["status"])
			require.Equal(t, true, e.Withdraw(t, id, map[string]string{"account_no": "4000000009"})["status"])
			for _, kind := range []gateway.Kind{gateway.KindDeposit, gateway.KindWithdrawal} {
				base := "/sandbox/api/" + string(kind) + "s/" + encodeURIComponent(id)
				code, m := adminGet(t, e, base)
				require.Equal(t, http.StatusOK, code, "GET %s: %v", base, m)
				assert.Equal(t, id, m["order_id"])
				code, m = adminForm(t, e, http.MethodPost, base+"/settle", url.Values{"outcome": {"completed"}})
				require.Equal(t, http.StatusOK, code, "settle %s: %v", base, m)
				assert.Equal(t, id, m["order_id"])
				assert.Equal(t, "completed", m["status"])
				code, m = adminForm(t, e, http.MethodPost, base+"/callback", url.Values{})
				require.Equal(t, http.StatusAccepted, code, "resend %s: %v", base, m)
				assert.Equal(t, id, m["order_id"])
			}
		})
	}
	// "a%2Fb" and "a/b" are two orders, not one read twice.
	_, m := adminGet(t, e, "/sandbox/api/deposits/"+encodeURIComponent("a%2Fb"))
	_, m2 := adminGet(t, e, "/sandbox/api/deposits/"+encodeURIComponent("a/b"))
	assert.NotEqual(t, m["number"], m2["number"])
}

// encodeURIComponent escapes as the dashboard's JavaScript does.
func encodeURIComponent(s string) string {
	return strings.NewReplacer("+", "%20", "%21", "!", "%27", "'", "%28", "(", "%29", ")", "%2A", "*").Replace(url.QueryEscape(s))
}

// TestMoneyShownIsBooked: the checkout page shows the booked amount digit for digit; a
// payout charge the callback cannot print with two decimals is refused everywhere it
// could be set; a failed deposit shows no payer and reads as English.
func TestMoneyShownIsBooked(t *testing.T) {
	e := MustOpenEnv(t)
	pay := e.Deposit(t, "M-1", map[string]string{"amount": "49999.9999"})["p_url"].(string)
	page := getPage(t, pay)
	assert.Contains(t, page, `<span class="cur">MYR</span> 49999.9999</div>`)
	assert.Contains(t, page, `Pay MYR 49999.9999</button>`)
	assert.Contains(t, page, `<title>Pay MYR 49999.9999 · Vpay88</title>`)
	assert.NotContains(t, page, "49999.99<")
	pay = e.Deposit(t, "M-2", map[string]string{"amount": "100"})["p_url"].(string)
	assert.Contains(t, getPage(t, pay), `<span class="cur">MYR</span> 100.00</div>`)

	// Payout charges: the admin API, the scenario rules and the config.
	e.Withdraw(t, "MW-1", map[string]string{"account_no": "4000000009"})
	code, _, b := e.settle(t, gateway.KindWithdrawal, "MW-1", map[string]string{"outcome": "completed", "charge": "2.5099"})
	assert.Equal(t, http.StatusBadRequest, code, "%s", b)
	assert.Contains(t, string(b), "two decimals")
	e.mustSettle(t, gateway.KindWithdrawal, "MW-1", map[string]string{"outcome": "completed", "charge": "2.51"})
	v := e.adminOrder(t, gateway.KindWithdrawal, "MW-1")
	assert.Equal(t, gateway.MustMoney("2.51"), v.Charge)
	// A deposit's charge is written with four places, so four are fine there.
	e.Deposit(t, "M-3", nil)
	e.mustSettle(t, gateway.KindDeposit, "M-3", map[string]string{"outcome": "completed", "charge": "2.5099"})

	for rules, ok := range map[string]bool{
		"- match: {kind: withdrawal}\n  effect: {charge: \"2.5099\"}\n": false,
		"- match: {orderid: '^X'}\n  effect: {charge: \"2.505\"}\n":     false, // may match a payout
		"- match: {kind: deposit}\n  effect: {charge: \"2.5099\"}\n":    true,
		"- match: {kind: withdrawal}\n  effect: {charge: \"2.50\"}\n":   true,
	} {
		code, m := adminDo(t, e, http.MethodPut, "/sandbox/api/scenarios", "application/yaml", rules, "")
		if ok {
			assert.Equal(t, http.StatusOK, code, "%s: %v", rules, m)
		} else {
			assert.Equal(t, http.StatusBadRequest, code, rules)
			assert.Contains(t, m["error"], "effect.charge")
		}
	}
	code, m := adminDo(t, e, http.MethodPut, "/sandbox/api/scenarios", "application/yaml", "[]", "")
	require.Equal(t, http.StatusOK, code, "clear the rules: %v", m)
	yml := strings.Replace(string(config.DefaultYAML()), "payout_fee: 5,", "payout_fee: 2.5099,", 1)
	_, err := config.Parse("fee.yaml", []byte(yml))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "payout_fee")
	_, err = config.Parse("fee.yaml", []byte(strings.Replace(string(config.DefaultYAML()), "payout_fee: 5,", "payout_fee: 2.5,", 1)))
	assert.NoError(t, err)

	// A failed deposit: English words, and no payer its callback does not carry.
	pay = e.Deposit(t, "M-F", map[string]string{"email": "fail@example.com"})["p_url"].(string)
	v = e.adminOrder(t, gateway.KindDeposit, "M-F")
	require.Equal(t, "fail", v.Status)
	assert.Empty(t, v.Name, "a failed deposit has no payer name")
	page = getPage(t, pay)
	assert.Contains(t, page, "This order has already failed.")
	path, key := checkoutKey(t, pay)
	result := getPage(t, e.URL+strings.Replace(path, "order-pay", "order-received", 1)+"?key="+key)
	assert.Contains(t, result, `<h2 data-testid="status">Payment failed</h2>`)
	assert.NotContains(t, result, "Payer")
	assert.NotContains(t, result, "Paid by")
	// A name typed on the page for a failed payment is not kept either.
	pay = e.Deposit(t, "M-F2", nil)["p_url"].(string)
	path, key = checkoutKey(t, pay)
	resp, err := noRedirect.PostForm(e.URL+path, url.Values{"key": {key}, "action": {"fail"}, "name": {"Nur Aisyah"}})
	require.NoError(t, err)
	resp.Body.Close()
	assert.Empty(t, e.adminOrder(t, gateway.KindDeposit, "M-F2").Name)
	// An over-long or control-laden name on the page is refused, not stored.
	pay = e.Deposit(t, "M-N", nil)["p_url"].(string)
	path, key = checkoutKey(t, pay)
	resp, err = noRedirect.PostForm(e.URL+path, url.Values{"key": {key}, "action": {"pay"}, "name": {strings.Repeat("n", 256)}})
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Equal(t, "pending", e.adminOrder(t, gateway.KindDeposit, "M-N").Status)
	// The completed page keeps its wording.
	resp, err = noRedirect.PostForm(e.URL+path, url.Values{"key": {key}, "action": {"pay"}})
	require.NoError(t, err)
	resp.Body.Close()
	assert.Contains(t, getPage(t, pay), "This order is already completed.")
}

// getPage GETs a page and returns its body, requiring 200.
func getPage(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	var b bytes.Buffer
	_, err = b.ReadFrom(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", b.String())
	return b.String()
}
