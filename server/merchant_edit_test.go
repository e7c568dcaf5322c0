package server_test

import (
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/gateway"
)

// patch sends PATCH with a JSON body and returns the status and answer.
func patch(tb testing.TB, url, body string) (int, string) {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPatch, url, strings.NewReader(body))
	require.NoError(tb, err)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(tb, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

type merchantList struct {
	Merchants []struct {
		Username    string            `json:"username"`
		CallbackURL string            `json:"callback_url"`
		Dialect     map[string]string `json:"dialect"`
		Effective   map[string]string `json:"effective_dialect"`
	} `json:"merchants"`
	Total        int    `json:"total"`
	NamesVersion uint64 `json:"names_version"`
}

// TestPatchMerchant: a configured merchant's callback URL and dialect change at run
// time, the next callback follows them, and the change outlives a restart; a
// run-time merchant's edit goes with it when it is deleted.
func TestPatchMerchant(t *testing.T) {
	rc := newRecorder(t, nil)
	path := filepath.Join(t.TempDir(), "sandbox.db")
	e := MustOpenEnvAt(t, path)
	e.Deposit(t, "PM-1", nil)
	code, b := patch(t, e.URL+"/sandbox/api/merchants/"+testMerchant, `{"callback_url":"`+rc.URL+`","dialect":{"callback_amount":"string","callback_username":"on"}}`)
	require.Equal(t, http.StatusOK, code, b)
	assert.Contains(t, b, `"callback_amount":"string"`)
	e.mustSettle(t, gateway.KindDeposit, "PM-1", map[string]string{"outcome": "completed"})
	d := rc.wait(t, 1, 5*time.Second)[0]
	cb := merchantSide(t, d, bySecret(testSecret))
	assert.Equal(t, "100.0000", cb["amount"])
	assert.Equal(t, testMerchant, cb["username"])

	// The alias names the same merchant; "" removes a switch of the merchant's own.
	code, b = patch(t, e.URL+"/sandbox/api/merchants/vpay88_test", `{"dialect":{"callback_username":""}}`)
	require.Equal(t, http.StatusOK, code, b)
	e.Close()

	e2 := MustOpenEnvAt(t, path)
	var list merchantList
	getJSON(t, e2.URL+"/sandbox/api/merchants", &list)
	assert.Equal(t, rc.URL, list.Merchants[0].CallbackURL, "kept across a restart")
	assert.Equal(t, map[string]string{"callback_amount": "string"}, list.Merchants[0].Dialect)
	assert.Equal(t, "off", list.Merchants[0].Effective["callback_username"])
	e2.Deposit(t, "PM-2", nil)
	e2.mustSettle(t, gateway.KindDeposit, "PM-2", map[string]string{"outcome": "completed"})
	d = rc.wait(t, 1, 5*time.Second)[0]
	assert.Contains(t, string(d.Body), `"amount":"100.0000"`)
	assert.NotContains(t, string(d.Body), `"username"`)

	// Refusals: 400 naming the problem, 404 for an unknown merchant; nothing changes.
	for body, want := range map[string]string{
		`{"callback_url":"localhost:9000/cb"}`:                          "http or https",
		`{"callback_url":"http://x/` + strings.Repeat("a", 3000) + `"}`: "2048",
		`{"dialect":{"pending_status":"maybe"}}`:                        "pending or status_false",
		`{}`:                                                            "nothing to change",
		`not json`:                                                      "JSON",
	} {
		code, b := patch(t, e2.URL+"/sandbox/api/merchants/"+testMerchant, body)
		assert.Equal(t, http.StatusBadRequest, code, "%.60s: %s", body, b)
		assert.Contains(t, b, want, body)
	}
	code, _ = patch(t, e2.URL+"/sandbox/api/merchants/nobody", `{"callback_url":""}`)
	assert.Equal(t, http.StatusNotFound, code)

	// A run-time merchant's edit goes with it.
	e2.mustMerchant(t, `{"username":"rt"}`)
	code, b = patch(t, e2.URL+"/sandbox/api/merchants/rt", `{"dialect":{"pending_status":"status_false"}}`)
	require.Equal(t, http.StatusOK, code, b)
	code, _ = e2.delete(t, "/sandbox/api/merchants/rt")
	require.Equal(t, http.StatusOK, code)
	e2.mustMerchant(t, `{"username":"rt"}`)
	getJSON(t, e2.URL+"/sandbox/api/merchants", &list)
	assert.Equal(t, "pending", list.Merchants[1].Effective["pending_status"], "a merchant made again starts afresh")
}

// TestMerchantListPaged: the dashboard reads one page and the names; names_version
// moves when a merchant is made or deleted, not when one is edited.
func TestMerchantListPaged(t *testing.T) {
	e := MustOpenEnv(t)
	for i := range 60 {
		e.mustMerchant(t, fmt.Sprintf(`{"username":"page-%02d"}`, i))
	}
	var page merchantList
	getJSON(t, e.URL+"/sandbox/api/merchants?limit=50", &page)
	assert.Len(t, page.Merchants, 50)
	assert.Equal(t, 61, page.Total)
	getJSON(t, e.URL+"/sandbox/api/merchants?offset=50&limit=50", &page)
	require.Len(t, page.Merchants, 11)
	assert.Equal(t, "page-59", page.Merchants[10].Username)
	var names struct {
		Names        []string `json:"names"`
		Currencies   []string `json:"currencies"`
		NamesVersion uint64   `json:"names_version"`
	}
	getJSON(t, e.URL+"/sandbox/api/merchants?names=1", &names)
	assert.Len(t, names.Names, 61)
	assert.Equal(t, []string{"IDR", "MYR", "SGD", "THB", "VND"}, names.Currencies)
	v := names.NamesVersion
	code, _ := patch(t, e.URL+"/sandbox/api/merchants/page-00", `{"callback_url":"http://127.0.0.1:1/cb"}`)
	require.Equal(t, http.StatusOK, code)
	getJSON(t, e.URL+"/sandbox/api/merchants?names=1", &names)
	assert.Equal(t, v, names.NamesVersion, "an edit keeps the names")
	e.mustMerchant(t, `{"username":"page-new"}`)
	getJSON(t, e.URL+"/sandbox/api/merchants?names=1", &names)
	assert.NotEqual(t, v, names.NamesVersion)
	resp, err := http.Get(e.URL + "/sandbox/api/merchants?limit=501")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
}

// TestRuntimeMerchantFields: a run-time merchant's fields are checked as the vendor
// fields are; every refusal is a 400 naming the field, and nothing is made.
func TestRuntimeMerchantFields(t *testing.T) {
	e := MustOpenEnv(t)
	cases := map[string]struct{ body, want string }{
		"LongUsername":     {`{"username":"` + strings.Repeat("u", 40000) + `"}`, "username"},
		"ControlUsername":  {`{"username":"a\u0007b"}`, "username"},
		"TabUsername":      {`{"username":"a\tb"}`, "username"},
		"LongAPIKey":       {`{"api_key":"` + strings.Repeat("k", 100<<10) + `"}`, "api_key"},
		"LongSecret":       {`{"secret_key":"` + strings.Repeat("s", 200) + `"}`, "secret_key"},
		"LongCallbackURL":  {`{"callback_url":"http://x/` + strings.Repeat("c", 100<<10) + `"}`, "callback_url"},
		"CallbackNoScheme": {`{"callback_url":"app:8080/cb"}`, "callback_url"},
		"NegativeOpening":  {`{"currencies":[{"code":"MYR","start_balance":-1}]}`, "start_balance"},
		"NegativeMin":      {`{"currencies":[{"code":"MYR","min":-1}]}`, "min"},
		"LongPaymentType":  {`{"payment_type":"` + strings.Repeat("p", 33) + `"}`, "payment_type"},
		"DuplicateBankID":  {`{"currencies":[{"code":"BDT","min":1,"max":5,"banks":[{"id":"1","name":"a"},{"id":"1","name":"b"}]}]}`, "twice"},
		"EmptyBankName":    {`{"currencies":[{"code":"BDT","min":1,"max":5,"banks":[{"id":"1"}]}]}`, "bank name"},
		// encoding/json would turn the byte into U+FFFD and the name would pass.
		"RawInvalidUTF8": {"{\"username\":\"bad\xff\"}", "invalid UTF-8"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			code, b := postJSON(t, e.URL+"/sandbox/api/merchants", tc.body)
			assert.Equal(t, http.StatusBadRequest, code, "%s", b)
			assert.Contains(t, string(b), tc.want)
		})
	}
	// Invalid UTF-8 in a form field.
	code, b := e.PostForm(t, "/sandbox/api/merchants", map[string]string{"username": "bad\xff"})
	assert.Equal(t, http.StatusBadRequest, code, "%s", b)
	var list merchantList
	getJSON(t, e.URL+"/sandbox/api/merchants", &list)
	assert.Len(t, list.Merchants, 1, "nothing was made")
}

// TestCustomerNamesNeverCrossMerchants (issue 18, finding 6): a run-time merchant
// named like another merchant's customer does not hide that customer's orders, and
// check_status with auth looks only in the token's merchant's orders.
func TestCustomerNamesNeverCrossMerchants(t *testing.T) {
	for _, enc := range encodings {
		t.Run(enc, func(t *testing.T) {
			e := MustOpenEnv(t)
			e.Deposit(t, "MARY-1", map[string]string{"username": "mary"})
			mary := e.mustMerchant(t, `{"username":"mary"}`)
			status := func(fields map[string]string) map[string]any {
				return e.post(t, enc, pathCheckStatus, fields)
			}
			assert.Equal(t, "pending", status(map[string]string{"username": "mary", "id": "MARY-1"})["order_status"],
				"the customer's order, although a merchant is called mary")
			assert.Equal(t, "pending", status(map[string]string{"username": "mary", "id": "MARY-1", "auth": e.Auth(t)})["order_status"],
				"with the integration's own auth")
			maryTok := e.authAs(t, enc, mary)
			assert.Equal(t, gateway.MsgOrderNotFound, status(map[string]string{"username": "mary", "id": "MARY-1", "auth": maryTok})["message"],
				"mary's token looks only in mary's orders")
			// Both have an order MARY-2: the merchant's own first, the token decides.
			require.Equal(t, true, e.post(t, enc, pathGenerateOrders, map[string]string{"username": "x", "auth": maryTok, "amount": "7",
				"currency": "MYR", "orderid": "MARY-2", "email": "a@b.co", "phone_number": "1"})["status"])
			e.Deposit(t, "MARY-2", map[string]string{"username": "mary", "amount": "9"})
			assert.Equal(t, 7.0, status(map[string]string{"username": "mary", "id": "MARY-2"})["amount"])
			assert.Equal(t, 9.0, status(map[string]string{"username": "mary", "id": "MARY-2", "auth": e.Auth(t)})["amount"])
			assert.Equal(t, gateway.MsgParamsIncorrect, status(map[string]string{"username": "nobody", "id": "MARY-1"})["message"])
		})
	}
}

// TestMerchantProfile: a merchant's own profile gives it that preset, whatever the
// sandbox's; PATCH changes it and "" goes back to the sandbox's.
func TestMerchantProfile(t *testing.T) {
	rc := newRecorder(t, nil)
	e := MustOpenEnv(t)
	a := e.mustMerchant(t, `{"username":"obs","profile":"observed","callback_url":"`+rc.URL+`"}`)
	for _, enc := range encodings {
		id := "MP-" + enc
		m := e.post(t, enc, pathGenerateOrders, map[string]string{"username": "obs", "auth": e.authAs(t, enc, a), "amount": "100",
			"currency": "MYR", "orderid": id})
		require.Equal(t, true, m["status"], "observed: no email or phone needed: %v", m)
		e.mustSettle(t, gateway.KindDeposit, id, map[string]string{"outcome": "completed", "merchant": "obs"})
		cb := merchantSide(t, rc.wait(t, 1, 5*time.Second)[0], bySecret(a.SecretKey))
		assert.Equal(t, "obs", cb["username"])
		assert.Equal(t, "100.0000", cb["amount"])
		assert.Equal(t, "Online Banking", cb["payment_type"])
	}
	code, b := patch(t, e.URL+"/sandbox/api/merchants/obs", `{"profile":""}`)
	require.Equal(t, http.StatusOK, code, b)
	assert.Contains(t, b, `"callback_amount":"number"`)
	code, b = patch(t, e.URL+"/sandbox/api/merchants/obs", `{"profile":"live"}`)
	assert.Equal(t, http.StatusBadRequest, code, b)
	code, raw := postJSON(t, e.URL+"/sandbox/api/merchants", `{"profile":"nope"}`)
	assert.Equal(t, http.StatusBadRequest, code, "%s", raw)
}
