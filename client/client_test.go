package client_test

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/client"
	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/sandboxtest"
)

func TestClient_EveryEndpointAgainstSandbox(t *testing.T) {
	sb := sandboxtest.New(t)
	c := sb.Client
	ctx := context.Background()

	cur, err := c.Currency(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, cur.Rates)
	assert.Equal(t, "MYR", cur.Rates[0].Currency)
	assert.Equal(t, http.StatusOK, cur.Raw.StatusCode)
	assert.Equal(t, "application/json", cur.Raw.ContentType())

	a, err := c.Auth(ctx)
	require.NoError(t, err)
	assert.Regexp(t, `^[A-Za-z0-9]{20}$`, a.Auth)

	dep := client.DepositRequest{Auth: a.Auth, Username: "john", Amount: gateway.MustMoney("100"), Currency: "MYR",
		OrderID: "Example_123", Email: "john@example.com", PhoneNumber: "601012456789", Mode: "DIGI", RedirectURL: "https://www.google.com"}
	g, err := c.GenerateOrder(ctx, dep)
	require.NoError(t, err)
	assert.Contains(t, g.PURL, "/checkout/order-pay/")
	assert.Contains(t, string(g.Raw.Body), `"p_url"`)

	_, err = c.GenerateOrder(ctx, dep)
	assert.ErrorIs(t, err, client.ErrOrderIDExist)

	thb := dep
	thb.Auth, thb.OrderID, thb.Currency, thb.Mode, thb.BankID = "", "thb-1", "THB", "", "999"
	_, err = c.GenerateOrder(ctx, thb)
	assert.ErrorIs(t, err, client.ErrBankIDInvalid)

	banks, err := c.BankList(ctx, "THB")
	require.NoError(t, err)
	require.NotEmpty(t, banks.Banks)
	thb.BankID = banks.Banks[0].ID
	_, err = c.GenerateOrder(ctx, thb)
	require.NoError(t, err)

	wbanks, err := c.WithdrawBankList(ctx, "MYR")
	require.NoError(t, err)
	assert.GreaterOrEqual(t, len(wbanks.Banks), 12)
	assert.Equal(t, "1", wbanks.Banks[0].ID)

	w, err := c.WithdrawOrder(ctx, client.WithdrawalRequest{Amount: gateway.MustMoney("100"), Currency: "MYR",
		OrderID: "Example_123", BankID: "12", BankBranch: "Kentucky", HolderName: "John Doe", AccountNo: "12332343432"})
	require.NoError(t, err)
	assert.Equal(t, "Success", w.Message)

	st, err := c.CheckStatus(ctx, "Example_123")
	require.NoError(t, err)
	assert.Equal(t, gateway.StatusPending, st.OrderStatus)
	assert.Equal(t, gateway.MustMoney("100"), st.Amount)
	assert.Equal(t, "MYR", st.Currency)
	_, err = time.Parse(gateway.DateTimeLayout, st.OrderDatetime)
	assert.NoError(t, err)

	ws, err := c.CheckWithdrawStatus(ctx, "Example_123")
	require.NoError(t, err)
	assert.Equal(t, gateway.MustMoney("100"), ws.Amount)

	_, err = c.CheckStatus(ctx, "nope")
	assert.ErrorIs(t, err, client.ErrOrderNotFound)
}

func TestClient_Sentinels(t *testing.T) {
	sb := sandboxtest.New(t)
	c := sb.Client
	ctx := context.Background()
	base := client.DepositRequest{Username: "john", Amount: gateway.MustMoney("100"), Currency: "MYR",
		OrderID: "s-1", Email: "john@example.com", PhoneNumber: "601012456789"}
	for _, tc := range []struct {
		name   string
		change func(*client.DepositRequest)
		want   error
		text   string
	}{
		{"ErrParamsMissing", func(r *client.DepositRequest) { r.PhoneNumber = "" }, client.ErrParamsMissing, "Params missing."},
		{"ErrParamsIncorrect", func(r *client.DepositRequest) { r.Auth = "bad" }, client.ErrParamsIncorrect, "Params incorrect."},
		{"ErrCurrencyInvalid", func(r *client.DepositRequest) { r.Currency = "XXX" }, client.ErrCurrencyInvalid, "Currency invalid."},
		{"ErrInvalidAmount", func(r *client.DepositRequest) { r.Amount = gateway.MustMoney("99999999") }, client.ErrInvalidAmount, "Invalid Amount."},
		{"ErrEmailIncorrect", func(r *client.DepositRequest) { r.Email = "john" }, client.ErrEmailIncorrect, "email incorrect."},
		{"ErrParamsIncorrectMode", func(r *client.DepositRequest) { r.Mode = "NOKIA" }, client.ErrParamsIncorrect, "Params incorrect."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := base
			tc.change(&r)
			_, err := c.GenerateOrder(ctx, r)
			require.ErrorIs(t, err, tc.want)
			var ae *client.APIError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, tc.text, ae.Message)
			assert.Equal(t, client.EndpointGenerateOrders, ae.Endpoint)
			assert.Contains(t, string(ae.Response.Body), tc.text)
			for _, other := range []error{client.ErrParamsMissing, client.ErrParamsIncorrect, client.ErrCurrencyInvalid,
				client.ErrInvalidAmount, client.ErrEmailIncorrect, client.ErrOrderIDExist} {
				if other != tc.want {
					assert.NotErrorIs(t, err, other)
				}
			}
		})
	}
	wd := client.WithdrawalRequest{Amount: -gateway.MustMoney("1"), Currency: "MYR", OrderID: "w", BankID: "1", HolderName: "A", AccountNo: "1"}
	_, err := c.WithdrawOrder(ctx, wd)
	assert.ErrorIs(t, err, client.ErrInvalidAmount, "Amount Invalid! is the same sentinel as Invalid Amount.")
	wd.Amount, wd.AccountNo = gateway.MustMoney("10"), "4000000004"
	_, err = c.WithdrawOrder(ctx, wd)
	assert.ErrorIs(t, err, client.ErrBalanceNotEnough)
}

// TestAPIError_Is covers every vendor text, including the spellings an endpoint
// other than the sandbox's might use.
func TestAPIError_Is(t *testing.T) {
	for text, want := range map[string]error{
		gateway.MsgParamsMissing: client.ErrParamsMissing, gateway.MsgParamsIncorrect: client.ErrParamsIncorrect,
		gateway.MsgParamsIncorrectDot: client.ErrParamsIncorrect, gateway.MsgCurrencyInvalid: client.ErrCurrencyInvalid,
		gateway.MsgInvalidAmount: client.ErrInvalidAmount, gateway.MsgAmountInvalid: client.ErrInvalidAmount,
		gateway.MsgEmailIncorrect: client.ErrEmailIncorrect, gateway.MsgBankIDInvalid: client.ErrBankIDInvalid,
		gateway.MsgOrderIDExist: client.ErrOrderIDExist, gateway.MsgOrderIDExistWithdrawal: client.ErrOrderIDExist,
		gateway.MsgBalanceNotEnough: client.ErrBalanceNotEnough, gateway.MsgOrderNotFound: client.ErrOrderNotFound,
		"params MISSING": client.ErrParamsMissing,
	} {
		err := error(&client.APIError{Message: text})
		assert.ErrorIs(t, err, want, text)
	}
	err := error(&client.APIError{Message: "Something new."})
	assert.NotErrorIs(t, err, client.ErrParamsMissing)
	assert.NotErrorIs(t, err, client.ErrUnexpectedResponse)
}

// fakeGateway answers every request with one canned answer and remembers the last
// request's content type and fields.
type fakeGateway struct {
	status      int
	contentType string
	body        string
	delay       time.Duration

	mu        sync.Mutex // requests may overlap: a timed-out one is still being served
	gotType   string
	gotFields url.Values
	gotPath   string
}

// last returns the last request's media type, path and fields.
func (f *fakeGateway) last() (string, string, url.Values) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.gotType, f.gotPath, f.gotFields
}

func (f *fakeGateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "multipart/form-data" {
		_ = r.ParseMultipartForm(1 << 20)
	} else {
		_ = r.ParseForm()
	}
	f.mu.Lock()
	f.gotType, f.gotPath, f.gotFields = mt, r.URL.Path, r.PostForm
	status, contentType, body, delay := f.status, f.contentType, f.body, f.delay
	f.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func TestClient_VendorQuirks(t *testing.T) {
	f := &fakeGateway{status: 200, contentType: "text/html; charset=UTF-8", body: "{\n    \"status\": true,\n    \"message\": \"Success\",\n}"}
	srv := httptest.NewServer(f)
	defer srv.Close()
	c := client.New(srv.URL+"/merchant/", client.WithCredentials("vpay88-test", "key"))
	ctx := context.Background()

	w, err := c.WithdrawOrder(ctx, client.WithdrawalRequest{Auth: "tok", Amount: gateway.MustMoney("25.5"), Currency: "MYR",
		OrderID: "o", BankID: "1", HolderName: "A", AccountNo: "1"})
	require.NoError(t, err, "trailing comma and text/html are tolerated")
	assert.Equal(t, "Success", w.Message)
	mt, path, fields := f.last()
	assert.Equal(t, "/merchant/withdraw_orders", path, "a base URL ending in /merchant is the host")
	assert.Equal(t, "multipart/form-data", mt, "as the vendor's PHP sends")
	assert.Equal(t, "25.5", fields.Get("amount"))
	assert.Empty(t, fields.Get("bank_branch"), "optional fields are left out when empty")

	_, err = c.WithdrawBankList(ctx, "")
	require.NoError(t, err)
	_, path, fields = f.last()
	assert.Equal(t, "/wallet/withdraw_bank_list", path)
	assert.Equal(t, url.Values{"username": {"vpay88-test"}}, fields)

	ue := client.New(srv.URL, client.WithURLEncodedForms())
	_, _ = ue.Do(ctx, client.EndpointAuth, url.Values{"username": {"u"}})
	mt, _, fields = f.last()
	assert.Equal(t, "application/x-www-form-urlencoded", mt)
	assert.Equal(t, "u", fields.Get("username"))
}

func TestClient_UnexpectedResponses(t *testing.T) {
	f := &fakeGateway{status: 502, contentType: "text/html", body: "<h1>Bad Gateway</h1>"}
	srv := httptest.NewServer(f)
	defer srv.Close()
	c := client.New(srv.URL)
	ctx := context.Background()
	for _, tc := range []struct {
		status int
		body   string
	}{{502, "<h1>Bad Gateway</h1>"}, {200, "<html>maintenance</html>"}, {200, `{"auth":"x"}`}, {200, `[]`}} {
		f.mu.Lock()
		f.status, f.body = tc.status, tc.body
		f.mu.Unlock()
		_, err := c.Auth(ctx)
		require.ErrorIs(t, err, client.ErrUnexpectedResponse, tc.body)
		var re *client.ResponseError
		require.ErrorAs(t, err, &re)
		assert.Equal(t, tc.status, re.Response.StatusCode)
		assert.Equal(t, tc.body, string(re.Response.Body))
	}
	_, err := c.Do(ctx, client.Endpoint("nope"), nil)
	assert.Error(t, err)
}

func TestClient_TimeoutAndContext(t *testing.T) {
	f := &fakeGateway{status: 200, contentType: "application/json", body: `{"status":true,"auth":"x"}`, delay: 2 * time.Second}
	srv := httptest.NewServer(f)
	defer srv.Close()

	start := time.Now()
	_, err := client.New(srv.URL, client.WithTimeout(50*time.Millisecond)).Auth(context.Background())
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.DeadlineExceeded), "%v", err)
	assert.Less(t, time.Since(start), time.Second)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = client.New(srv.URL).Currency(ctx)
	assert.ErrorIs(t, err, context.Canceled)

	hc := &http.Client{Timeout: 50 * time.Millisecond}
	_, err = client.New(srv.URL, client.WithHTTPClient(hc)).Auth(context.Background())
	assert.Error(t, err, "the given client's own timeout applies")
}

func TestParseEndpoint(t *testing.T) {
	for _, e := range client.Endpoints() {
		got, ok := client.ParseEndpoint(string(e))
		assert.True(t, ok)
		assert.Equal(t, e, got)
		got, ok = client.ParseEndpoint(e.Path())
		assert.True(t, ok)
		assert.Equal(t, e, got)
	}
	e, ok := client.ParseEndpoint("wallet/bank_list")
	assert.True(t, ok)
	assert.Equal(t, client.EndpointBankList, e)
	_, ok = client.ParseEndpoint("refund")
	assert.False(t, ok)
	assert.Len(t, client.Endpoints(), 9, "the document's eight and get_balance")
}

func TestFormatAmount(t *testing.T) {
	for in, want := range map[string]string{"100": "100", "25.5": "25.5", "0.0001": "0.0001", "300.0000": "300", "10.10": "10.1"} {
		assert.Equal(t, want, client.FormatAmount(gateway.MustMoney(in)), in)
	}
	assert.True(t, strings.HasPrefix(client.FormatAmount(-gateway.MustMoney("1.5")), "-"))
}

// TestClient_DoPath: any path is posted as given under the base URL, as the vendor's
// PHP would post it; a path that is an endpoint's is reported as that endpoint.
func TestClient_DoPath(t *testing.T) {
	f := &fakeGateway{status: 404, contentType: "text/html", body: "<h1>Not Found</h1>"}
	srv := httptest.NewServer(f)
	defer srv.Close()
	c := client.New(srv.URL + "/merchant")
	ctx := context.Background()
	for path, want := range map[string]string{"/merchant/refund": "/merchant/refund", "wallet/x": "/wallet/x"} {
		resp, err := c.DoPath(ctx, path, url.Values{"username": {"u"}})
		require.NoError(t, err, "an answer of any status is not an error")
		assert.Equal(t, 404, resp.StatusCode)
		assert.Empty(t, resp.Endpoint)
		mt, got, fields := f.last()
		assert.Equal(t, want, got)
		assert.Equal(t, "multipart/form-data", mt)
		assert.Equal(t, "u", fields.Get("username"))
	}
	resp, err := c.DoPath(ctx, "merchant/auth", nil)
	require.NoError(t, err)
	assert.Equal(t, client.EndpointAuth, resp.Endpoint)
}
