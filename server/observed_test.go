package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/config"
	"github.com/vpay88/vpay88-sandbox/gateway"
)

func observed(c *config.Config) { c.Profile = gateway.ProfileObserved }

// liveAuth calls /merchant/auth and returns the token and the gateway-made order id
// live answers carry.
func liveAuth(t *testing.T, e *testEnv) (token, orderID string) {
	t.Helper()
	m := e.Call(t, pathAuth, map[string]string{"username": testMerchant, "api_key": testAPIKey})
	require.Equal(t, true, m["status"])
	orderID, _ = m["order_id"].(string)
	require.Regexp(t, `^[A-Za-z0-9]{16}$`, orderID)
	return m["auth"].(string), orderID
}

// TestObservedProfileLiveIntegration replays requests shaped like the live
// integrations (docs/fidelity.md, observed) under the observed profile: the merchant's own username, no
// email or phone, bank_code, customer_bank_holder_name and api_key, the order id from
// auth; the callback names the channel and the holder as the payer.
func TestObservedProfileLiveIntegration(t *testing.T) {
	rc := newRecorder(t, nil)
	e := MustOpenEnv(t, observed, withCallback(rc.URL))
	tok, oid := liveAuth(t, e)
	m := e.Call(t, pathGenerateOrders, map[string]string{"username": testMerchant, "auth": tok, "amount": "100", "currency": "MYR",
		"orderid": oid, "bank_code": "MayBank", "customer_bank_holder_name": "Ali Bin Abu", "api_key": testAPIKey})
	require.Equal(t, true, m["status"], "%v", m)

	page, key := checkoutKey(t, m["p_url"].(string))
	resp, err := http.Get(e.URL + page + "?pay_for_order=true&key=" + key)
	require.NoError(t, err)
	html, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Contains(t, string(html), "MayBank")
	assert.Contains(t, string(html), "Ali Bin Abu")

	e.mustSettle(t, gateway.KindDeposit, oid, map[string]string{"outcome": "completed"})
	cb := rc.wait(t, 1, 5*time.Second)[0]
	var body map[string]any
	require.NoError(t, json.Unmarshal(cb.Body, &body))
	assert.Equal(t, "Online Banking", body["payment_type"], "the newest live word for the bank channel (docs/fidelity.md, family)")
	assert.Equal(t, "Ali Bin Abu", body["name"])
	assert.Equal(t, oid, body["order_id"])
	assert.Equal(t, md5hex(testSecret+oid), body["token"])

	// An email given is still checked.
	assert.Equal(t, refusal(gateway.MsgEmailIncorrect), callRaw(t, e, pathGenerateOrders, map[string]string{"username": "john",
		"auth": tok, "amount": "100", "currency": "MYR", "orderid": "OBS-2", "email": "nope"}))
}

// TestObservedWithdrawalBanks: the live MYR payout bank list (18 banks from "246"),
// payouts to its ids; the deposit bank list and other currencies as configured.
func TestObservedWithdrawalBanks(t *testing.T) {
	e := MustOpenEnv(t, observed)
	m := e.Call(t, "/wallet/withdraw_bank_list", map[string]string{"username": testMerchant, "currency": "MYR"})
	data := m["data"].([]any)
	require.Len(t, data, 18)
	assert.Equal(t, map[string]any{"currency": "MYR", "bank_name": "MAYBANK", "id": "246"}, data[0])
	m = e.Call(t, "/wallet/withdraw_bank_list", map[string]string{"username": testMerchant, "currency": "THB"})
	assert.Equal(t, "1", m["data"].([]any)[0].(map[string]any)["id"], "other currencies as configured")
	m = e.Call(t, "/wallet/bank_list", map[string]string{"username": testMerchant, "currency": "MYR"})
	assert.Equal(t, "1", m["data"].([]any)[0].(map[string]any)["id"], "the deposit bank list as configured")

	assert.Equal(t, true, e.Withdraw(t, "OBS-W1", map[string]string{"bank_id": "278", "account_no": "4000000009"})["status"])
	assert.Equal(t, "TOUCH N GO", e.adminOrder(t, gateway.KindWithdrawal, "OBS-W1").BankName)
	assert.Equal(t, gateway.MsgBankIDInvalid, e.Withdraw(t, "OBS-W2", map[string]string{"bank_id": "1"})["message"])
}

// TestDocumentProfileUnchanged: the default profile still requires email and phone,
// lists the configured MYR payout banks and sends no payment_type.
func TestDocumentProfileUnchanged(t *testing.T) {
	rc := newRecorder(t, nil)
	e := MustOpenEnv(t, withCallback(rc.URL))
	tok, _ := liveAuth(t, e)
	assert.Equal(t, refusal(gateway.MsgParamsMissing), callRaw(t, e, pathGenerateOrders, map[string]string{"username": "john",
		"auth": tok, "amount": "100", "currency": "MYR", "orderid": "DOC-1"}))
	m := e.Call(t, "/wallet/withdraw_bank_list", map[string]string{"username": testMerchant, "currency": "MYR"})
	assert.Equal(t, "1", m["data"].([]any)[0].(map[string]any)["id"])
	e.Deposit(t, "DOC-2", map[string]string{"bank_code": "CimbBank", "customer_bank_holder_name": "Siti"})
	e.mustSettle(t, gateway.KindDeposit, "DOC-2", map[string]string{"outcome": "completed"})
	cb := rc.wait(t, 1, 5*time.Second)[0]
	assert.NotContains(t, string(cb.Body), "payment_type")
	assert.Contains(t, string(cb.Body), `"name":"Siti"`, "the holder name is the payer in both profiles")
	assert.Equal(t, "CimbBank", e.adminOrder(t, gateway.KindDeposit, "DOC-2").BankCode)
}

// TestPaymentTypePerMerchant: a merchant account configured for a channel names it
// in its observed-profile callbacks.
func TestPaymentTypePerMerchant(t *testing.T) {
	rc := newRecorder(t, nil)
	e := MustOpenEnv(t, observed, withCallback(rc.URL), func(c *config.Config) { c.Merchants[0].PaymentType = "duitnow" })
	e.Withdraw(t, "PT-1", map[string]string{"bank_id": "246", "account_no": "4000000001"})
	cb := rc.wait(t, 1, 5*time.Second)[0]
	assert.Contains(t, string(cb.Body), `"payment_type":"QR"`, "the newest live word for duitnow (docs/fidelity.md, family)")
	_, err := config.Parse("x", []byte(strings.Replace(string(config.DefaultYAML()), "secret_key: vpay88-test-secret", "secret_key: vpay88-test-secret\n    payment_type: a-word-of-more-than-thirty-two-bytes", 1)))
	assert.ErrorContains(t, err, "payment_type")
}

// TestGetBalance: /wallet/get_balance answers the merchant's balances (a guessed
// shape), with auth's credentials.
func TestGetBalance(t *testing.T) {
	e := MustOpenEnv(t)
	e.Withdraw(t, "GB-1", map[string]string{"amount": "100", "account_no": "4000000009"}) // stays pending: 105 reserved
	m := e.Call(t, "/wallet/get_balance", map[string]string{"username": testMerchant, "api_key": testAPIKey})
	require.Equal(t, true, m["status"], "%v", m)
	first := m["data"].([]any)[0].(map[string]any)
	assert.Equal(t, "MYR", first["currency"])
	raw := callRaw(t, e, "/wallet/get_balance", map[string]string{"username": testMerchant, "api_key": testAPIKey})
	assert.Contains(t, raw, `{"currency":"MYR","balance":1000000.0000,"available":999895.0000,"reserved":105.0000}`)
	assert.Equal(t, refusal(gateway.MsgParamsIncorrect), callRaw(t, e, "/wallet/get_balance", map[string]string{"username": testMerchant, "api_key": "x"}))
	assert.Equal(t, refusal(gateway.MsgParamsMissing), callRaw(t, e, "/wallet/get_balance", map[string]string{"username": testMerchant}))
}

// TestBankMaintenance: the magic account 4000000005 refuses a payout with the live
// gateway's "Bank Maintenance.", and reserves nothing.
func TestBankMaintenance(t *testing.T) {
	e := MustOpenEnv(t)
	before := mustBalance(t, e, testMerchant, "MYR")
	assert.Equal(t, gateway.MsgBankMaintenance, e.Withdraw(t, "BM-1", map[string]string{"account_no": "4000000005"})["message"])
	assert.Equal(t, before, mustBalance(t, e, testMerchant, "MYR"))
	code, _, _ := e.adminGet(t, gateway.KindWithdrawal, "BM-1")
	assert.Equal(t, 404, code)
}
