package client_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/client"
	"github.com/vpay88/vpay88-sandbox/gateway"
)

const secret = "vpay88-test-secret"

// vendorDeposit is the vendor's deposit callback example, trailing comma included, with
// the token computed for our secret.
func vendorDeposit(token string) string {
	return `{
    "order_id": "20073",
    "amount": 300.0000,
    "currency": "MYR",
    "order_status":"completed",
    "status": true,
    "charge": "9.0000",
    "token":"` + token + `",
    "name":"john doe",
    "type":"deposit",
   
} `
}

func TestVerifyCallback(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		cb, err := client.VerifyCallback([]byte(vendorDeposit(gateway.Token(secret, "20073"))), secret)
		require.NoError(t, err)
		assert.Equal(t, "20073", cb.OrderID)
		assert.Equal(t, gateway.MustMoney("300"), cb.Amount)
		assert.True(t, cb.Completed())
		assert.Equal(t, gateway.KindDeposit, cb.Type)
		charge, err := cb.ChargeMoney()
		require.NoError(t, err)
		assert.Equal(t, gateway.MustMoney("9"), charge)
	})
	t.Run("OKUpperCaseToken", func(t *testing.T) {
		_, err := client.VerifyCallback([]byte(vendorDeposit(strings.ToUpper(gateway.Token(secret, "20073")))), secret)
		require.NoError(t, err)
	})
	t.Run("ErrBadToken", func(t *testing.T) {
		cb, err := client.VerifyCallback([]byte(vendorDeposit("cb2a91e02770eda1c42d7485f9048913")), secret)
		assert.ErrorIs(t, err, client.ErrBadToken)
		require.NotNil(t, cb, "the claimed callback is returned for logging")
		assert.Equal(t, "20073", cb.OrderID)
	})
	t.Run("ErrBadTokenOtherSecret", func(t *testing.T) {
		_, err := client.VerifyCallback([]byte(vendorDeposit(gateway.Token("other", "20073"))), secret)
		assert.ErrorIs(t, err, client.ErrBadToken)
	})
	t.Run("WithdrawalExample", func(t *testing.T) {
		body := `{"order_id": "Testpayout008","amount": 1,"currency": "MYR","order_status":"fail","status": true,"charge": "0",` +
			`"token":"` + gateway.Token(secret, "Testpayout008") + `","name":"SUK THAWAR","type":"withdrawal",` +
			`"remarks":"Account Holder Name Mismatch (MR SUK THA != SUK THAWAR)",}`
		cb, err := client.VerifyCallback([]byte(body), secret)
		require.NoError(t, err)
		assert.Equal(t, gateway.StatusFail, cb.OrderStatus)
		assert.Equal(t, gateway.MustMoney("1"), cb.Amount)
		assert.Contains(t, cb.Remarks, "Mismatch")
	})
	t.Run("ErrBadCallback", func(t *testing.T) {
		for _, body := range []string{``, `not json`, `{}`, `{"order_id":""}`, `{"order_id":"x","amount":"lots"}`} {
			_, err := client.VerifyCallback([]byte(body), secret)
			assert.ErrorIs(t, err, client.ErrBadCallback, body)
		}
	})
}

func TestCallbackHandler(t *testing.T) {
	var mu sync.Mutex
	var got []*client.Callback
	fail := false
	h := client.CallbackHandler(secret, func(ctx context.Context, cb *client.Callback) error {
		mu.Lock()
		defer mu.Unlock()
		if fail {
			return errors.New("database down")
		}
		got = append(got, cb)
		return nil
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	post := func(body string) (int, string) {
		resp, err := http.Post(srv.URL, "application/json", strings.NewReader(body))
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	code, body := post(vendorDeposit(gateway.Token(secret, "20073")))
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "success", body)
	require.Len(t, got, 1)
	assert.Equal(t, "20073", got[0].OrderID)

	code, _ = post(vendorDeposit("0123456789abcdef0123456789abcdef"))
	assert.Equal(t, http.StatusBadRequest, code, "bad token")
	code, _ = post(`{"status":`)
	assert.Equal(t, http.StatusBadRequest, code, "malformed")
	assert.Len(t, got, 1, "fn is not called for refused callbacks")

	mu.Lock()
	fail = true
	mu.Unlock()
	code, _ = post(vendorDeposit(gateway.Token(secret, "20073")))
	assert.Equal(t, http.StatusInternalServerError, code, "fn failed: the gateway should retry")

	resp, err := http.Get(srv.URL)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}

// TestVerifyCallback_FamilyDialects: a callback of another member of the family — the
// amount as a string, the account's username, the body as the form field json=<JSON>
// (docs/fidelity.md, family) — decodes and verifies like the document's.
func TestVerifyCallback_FamilyDialects(t *testing.T) {
	body := `{"order_id":"F-1","amount":"300.0000","currency":"MYR","order_status":"completed","status":true,` +
		`"charge":"9.0000","token":"` + gateway.Token("s", "F-1") + `","name":"Ali","type":"deposit","username":"shop-qr","payment_type":"QR"}`
	for name, b := range map[string]string{"json": body, "form": string(gateway.FormCallbackBody([]byte(body)))} {
		t.Run(name, func(t *testing.T) {
			cb, err := client.VerifyCallback([]byte(b), "s")
			require.NoError(t, err)
			assert.Equal(t, gateway.MustMoney("300"), cb.Amount)
			assert.Equal(t, "shop-qr", cb.Username)
			assert.Equal(t, "QR", cb.PaymentType)
			_, err = client.VerifyCallback([]byte(b), "other")
			assert.ErrorIs(t, err, client.ErrBadToken)
		})
	}
}
