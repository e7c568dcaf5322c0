package server_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/config"
	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/internal/inproc"
)

// The gateway family's merchants (docs/fidelity.md, family), end to end: the README's config examples
// (docs/config), merchants made at run time as a held-out suite makes them, and the
// requests the family sends, in both content types, with callbacks verified as such
// a merchant verifies them.

// openExample starts a sandbox on a docs/config example, its merchants' callbacks
// pointed at rc and the fast retry schedule.
func openExample(t *testing.T, file string, rc *recorder) *testEnv {
	t.Helper()
	cfg, err := config.Load("../docs/config/" + file)
	require.NoError(t, err, "the README's example %s", file)
	cfg.Callbacks.Schedule = config.FastSchedule()
	for i := range cfg.Merchants {
		cfg.Merchants[i].CallbackURL = rc.URL
	}
	return openEnv(t, inproc.Options{Config: cfg})
}

// deposit sends generate_orders in an encoding and returns the answer.
func (e *testEnv) deposit(t *testing.T, enc string, a account, fields map[string]string) map[string]any {
	t.Helper()
	f := map[string]string{"username": a.Username, "auth": e.authAs(t, enc, a)}
	for k, v := range fields {
		f[k] = v
	}
	return e.post(t, enc, pathGenerateOrders, f)
}

// checkoutPage fetches a p_url's page.
func checkoutPage(t *testing.T, e *testEnv, pURL string) string {
	t.Helper()
	path, key := checkoutKey(t, pURL)
	resp, err := http.Get(e.URL + path + "?pay_for_order=true&key=" + key)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	return string(b)
}

// checkoutSubmit posts the checkout form as the page's buttons do.
func checkoutSubmit(t *testing.T, e *testEnv, pURL string, fields map[string]string) int {
	t.Helper()
	path, key := checkoutKey(t, pURL)
	v := url.Values{"key": {key}}
	for k, val := range fields {
		v.Set(k, val)
	}
	resp, err := noRedirect.PostForm(e.URL+path, v)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// TestFamilyPerChannelMerchant: docs/config/per-channel.yaml. Three accounts, each
// with its secret; the merchant keys its secrets by the newest live words of
// payment_type, or finds the account by the callback's username.
func TestFamilyPerChannelMerchant(t *testing.T) {
	rc := newRecorder(t, nil)
	e := openExample(t, "per-channel.yaml", rc)
	byWord := map[string]string{"Online Banking": "shop-bank-secret", "QR": "shop-qr-secret", "EWallet": "shop-ewallet-secret"}
	byUser := map[string]string{"shop-bank": "shop-bank-secret", "shop-qr": "shop-qr-secret", "shop-ewallet": "shop-ewallet-secret"}
	cases := []struct {
		account            account
		bankCode, word, ch string
		enc                string
	}{
		{account{"shop-bank", "BankKey0000000000001", ""}, "MayBank", "Online Banking", "Online banking", "urlencoded"},
		{account{"shop-qr", "QrKey00000000000002", ""}, "DuitNowQR", "QR", "QR", "multipart"},
		{account{"shop-ewallet", "EwalletKey0000000003", ""}, "Tng", "EWallet", "E-wallet", "urlencoded"},
	}
	for i, tc := range cases {
		id := "PC-" + tc.account.Username
		m := e.deposit(t, tc.enc, tc.account, map[string]string{"amount": "50", "currency": "MYR", "orderid": id, "bank_code": tc.bankCode})
		require.Equal(t, true, m["status"], "%v", m)
		page := checkoutPage(t, e, m["p_url"].(string))
		assert.Contains(t, page, `data-testid="channel">`+tc.ch, "the checkout page shows the channel")
		require.Equal(t, http.StatusSeeOther, checkoutSubmit(t, e, m["p_url"].(string), map[string]string{"action": "pay"}))
		d := rc.wait(t, 1, 5*time.Second)[0]
		cb := merchantSide(t, d, func(cb map[string]any) string { return byWord[cb["payment_type"].(string)] })
		assert.Equal(t, tc.word, cb["payment_type"], "case %d", i)
		merchantSide(t, d, func(cb map[string]any) string { return byUser[cb["username"].(string)] })
		assert.IsType(t, "", cb["amount"], "observed: the amount as a string")
	}
	// A QR bank_code shows a QR code to click.
	m := e.deposit(t, "multipart", cases[1].account, map[string]string{"amount": "50", "currency": "MYR", "orderid": "PC-QR2", "bank_code": "MayBankQR"})
	assert.Contains(t, checkoutPage(t, e, m["p_url"].(string)), `data-testid="qr"`)
}

// TestFamilyBDTBank800: docs/config/bdt.yaml, and the same merchant made at run time.
func TestFamilyBDTBank800(t *testing.T) {
	rc := newRecorder(t, nil)
	e := openExample(t, "bdt.yaml", rc)
	run := e.mustMerchant(t, `{"username":"bdt-run","callback_url":"`+rc.URL+`","currencies":[{"code":"BDT","min":100,"max":25000,"banks":[{"id":800,"name":"bKash"}]}]}`)
	cfgd := account{"bdt-shop", "BdtKey00000000000001", "bdt-shop-secret"}
	for i, a := range []account{cfgd, run} {
		enc := encodings[i%2]
		for _, path := range []string{"/wallet/bank_list", "/wallet/withdraw_bank_list"} {
			l := e.post(t, enc, path, map[string]string{"username": a.Username, "currency": "BDT"})
			assert.Equal(t, []any{map[string]any{"currency": "BDT", "bank_name": "bKash", "id": "800"}}, l["data"], path)
		}
		m := e.deposit(t, enc, a, map[string]string{"amount": "500", "currency": "BDT", "orderid": "BDT-D", "bank_id": "800", "bank_code": "800"})
		require.Equal(t, true, m["status"], "%v", m)
		assert.Contains(t, checkoutPage(t, e, m["p_url"].(string)), "bKash (800)", "the bank the deposit named")
		tok := e.authAs(t, enc, a)
		w := e.post(t, enc, pathWithdrawOrders, map[string]string{"auth": tok, "amount": "500", "currency": "BDT", "orderid": "BDT-W",
			"bank_id": "800", "bank_code": "800", "holder_name": "Rahim", "account_no": "4000000001"})
		require.Equal(t, true, w["status"], "%v", w)
		secret := a.SecretKey
		cb := merchantSide(t, rc.wait(t, 1, 5*time.Second)[0], bySecret(secret))
		assert.Equal(t, "BDT", cb["currency"])
		w = e.post(t, enc, pathWithdrawOrders, map[string]string{"auth": tok, "amount": "500", "currency": "BDT", "orderid": "BDT-W2",
			"bank_id": "1", "holder_name": "Rahim", "account_no": "1"})
		assert.Equal(t, gateway.MsgBankIDInvalid, w["message"])
	}
}

// TestFamilyUSDT: docs/config/usdt.yaml, and a USDT merchant made at run time.
func TestFamilyUSDT(t *testing.T) {
	rc := newRecorder(t, nil)
	e := openExample(t, "usdt.yaml", rc)
	run := e.mustMerchant(t, `{"username":"usdt-run","currencies":[{"code":"USDT","min":10,"max":5000}]}`)
	for i, a := range []account{{"usdt-shop", "UsdtKey0000000000001", "usdt-shop-secret"}, run} {
		enc := encodings[i%2]
		r := e.post(t, enc, "/merchant/currency", map[string]string{"username": a.Username})
		assert.Equal(t, []any{map[string]any{"currency": "USDT", "min": 10.0, "max": 5000.0}}, r["rate"])
		assert.Equal(t, gateway.MsgInvalidAmount, e.deposit(t, enc, a, map[string]string{"amount": "9.99", "currency": "USDT", "orderid": "U-1"})["message"])
		assert.Equal(t, gateway.MsgInvalidAmount, e.deposit(t, enc, a, map[string]string{"amount": "5000.01", "currency": "USDT", "orderid": "U-1"})["message"])
		assert.Equal(t, true, e.deposit(t, enc, a, map[string]string{"amount": "10", "currency": "USDT", "orderid": "U-1"})["status"])
	}
	w := e.post(t, "multipart", pathWithdrawOrders, map[string]string{"auth": e.authAs(t, "multipart", account{Username: "usdt-shop", APIKey: "UsdtKey0000000000001"}),
		"amount": "20", "currency": "USDT", "orderid": "U-W", "bank_id": "TRC20", "holder_name": "T", "account_no": "TXyz"})
	assert.Equal(t, true, w["status"], "%v", w)
	// A code the config lacks needs its limits; codes are 3–5 upper-case letters or digits.
	code, b := postJSON(t, e.URL+"/sandbox/api/merchants", `{"currencies":["XBTC"]}`)
	assert.Equal(t, http.StatusBadRequest, code)
	assert.Contains(t, string(b), "min and max")
	code, b = postJSON(t, e.URL+"/sandbox/api/merchants", `{"currencies":[{"code":"USDTXX","min":1,"max":2}]}`)
	assert.Equal(t, http.StatusBadRequest, code)
	assert.Contains(t, string(b), "3 to 5")
}

// TestFamilySuperRichTHB: docs/config/superrich-thb.yaml. Bank ids 106…158; a
// TrueMoney deposit without bank_id; the checkout page shows the bank or the wallet.
func TestFamilySuperRichTHB(t *testing.T) {
	rc := newRecorder(t, nil)
	e := openExample(t, "superrich-thb.yaml", rc)
	a := account{"superrich-shop", "SuperRichKey00000001", "superrich-shop-secret"}
	l := e.post(t, "urlencoded", "/wallet/bank_list", map[string]string{"username": a.Username, "currency": "THB"})
	data := l["data"].([]any)
	require.Len(t, data, 15)
	assert.Equal(t, "106", data[0].(map[string]any)["id"])
	assert.Equal(t, "158", data[14].(map[string]any)["id"])
	for i, enc := range encodings {
		id := "SR-" + enc
		m := e.deposit(t, enc, a, map[string]string{"amount": "300", "currency": "THB", "orderid": id, "bank_id": "106", "pay_method": "online_banking"})
		require.Equal(t, true, m["status"], "%v", m)
		assert.Contains(t, checkoutPage(t, e, m["p_url"].(string)), "Bangkok Bank (106)")
		m = e.deposit(t, enc, a, map[string]string{"amount": "300", "currency": "THB", "orderid": id + "-TM", "pay_method": "truemoney"})
		require.Equal(t, true, m["status"], "a TrueMoney deposit needs no bank_id: %v", m)
		assert.Contains(t, checkoutPage(t, e, m["p_url"].(string)), "TrueMoney Wallet")
		require.Equal(t, http.StatusSeeOther, checkoutSubmit(t, e, m["p_url"].(string), map[string]string{"action": "pay"}))
		cb := merchantSide(t, rc.wait(t, 1, 5*time.Second)[0], bySecret(a.SecretKey))
		assert.Equal(t, "EWallet", cb["payment_type"], "case %d", i)
		assert.Equal(t, gateway.MsgBankIDInvalid, e.deposit(t, enc, a, map[string]string{"amount": "300", "currency": "THB", "orderid": id + "-X", "bank_id": "1"})["message"])
		assert.Equal(t, gateway.MsgParamsMissing, e.deposit(t, enc, a, map[string]string{"amount": "300", "currency": "THB", "orderid": id + "-Y"})["message"],
			"without pay_method=truemoney bank_id is still required")
	}
}

// TestFamilyRequestFields: pay_method (a QR to click on the checkout page),
// customer_bank_account, an empty callback_url and api_key on generate_orders are
// accepted and stored.
func TestFamilyRequestFields(t *testing.T) {
	rc := newRecorder(t, nil)
	e := MustOpenEnv(t, withCallback(rc.URL))
	for i, enc := range encodings {
		id := "RF-" + enc
		m := e.post(t, enc, pathGenerateOrders, map[string]string{"username": testMerchant, "auth": e.Auth(t), "amount": "300", "currency": "THB",
			"orderid": id, "email": "a@b.co", "phone_number": "1", "bank_id": "1", "pay_method": "thaiqr",
			"customer_bank_account": "1234567890", "callback_url": "", "api_key": testAPIKey})
		require.Equal(t, true, m["status"], "%v", m)
		o := e.adminOrder(t, gateway.KindDeposit, id)
		var order map[string]any
		getJSON(t, e.URL+"/sandbox/api/deposits/"+id, &order)
		assert.Equal(t, "thaiqr", order["pay_method"])
		assert.Equal(t, "1234567890", order["customer_bank_account"])
		assert.Equal(t, true, order["api_key_sent"])
		assert.Equal(t, "pending", string(o.Status))
		page := checkoutPage(t, e, m["p_url"].(string))
		assert.Contains(t, page, `data-testid="qr"`, "thaiqr shows a QR code")
		assert.Contains(t, page, `data-testid="pay_method">thaiqr`)
		assert.Contains(t, page, "1234567890")
		// Clicking the code is the "scan": it pays.
		require.Equal(t, http.StatusSeeOther, checkoutSubmit(t, e, m["p_url"].(string), map[string]string{"action": "pay"}))
		cb := merchantSide(t, rc.wait(t, 1, 5*time.Second)[0], bySecret(testSecret))
		assert.Equal(t, "completed", cb["order_status"], "case %d", i)
		assert.NotContains(t, cb, "payment_type", "the document's callback is unchanged")
	}
	// A pay_method over its limit is refused as generate_orders refuses a bad field.
	m := e.post(t, "multipart", pathGenerateOrders, map[string]string{"username": "john", "auth": e.Auth(t), "amount": "300", "currency": "MYR",
		"orderid": "RF-X", "email": "a@b.co", "phone_number": "1", "pay_method": strings.Repeat("q", 33)})
	assert.Equal(t, gateway.MsgParamsIncorrectDot, m["message"])
}

// TestGetBalanceWithAuth: get_balance with auth and currency answers one currency's
// available balance as a four-decimal string.
func TestGetBalanceWithAuth(t *testing.T) {
	e := MustOpenEnv(t, noAutoWithdrawal)
	for _, enc := range encodings {
		tok := e.Auth(t)
		code, b := e.PostForm(t, "/wallet/get_balance", map[string]string{"auth": tok, "currency": "MYR"})
		if enc == "multipart" {
			code, b = e.PostMultipart(t, "/wallet/get_balance", map[string]string{"auth": tok, "currency": "MYR"})
		}
		require.Equal(t, http.StatusOK, code)
		assert.Equal(t, `{"status":true,"balance":"1000000.0000","currency":"MYR"}`, string(b))
		assert.Equal(t, gateway.MsgParamsMissing, e.post(t, enc, "/wallet/get_balance", map[string]string{"auth": tok})["message"])
		assert.Equal(t, gateway.MsgCurrencyInvalid, e.post(t, enc, "/wallet/get_balance", map[string]string{"auth": tok, "currency": "EUR"})["message"])
		assert.Equal(t, gateway.MsgParamsIncorrect, e.post(t, enc, "/wallet/get_balance", map[string]string{"auth": "nope", "currency": "MYR"})["message"])
	}
	e.Withdraw(t, "GB-W", map[string]string{"amount": "100"})
	m := e.post(t, "multipart", "/wallet/get_balance", map[string]string{"auth": e.Auth(t), "currency": "MYR"})
	assert.Equal(t, "999895.0000", m["balance"], "available: the payout's amount and fee are reserved")
	// The earlier shape is unchanged.
	m = e.post(t, "multipart", "/wallet/get_balance", map[string]string{"username": testMerchant, "api_key": testAPIKey})
	assert.Len(t, m["data"], 5)
}

// TestPaidAmount: a customer who pays another amount, by a scenario rule (a
// percentage), the checkout page and the admin settle (absolute amounts).
func TestPaidAmount(t *testing.T) {
	rc := newRecorder(t, nil)
	rules, err := config.ParseRules("rules", []byte("- name: short\n  match: {kind: deposit, orderid: 'PAID-RULE*'}\n  effect: {outcome: completed, paid_amount: 90%}\n"))
	require.NoError(t, err)
	e := MustOpenEnv(t, withCallback(rc.URL), func(c *config.Config) { c.Scenarios = rules })
	before := mustBalance(t, e, testMerchant, "MYR")
	check := func(id, paid, credited string) {
		t.Helper()
		d := rc.wait(t, 1, 5*time.Second)[0]
		merchantSide(t, d, bySecret(testSecret))
		assert.Contains(t, string(d.Body), `"amount":`+paid+`,`, "%s: the callback carries the paid amount", id)
		assert.Contains(t, callRaw(t, e, "/merchant/check_status", map[string]string{"username": testMerchant, "id": id}), `"amount":`+paid+`,`, "%s: check_status answers it", id)
		after := mustBalance(t, e, testMerchant, "MYR")
		assert.Equal(t, gateway.MustMoney(credited), after.Available-before.Available, "%s: the ledger credits it minus its charge", id)
		before = after
	}
	e.Deposit(t, "PAID-RULE-1", map[string]string{"amount": "100"})
	check("PAID-RULE-1", "90.0000", "87.3") // 3 % of 90
	m := e.Deposit(t, "PAID-PAGE", map[string]string{"amount": "300"})
	require.Equal(t, http.StatusSeeOther, checkoutSubmit(t, e, m["p_url"].(string), map[string]string{"action": "pay", "paid_amount": "250"}))
	check("PAID-PAGE", "250.0000", "242.5")
	e.Deposit(t, "PAID-ADMIN", map[string]string{"amount": "100"})
	e.mustSettle(t, gateway.KindDeposit, "PAID-ADMIN", map[string]string{"outcome": "completed", "paid_amount": "120.5"})
	check("PAID-ADMIN", "120.5000", "116.885")
	// Refusals: not an amount, on a payout, on a failure.
	e.Deposit(t, "PAID-BAD", nil)
	code, _, b := e.settle(t, gateway.KindDeposit, "PAID-BAD", map[string]string{"outcome": "completed", "paid_amount": "-5"})
	assert.Equal(t, http.StatusBadRequest, code, "%s", b)
	code, _, _ = e.settle(t, gateway.KindDeposit, "PAID-BAD", map[string]string{"outcome": "fail", "paid_amount": "5"})
	assert.Equal(t, http.StatusBadRequest, code)
	o, err := e.Store.Order(gateway.KindDeposit, testMerchant, "PAID-BAD")
	require.NoError(t, err)
	assert.Equal(t, gateway.StatusPending, o.Status, "a refused settlement leaves no trace")
	_, err = config.ParseRules("rules", []byte("- match: {kind: withdrawal}\n  effect: {outcome: completed, paid_amount: 5}\n"))
	assert.ErrorContains(t, err, "paid_amount")
}
