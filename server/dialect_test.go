package server_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/internal/inproc"
)

// encodings are the two content types the family's integrations send (docs/fidelity.md, observed).
var encodings = []string{"multipart", "urlencoded"}

// post sends fields in an encoding and decodes the JSON answer (HTTP 200 required).
func (e *testEnv) post(tb testing.TB, enc, path string, fields map[string]string) map[string]any {
	tb.Helper()
	var code int
	var b []byte
	if enc == "urlencoded" {
		code, b = e.PostForm(tb, path, fields)
	} else {
		code, b = e.PostMultipart(tb, path, fields)
	}
	require.Equal(tb, http.StatusOK, code, "%s %s: %s", enc, path, b)
	var m map[string]any
	require.NoError(tb, json.Unmarshal(b, &m), "%s: %s", path, b)
	return m
}

// account is a merchant account made at run time, with its credentials.
type account struct {
	Username  string `json:"username"`
	APIKey    string `json:"api_key"`
	SecretKey string `json:"secret_key"`
}

// mustMerchant makes a run-time merchant from a JSON body and returns its credentials.
func (e *testEnv) mustMerchant(tb testing.TB, body string) account {
	tb.Helper()
	code, b := postJSON(tb, e.URL+"/sandbox/api/merchants", body)
	require.Equal(tb, http.StatusCreated, code, "%s", b)
	var a account
	require.NoError(tb, json.Unmarshal(b, &a))
	return a
}

// authAs gets a token for an account.
func (e *testEnv) authAs(tb testing.TB, enc string, a account) string {
	tb.Helper()
	m := e.post(tb, enc, "/merchant/auth", map[string]string{"username": a.Username, "api_key": a.APIKey})
	require.Equal(tb, true, m["status"], "%v", m)
	return m["auth"].(string)
}

// merchantSide verifies a callback the way the family's merchants do: it reads the
// body (a json= form field or JSON), finds the account's secret by the callback's
// payment_type or username, and checks md5(secret + order_id).
func merchantSide(tb testing.TB, d inproc.Delivery, secretOf func(cb map[string]any) string) map[string]any {
	tb.Helper()
	body := d.Body
	if strings.HasPrefix(d.ContentType, "application/x-www-form-urlencoded") {
		v, err := url.ParseQuery(string(body))
		require.NoError(tb, err)
		body = []byte(v.Get("json"))
	}
	var cb map[string]any
	require.NoError(tb, json.Unmarshal(body, &cb), "%s", d.Body)
	secret := secretOf(cb)
	require.NotEmpty(tb, secret, "no secret for this callback: %s", body)
	require.Equal(tb, md5hex(secret+cb["order_id"].(string)), cb["token"], "token of %s", body)
	return cb
}

func bySecret(s string) func(map[string]any) string { return func(map[string]any) string { return s } }

// flips holds, for every dialect switch, a test that sets it on a run-time merchant
// and sees its effect end to end. TestEverySwitchIsFlipped requires one per switch.
var flips = map[gateway.Switch]func(t *testing.T, enc string){
	gateway.SwitchContactFields: func(t *testing.T, enc string) {
		e := MustOpenEnv(t)
		a := e.mustMerchant(t, `{"username":"opt","dialect":{"contact_fields":"optional"}}`)
		f := map[string]string{"username": "opt", "auth": e.authAs(t, enc, a), "amount": "100", "currency": "MYR", "orderid": "CF-1"}
		assert.Equal(t, true, e.post(t, enc, pathGenerateOrders, f)["status"])
		f["auth"], f["orderid"] = e.Auth(t), "CF-2"
		assert.Equal(t, gateway.MsgParamsMissing, e.post(t, enc, pathGenerateOrders, f)["message"], "the document's merchant still needs them")
	},
	gateway.SwitchMYRPayoutBanks: func(t *testing.T, enc string) {
		e := MustOpenEnv(t)
		a := e.mustMerchant(t, `{"username":"livebanks","dialect":{"myr_payout_banks":"live"}}`)
		m := e.post(t, enc, "/wallet/withdraw_bank_list", map[string]string{"username": a.Username, "currency": "MYR"})
		assert.Equal(t, "246", m["data"].([]any)[0].(map[string]any)["id"])
		w := e.post(t, enc, pathWithdrawOrders, map[string]string{"auth": e.authAs(t, enc, a), "amount": "100", "currency": "MYR",
			"orderid": "LB-1", "bank_id": "278", "holder_name": "Ali", "account_no": "123"})
		assert.Equal(t, true, w["status"], "%v", w)
		m = e.post(t, enc, "/wallet/withdraw_bank_list", map[string]string{"username": testMerchant, "currency": "MYR"})
		assert.Equal(t, "1", m["data"].([]any)[0].(map[string]any)["id"], "the default merchant keeps the configured list")
	},
	gateway.SwitchPaymentType: func(t *testing.T, enc string) {
		rc := newRecorder(t, nil)
		e := MustOpenEnv(t)
		// A per-channel merchant: three accounts, each with its own secret, keyed by
		// the newest live words (docs/fidelity.md, family).
		secrets := map[string]string{}
		for _, ch := range []struct{ name, pt, word string }{{"pc-bank", "bank", "Online Banking"}, {"pc-qr", "duitnow", "QR"}, {"pc-ew", "ewallet", "EWallet"}} {
			a := e.mustMerchant(t, `{"username":"`+ch.name+`","payment_type":"`+ch.pt+`","callback_url":"`+rc.URL+`","dialect":{"payment_type":"live"}}`)
			secrets[ch.word] = a.SecretKey
			f := map[string]string{"username": "cust", "auth": e.authAs(t, enc, a), "amount": "100", "currency": "MYR", "orderid": "PT-" + ch.pt,
				"email": "a@b.co", "phone_number": "1"}
			require.Equal(t, true, e.post(t, enc, pathGenerateOrders, f)["status"])
			e.mustSettle(t, gateway.KindDeposit, "PT-"+ch.pt, map[string]string{"outcome": "completed", "merchant": ch.name})
			cb := merchantSide(t, rc.wait(t, 1, 5*time.Second)[0], func(cb map[string]any) string { return secrets[cb["payment_type"].(string)] })
			assert.Equal(t, ch.word, cb["payment_type"])
		}
		// payment_type: channel sends the channel's name; off sends none.
		a := e.mustMerchant(t, `{"username":"pc-old","payment_type":"duitnow","callback_url":"`+rc.URL+`","dialect":{"payment_type":"channel"}}`)
		require.Equal(t, true, e.post(t, enc, pathWithdrawOrders, map[string]string{"auth": e.authAs(t, enc, a), "amount": "10", "currency": "MYR",
			"orderid": "PT-W", "bank_id": "1", "holder_name": "Ali", "account_no": "4000000001"})["status"])
		cb := merchantSide(t, rc.wait(t, 1, 5*time.Second)[0], bySecret(a.SecretKey))
		assert.Equal(t, "duitnow", cb["payment_type"])
		a = e.mustMerchant(t, `{"username":"pc-off","payment_type":"duitnow","callback_url":"`+rc.URL+`","dialect":{"payment_type":"off"}}`)
		require.Equal(t, true, e.post(t, enc, pathWithdrawOrders, map[string]string{"auth": e.authAs(t, enc, a), "amount": "10", "currency": "MYR",
			"orderid": "PT-W2", "bank_id": "1", "holder_name": "Ali", "account_no": "4000000001"})["status"])
		cb = merchantSide(t, rc.wait(t, 1, 5*time.Second)[0], bySecret(a.SecretKey))
		assert.NotContains(t, cb, "payment_type")
	},
	gateway.SwitchCallbackUsername: func(t *testing.T, enc string) {
		rc := newRecorder(t, nil)
		e := MustOpenEnv(t, withCallback(rc.URL))
		a := e.mustMerchant(t, `{"username":"java-shop","callback_url":"`+rc.URL+`","dialect":{"callback_username":"on"}}`)
		secrets := map[string]string{a.Username: a.SecretKey}
		f := map[string]string{"username": a.Username, "auth": e.authAs(t, enc, a), "amount": "100", "currency": "MYR", "orderid": "CU-1",
			"email": "a@b.co", "phone_number": "1"}
		require.Equal(t, true, e.post(t, enc, pathGenerateOrders, f)["status"])
		e.mustSettle(t, gateway.KindDeposit, "CU-1", map[string]string{"outcome": "completed", "merchant": a.Username})
		// The Java handler finds the account by the callback's username.
		cb := merchantSide(t, rc.wait(t, 1, 5*time.Second)[0], func(cb map[string]any) string { s, _ := cb["username"].(string); return secrets[s] })
		assert.Equal(t, "java-shop", cb["username"])
		e.Deposit(t, "CU-2", nil)
		e.mustSettle(t, gateway.KindDeposit, "CU-2", map[string]string{"outcome": "completed"})
		assert.NotContains(t, string(rc.wait(t, 1, 5*time.Second)[0].Body), "username", "the document's merchant sends none")
	},
	gateway.SwitchCallbackAmount: func(t *testing.T, enc string) {
		rc := newRecorder(t, nil)
		e := MustOpenEnv(t)
		a := e.mustMerchant(t, `{"username":"str-amt","callback_url":"`+rc.URL+`","dialect":{"callback_amount":"string"}}`)
		tok := e.authAs(t, enc, a)
		require.Equal(t, true, e.post(t, enc, pathGenerateOrders, map[string]string{"username": "c", "auth": tok, "amount": "300", "currency": "MYR",
			"orderid": "CA-1", "email": "a@b.co", "phone_number": "1"})["status"])
		e.mustSettle(t, gateway.KindDeposit, "CA-1", map[string]string{"outcome": "completed", "merchant": a.Username})
		d := rc.wait(t, 1, 5*time.Second)[0]
		cb := merchantSide(t, d, bySecret(a.SecretKey))
		amount, isString := cb["amount"].(string) // Java's (String) cast
		require.True(t, isString, "%s", d.Body)
		assert.Equal(t, "300.0000", amount)
		require.Equal(t, true, e.post(t, enc, pathWithdrawOrders, map[string]string{"auth": tok, "amount": "1", "currency": "MYR",
			"orderid": "CA-W", "bank_id": "1", "holder_name": "Ali", "account_no": "4000000001"})["status"])
		assert.Contains(t, string(rc.wait(t, 1, 5*time.Second)[0].Body), `"amount":"1",`, "payouts quote the plain amount")
	},
	gateway.SwitchWithdrawOrderID: func(t *testing.T, enc string) {
		e := MustOpenEnv(t)
		a := e.mustMerchant(t, `{"username":"no-wid","dialect":{"withdraw_order_id":"off"}}`)
		w := e.post(t, enc, pathWithdrawOrders, map[string]string{"auth": e.authAs(t, enc, a), "amount": "10", "currency": "MYR",
			"orderid": "WI-1", "bank_id": "1", "holder_name": "Ali", "account_no": "123"})
		assert.Equal(t, map[string]any{"status": true, "message": "Success"}, w, "the vendor's answer exactly")
		w = e.Withdraw(t, "WI-2", nil)
		assert.Regexp(t, `^W[0-9]+$`, w["withdraw_order_id"], "on in both profiles")
	},
	gateway.SwitchPendingStatus: func(t *testing.T, enc string) {
		e := MustOpenEnv(t)
		a := e.mustMerchant(t, `{"username":"pend","dialect":{"pending_status":"status_false"}}`)
		require.Equal(t, true, e.post(t, enc, pathGenerateOrders, map[string]string{"username": "c", "auth": e.authAs(t, enc, a), "amount": "100",
			"currency": "MYR", "orderid": "PS-1", "email": "a@b.co", "phone_number": "1"})["status"])
		assert.Equal(t, map[string]any{"status": false}, e.post(t, enc, "/merchant/check_status", map[string]string{"username": "pend", "id": "PS-1"}))
		e.mustSettle(t, gateway.KindDeposit, "PS-1", map[string]string{"outcome": "completed", "merchant": "pend"})
		assert.Equal(t, "completed", e.post(t, enc, "/merchant/check_status", map[string]string{"username": "pend", "id": "PS-1"})["order_status"])
		e.Deposit(t, "PS-2", nil)
		assert.Equal(t, "pending", e.post(t, enc, "/merchant/check_status", map[string]string{"username": testMerchant, "id": "PS-2"})["order_status"])
	},
	gateway.SwitchCallbackBody: func(t *testing.T, enc string) {
		rc := newRecorder(t, nil)
		e := MustOpenEnv(t)
		a := e.mustMerchant(t, `{"username":"formcb","callback_url":"`+rc.URL+`","dialect":{"callback_body":"form"}}`)
		require.Equal(t, true, e.post(t, enc, pathGenerateOrders, map[string]string{"username": "c", "auth": e.authAs(t, enc, a), "amount": "100",
			"currency": "MYR", "orderid": "CB-1", "email": "a@b.co", "phone_number": "1"})["status"])
		e.mustSettle(t, gateway.KindDeposit, "CB-1", map[string]string{"outcome": "completed", "merchant": a.Username})
		d := rc.wait(t, 1, 5*time.Second)[0]
		assert.Equal(t, "application/x-www-form-urlencoded", d.ContentType)
		require.True(t, strings.HasPrefix(string(d.Body), "json="), "%s", d.Body)
		// The handler that strips the prefix and parses the rest as JSON (docs/fidelity.md, family).
		var stripped map[string]any
		require.NoError(t, json.Unmarshal([]byte(strings.TrimPrefix(string(d.Body), "json=")), &stripped), "%s", d.Body)
		assert.Equal(t, "CB-1", stripped["order_id"])
		form, err := url.ParseQuery(string(d.Body))
		require.NoError(t, err)
		assert.Equal(t, strings.TrimPrefix(string(d.Body), "json="), form.Get("json"), "$_POST['json'] reads the same JSON")
		merchantSide(t, d, bySecret(a.SecretKey))
		assert.NoError(t, d.Err, "the Go client reads the json= form too")
	},
	gateway.SwitchPayoutCallbackURL: func(t *testing.T, enc string) {
		deposits, payouts := newRecorder(t, nil), newRecorder(t, nil)
		e := MustOpenEnv(t)
		a := e.mustMerchant(t, `{"username":"two-routes","callback_url":"`+deposits.URL+`","dialect":{"payout_callback_url":"`+payouts.URL+`"}}`)
		tok := e.authAs(t, enc, a)
		require.Equal(t, true, e.post(t, enc, pathWithdrawOrders, map[string]string{"auth": tok, "amount": "10", "currency": "MYR",
			"orderid": "PC-W", "bank_id": "1", "holder_name": "Ali", "account_no": "4000000001"})["status"])
		cb := merchantSide(t, payouts.wait(t, 1, 5*time.Second)[0], bySecret(a.SecretKey))
		assert.Equal(t, "withdrawal", cb["type"])
		require.Equal(t, true, e.post(t, enc, pathGenerateOrders, map[string]string{"username": "c", "auth": tok, "amount": "100",
			"currency": "MYR", "orderid": "PC-D", "email": "a@b.co", "phone_number": "1"})["status"])
		e.mustSettle(t, gateway.KindDeposit, "PC-D", map[string]string{"outcome": "completed", "merchant": a.Username})
		cb = merchantSide(t, deposits.wait(t, 1, 5*time.Second)[0], bySecret(a.SecretKey))
		assert.Equal(t, "deposit", cb["type"])
	},
	gateway.SwitchTrueMoneyBankID: func(t *testing.T, enc string) {
		e := MustOpenEnv(t)
		a := e.mustMerchant(t, `{"username":"tm","dialect":{"truemoney_bank_id":"optional"}}`)
		f := map[string]string{"username": "c", "auth": e.authAs(t, enc, a), "amount": "100", "currency": "THB", "orderid": "TM-1",
			"email": "a@b.co", "phone_number": "1", "pay_method": "truemoney"}
		assert.Equal(t, true, e.post(t, enc, pathGenerateOrders, f)["status"])
		f["auth"], f["orderid"] = e.Auth(t), "TM-2"
		assert.Equal(t, gateway.MsgParamsMissing, e.post(t, enc, pathGenerateOrders, f)["message"], "required under document")
	},
}

// TestDialectSwitchFlips flips every switch on a run-time merchant, in both content
// types, with the callbacks verified as the merchant verifies them.
func TestDialectSwitchFlips(t *testing.T) {
	for _, s := range gateway.Switches() {
		for _, enc := range encodings {
			t.Run(string(s.Name)+"/"+enc, func(t *testing.T) {
				flip := flips[s.Name]
				require.NotNil(t, flip, "switch %s has no test that flips it", s.Name)
				flip(t, enc)
			})
		}
	}
}

// TestEverySwitchIsFlipped: the flips cover the switch table, no more, no less.
func TestEverySwitchIsFlipped(t *testing.T) {
	names := map[gateway.Switch]bool{}
	for _, s := range gateway.Switches() {
		names[s.Name] = true
		assert.Contains(t, flips, s.Name)
	}
	for n := range flips {
		assert.True(t, names[n], "flip of unknown switch %s", n)
	}
}

// TestMerchantDialectAPI: a merchant's effective dialect is listed; a bad switch or
// value is a 400 that names it.
func TestMerchantDialectAPI(t *testing.T) {
	e := MustOpenEnv(t, observed)
	e.mustMerchant(t, `{"username":"d1","dialect":{"callback_amount":"number"}}`)
	var list struct {
		Merchants []struct {
			Username  string            `json:"username"`
			Dialect   map[string]string `json:"dialect"`
			Effective map[string]string `json:"effective_dialect"`
		} `json:"merchants"`
	}
	getJSON(t, e.URL+"/sandbox/api/merchants", &list)
	require.Len(t, list.Merchants, 2)
	assert.Equal(t, "string", list.Merchants[0].Effective["callback_amount"], "the observed preset")
	assert.Equal(t, "number", list.Merchants[1].Effective["callback_amount"], "the merchant's own")
	assert.Equal(t, "on", list.Merchants[1].Effective["callback_username"])
	assert.Equal(t, map[string]string{"callback_amount": "number"}, list.Merchants[1].Dialect)
	for body, want := range map[string]string{
		`{"dialect":{"nope":"on"}}`:                             "unknown switch",
		`{"dialect":{"callback_amount":"float"}}`:               "number or string",
		`{"dialect":{"payout_callback_url":"ftp://x"}}`:         "http or https",
		`{"dialect":{"payout_callback_url":"http://a/\u0001"}}`: "control",
	} {
		code, b := postJSON(t, e.URL+"/sandbox/api/merchants", body)
		assert.Equal(t, http.StatusBadRequest, code, "%s: %s", body, b)
		assert.Contains(t, string(b), want, body)
	}
	// Form requests set switches as dialect.<switch>.
	code, b := e.PostForm(t, "/sandbox/api/merchants", map[string]string{"username": "d2", "dialect.pending_status": "status_false"})
	require.Equal(t, http.StatusCreated, code, "%s", b)
	assert.Contains(t, string(b), `"pending_status":"status_false"`)
}

// TestCaptureLearnsTheDialect: a team captures one real callback of its member and
// gets its dialect as a config snippet. The "real" gateway here is a sandbox merchant
// in the observed dialect with json= bodies, whose callback URL is the capture.
func TestCaptureLearnsTheDialect(t *testing.T) {
	e := MustOpenEnv(t)
	a := e.mustMerchant(t, `{"username":"member","payment_type":"duitnow","callback_url":"`+e.URL+`/sandbox/capture/member",`+
		`"dialect":{"callback_amount":"string","callback_username":"on","payment_type":"live","callback_body":"form"}}`)
	require.Equal(t, true, e.post(t, "multipart", pathGenerateOrders, map[string]string{"username": "c", "auth": e.authAs(t, "multipart", a),
		"amount": "100", "currency": "MYR", "orderid": "CAP-D1", "email": "a@b.co", "phone_number": "1"})["status"])
	e.mustSettle(t, gateway.KindDeposit, "CAP-D1", map[string]string{"outcome": "completed", "merchant": "member"})
	var caps []captureJSON
	require.Eventually(t, func() bool { _, caps = listCaptures(t, e, "name=member"); return len(caps) == 1 }, 5*time.Second, 10*time.Millisecond)
	c := caps[0]
	assert.True(t, c.OK, "%+v", c.Findings)
	assert.Equal(t, "member", c.Merchant)
	assert.Equal(t, map[string]string{"callback_body": "form", "callback_amount": "string", "callback_username": "on", "payment_type": "live"}, c.Dialect)
	assert.Equal(t, "dialect:\n  payment_type: live\n  callback_username: on\n  callback_amount: string\n  callback_body: form\n", c.DialectSnippet)
	assert.Contains(t, c.finding("dialect.callback_amount"), "amount is a string: set callback_amount: string")
	// The snippet, pasted as the merchant's dialect, is accepted and gives that dialect.
	var parsed struct {
		Dialect map[string]string `yaml:"dialect"`
	}
	require.NoError(t, yaml.Unmarshal([]byte(c.DialectSnippet), &parsed))
	assert.NoError(t, gateway.CheckDialect(parsed.Dialect))
	// A member's json= body written as it is (the handler that takes it strips the
	// prefix), with a ";" no form decoder of Go's accepts: still read as its JSON.
	raw := `json={"order_id":"CAP-W1","amount":"100","currency":"MYR","order_status":"fail","status":true,"charge":"0","token":"x","name":"A","type":"withdrawal","remarks":"Bank Maintenance; retry"}`
	resp, err := http.Post(e.URL+"/sandbox/capture/literal", "application/x-www-form-urlencoded", strings.NewReader(raw))
	require.NoError(t, err)
	resp.Body.Close()
	require.Eventually(t, func() bool { _, caps = listCaptures(t, e, "name=literal"); return len(caps) == 1 }, 5*time.Second, 10*time.Millisecond)
	assert.Equal(t, "form", caps[0].Dialect["callback_body"], "%+v", caps[0].Findings)
	assert.Equal(t, "string", caps[0].Dialect["callback_amount"])
}
