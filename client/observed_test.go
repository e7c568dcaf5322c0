package client_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/client"
	"github.com/vpay88/vpay88-sandbox/config"
	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/sandboxtest"
)

// TestClient_ObservedIntegration: the client does what the live integrations do
// (docs/fidelity.md, observed) against the observed profile: the orderid from auth, no email or phone,
// bank_code and customer_bank_holder_name.
func TestClient_ObservedIntegration(t *testing.T) {
	sb := sandboxtest.New(t, sandboxtest.WithConfig(func(c *config.Config) { c.Profile = gateway.ProfileObserved }))
	ctx := context.Background()
	a, err := sb.Client.Auth(ctx)
	require.NoError(t, err)
	require.Regexp(t, `^[A-Za-z0-9]+$`, a.OrderID, "auth answers carry order_id")
	g, err := sb.Client.GenerateOrder(ctx, client.DepositRequest{Auth: a.Auth, Username: "john", Amount: gateway.MustMoney("100"),
		Currency: "MYR", OrderID: a.OrderID, BankCode: "MayBank", CustomerBankHolderName: "Ali Bin Abu"})
	require.NoError(t, err)
	assert.Contains(t, g.PURL, "/checkout/order-pay/")
	st, err := sb.Client.CheckStatus(ctx, a.OrderID)
	require.NoError(t, err)
	assert.Equal(t, gateway.StatusPending, st.OrderStatus)

	// The document profile still wants email and phone: absent is missing.
	doc := sandboxtest.New(t)
	_, err = doc.Client.GenerateOrder(ctx, client.DepositRequest{Username: "john", Amount: gateway.MustMoney("100"), Currency: "MYR", OrderID: "doc-1"})
	assert.ErrorIs(t, err, client.ErrParamsMissing)
}

// TestDepositRequest_OptionalFields: optional fields, email and phone_number
// included, go on the wire only when set.
func TestDepositRequest_OptionalFields(t *testing.T) {
	bare := client.DepositRequest{Auth: "a", Username: "john", Amount: gateway.MustMoney("25.5"), Currency: "MYR", OrderID: "o-1"}.Fields()
	for _, k := range []string{"email", "phone_number", "mode", "redirect_url", "bank_id", "bank_code", "customer_bank_holder_name"} {
		_, ok := bare[k]
		assert.False(t, ok, "%s is not sent when empty", k)
	}
	assert.Equal(t, "25.5", bare.Get("amount"))
	full := client.DepositRequest{Auth: "a", Username: "john", Amount: gateway.MustMoney("1"), Currency: "MYR", OrderID: "o-1",
		Email: "j@example.com", PhoneNumber: "60123", BankCode: "DuitNowQR", CustomerBankHolderName: "Siti"}.Fields()
	assert.Equal(t, "j@example.com", full.Get("email"))
	assert.Equal(t, "60123", full.Get("phone_number"))
	assert.Equal(t, "DuitNowQR", full.Get("bank_code"))
	assert.Equal(t, "Siti", full.Get("customer_bank_holder_name"))

	// On the wire, multipart as the vendor's PHP posts it.
	var mu sync.Mutex
	var got map[string][]string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.NoError(t, r.ParseMultipartForm(1<<20))
		mu.Lock()
		got = r.MultipartForm.Value
		mu.Unlock()
		_, _ = io.WriteString(w, `{"status":true,"p_url":"https://pay.example/x"}`)
	}))
	t.Cleanup(srv.Close)
	c := client.New(srv.URL, client.WithCredentials("m", "k"))
	_, err := c.GenerateOrder(context.Background(), client.DepositRequest{Auth: "a", Username: "john", Amount: gateway.MustMoney("1"),
		Currency: "MYR", OrderID: "o-1", BankCode: "Tng"})
	require.NoError(t, err)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"Tng"}, got["bank_code"])
	assert.NotContains(t, got, "email")
	assert.NotContains(t, got, "phone_number")
}

// channelCallback is a live-style callback: payment_type names the merchant account.
func channelCallback(paymentType, secretKey string) []byte {
	return []byte(`{"order_id":"ch-1","amount":100.0000,"currency":"MYR","order_status":"completed","status":true,` +
		`"charge":"3.0000","token":"` + gateway.Token(secretKey, "ch-1") + `","name":"Ali","type":"deposit","payment_type":"` + paymentType + `"}`)
}

func TestVerifyCallbackWith(t *testing.T) {
	secrets := client.SecretsByPaymentType(map[string]string{"bank": "bank-secret", "duitnow": "duitnow-secret"}, "")
	t.Run("ChosenByPaymentType", func(t *testing.T) {
		for _, pt := range []string{"bank", "duitnow"} {
			cb, err := client.VerifyCallbackWith(channelCallback(pt, pt+"-secret"), secrets)
			require.NoError(t, err, pt)
			assert.Equal(t, pt, cb.PaymentType)
			assert.True(t, cb.Completed())
		}
	})
	t.Run("OtherChannelsSecret", func(t *testing.T) {
		cb, err := client.VerifyCallbackWith(channelCallback("duitnow", "bank-secret"), secrets)
		assert.ErrorIs(t, err, client.ErrBadToken)
		assert.NotErrorIs(t, err, client.ErrUnknownPaymentType)
		require.NotNil(t, cb)
	})
	t.Run("UnknownPaymentType", func(t *testing.T) {
		cb, err := client.VerifyCallbackWith(channelCallback("ewallet", "ewallet-secret"), secrets)
		assert.ErrorIs(t, err, client.ErrUnknownPaymentType)
		assert.ErrorIs(t, err, client.ErrBadToken, "an unverifiable token is a bad token")
		require.NotNil(t, cb)
		assert.Equal(t, "ch-1", cb.OrderID)
	})
	t.Run("FallbackWithoutPaymentType", func(t *testing.T) {
		withFallback := client.SecretsByPaymentType(map[string]string{"bank": "bank-secret"}, secret)
		_, err := client.VerifyCallbackWith([]byte(vendorDeposit(gateway.Token(secret, "20073"))), withFallback)
		require.NoError(t, err, "the document's callback has no payment_type: the fallback verifies it")
		_, err = client.VerifyCallbackWith([]byte(vendorDeposit(gateway.Token(secret, "20073"))), secrets)
		assert.ErrorIs(t, err, client.ErrUnknownPaymentType, "no fallback: refused")
	})
	t.Run("VerifyCallbackIgnoresPaymentType", func(t *testing.T) {
		_, err := client.VerifyCallback(channelCallback("ewallet", secret), secret)
		require.NoError(t, err)
	})
	t.Run("Handler", func(t *testing.T) {
		var seen []string
		h := client.CallbackHandlerWith(secrets, func(_ context.Context, cb *client.Callback) error {
			seen = append(seen, cb.PaymentType)
			return nil
		})
		post := func(body []byte) (int, string) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/cb", strings.NewReader(string(body))))
			return rec.Code, rec.Body.String()
		}
		code, answer := post(channelCallback("duitnow", "duitnow-secret"))
		assert.Equal(t, http.StatusOK, code)
		assert.Equal(t, "success", answer)
		code, _ = post(channelCallback("ewallet", "ewallet-secret"))
		assert.Equal(t, http.StatusBadRequest, code)
		code, _ = post(channelCallback("bank", "duitnow-secret"))
		assert.Equal(t, http.StatusBadRequest, code)
		assert.Equal(t, []string{"duitnow"}, seen)
	})
}

// TestClient_GetBalance reads /wallet/get_balance: every enabled currency, the
// available amount, and what an accepted payout reserves.
func TestClient_GetBalance(t *testing.T) {
	sb := sandboxtest.New(t, sandboxtest.WithConfig(func(c *config.Config) { c.WithdrawalDelay = config.Duration(1 << 62) }))
	ctx := context.Background()
	before, err := sb.Client.GetBalance(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, before.Balances)
	assert.Contains(t, string(before.Raw.Body), `"data"`)
	myr := func(r *client.BalanceResult) client.Balance {
		for _, b := range r.Balances {
			if b.Currency == "MYR" {
				return b
			}
		}
		t.Fatalf("no MYR in %+v", r.Balances)
		return client.Balance{}
	}
	b0 := myr(before)
	assert.Equal(t, b0.Available+b0.Reserved, b0.Balance)
	assert.Positive(t, int64(b0.Available))

	_, err = sb.Client.WithdrawOrder(ctx, client.WithdrawalRequest{Amount: gateway.MustMoney("100"), Currency: "MYR",
		OrderID: "bal-1", BankID: "1", HolderName: "John Doe", AccountNo: "12332343432"})
	require.NoError(t, err)
	after, err := sb.Client.GetBalance(ctx)
	require.NoError(t, err)
	b1 := myr(after)
	assert.Equal(t, b0.Available-gateway.MustMoney("105"), b1.Available, "amount plus the payout fee reserved")
	assert.Equal(t, b0.Reserved+gateway.MustMoney("105"), b1.Reserved)
	assert.Equal(t, b0.Balance, b1.Balance)

	bad := client.New(sb.URL, client.WithCredentials(sb.Client.Username(), "wrong"))
	_, err = bad.GetBalance(ctx)
	assert.ErrorIs(t, err, client.ErrParamsIncorrect)
}

// TestClient_CurrencyBalance: get_balance with auth and currency, as a Laravel wallet
// calls it; withdraw_orders' answer carries the payout reference.
func TestClient_CurrencyBalance(t *testing.T) {
	sb := sandboxtest.New(t, sandboxtest.WithConfig(func(c *config.Config) { c.WithdrawalDelay = config.Duration(1 << 62) }))
	ctx := context.Background()
	r, err := sb.Client.CurrencyBalance(ctx, "", "MYR")
	require.NoError(t, err)
	assert.Equal(t, gateway.MustMoney("1000000"), r.Balance)
	assert.Equal(t, "MYR", r.Currency)
	assert.Contains(t, string(r.Raw.Body), `"balance":"1000000.0000"`)
	w, err := sb.Client.WithdrawOrder(ctx, client.WithdrawalRequest{Amount: gateway.MustMoney("100"), Currency: "MYR",
		OrderID: "cb-1", BankID: "1", HolderName: "John Doe", AccountNo: "12332343432"})
	require.NoError(t, err)
	assert.Regexp(t, `^W[0-9]+$`, w.WithdrawOrderID)
	r, err = sb.Client.CurrencyBalance(ctx, "", "MYR")
	require.NoError(t, err)
	assert.Equal(t, gateway.MustMoney("999895"), r.Balance, "available: amount and fee reserved")
	_, err = sb.Client.CurrencyBalance(ctx, "", "EUR")
	assert.ErrorIs(t, err, client.ErrCurrencyInvalid)
	_, err = sb.Client.CurrencyBalance(ctx, "nope", "MYR")
	assert.ErrorIs(t, err, client.ErrParamsIncorrect)
}
