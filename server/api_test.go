package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/clock"
	"github.com/vpay88/vpay88-sandbox/config"
	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/internal/inproc"
	"github.com/vpay88/vpay88-sandbox/store"
)

// The eight vendor endpoints (SPEC §1 table). Note /wallet for the bank lists.
const (
	pathCurrency            = "/merchant/currency"
	pathAuth                = "/merchant/auth"
	pathGenerateOrders      = "/merchant/generate_orders"
	pathWithdrawOrders      = "/merchant/withdraw_orders"
	pathWithdrawBankList    = "/wallet/withdraw_bank_list"
	pathBankList            = "/wallet/bank_list"
	pathCheckStatus         = "/merchant/check_status"
	pathCheckWithdrawStatus = "/merchant/check_withdraw_status"
)

// A second merchant for the tests that need one: MYR only, a small balance.
const (
	acmeMerchant = "acme"
	acmeAPIKey   = "acme-api-key"
)

// testClock is the sandbox's clock in tests that move time: real time plus an offset
// the test moves forward (Advance), so tokens expire without sleeping.
type testClock = clock.Clock

func newTestClock() *testClock { return clock.Real() }

// mustOpenEnvClock is MustOpenEnv on a given clock, set before the server starts (the
// scheduler and the dispatcher read it from the first moment).
func mustOpenEnvClock(tb testing.TB, clock *testClock, changes ...func(*config.Config)) *testEnv {
	tb.Helper()
	return openEnv(tb, inproc.Options{Clock: clock, Changes: changes})
}

// withAcme adds a second merchant with MYR only (limits 10 to 1000, balance 500).
func withAcme(c *config.Config) {
	c.Merchants = append(c.Merchants, config.MerchantConfig{
		Username: acmeMerchant, APIKey: acmeAPIKey, SecretKey: "acme-secret",
		Currencies: []gateway.Currency{{Code: "MYR", Min: gateway.MustMoney("10"), Max: gateway.MustMoney("1000"),
			DepositChargePercent: gateway.MustMoney("3"), PayoutFee: gateway.MustMoney("5"), StartBalance: gateway.MustMoney("500")}},
	})
}

// withStartBalance sets the default merchant's opening balance and payout fee in one
// currency.
func withStartBalance(currency, balance, fee string) func(*config.Config) {
	return func(c *config.Config) {
		for i := range c.Merchants[0].Currencies {
			cur := &c.Merchants[0].Currencies[i]
			if cur.Code == currency {
				cur.StartBalance, cur.PayoutFee = gateway.MustMoney(balance), gateway.MustMoney(fee)
			}
		}
	}
}

// holdWithdrawals keeps accepted withdrawals pending (no default completion within a
// test's life), so balances stay where the test put them.
func holdWithdrawals(c *config.Config) { c.WithdrawalDelay = config.Duration(time.Hour) }

// rawPost sends a body with a content type and returns the response (body read) and
// the body.
func rawPost(tb testing.TB, e *testEnv, path, contentType string, body io.Reader) (*http.Response, []byte) {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPost, e.URL+path, body)
	require.NoError(tb, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(tb, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(tb, err)
	return resp, b
}

// callRaw posts multipart fields and returns the raw body, requiring HTTP 200 and a
// JSON content type (the vendor answers errors with 200 too).
func callRaw(tb testing.TB, e *testEnv, path string, fields map[string]string) string {
	tb.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		require.NoError(tb, w.WriteField(k, v))
	}
	require.NoError(tb, w.Close())
	resp, b := rawPost(tb, e, path, w.FormDataContentType(), &buf)
	require.Equal(tb, http.StatusOK, resp.StatusCode, "body: %s", b)
	require.Equal(tb, "application/json", resp.Header.Get("Content-Type"))
	require.True(tb, json.Valid(b), "not JSON: %s", b)
	return string(b)
}

// refusal is the vendor's error body for msg, byte for byte.
func refusal(msg string) string {
	b, _ := json.Marshal(msg)
	return `{"status":false,"message":` + string(b) + `}`
}

// authFor gets a token for any merchant.
func authFor(tb testing.TB, e *testEnv, username, apiKey string) string {
	tb.Helper()
	m := e.Call(tb, pathAuth, map[string]string{"username": username, "api_key": apiKey})
	require.Equal(tb, true, m["status"], "auth: %v", m)
	return m["auth"].(string)
}

// mustBalance returns a merchant's balance in one currency from the store.
func mustBalance(tb testing.TB, e *testEnv, merchant, currency string) store.Balance {
	tb.Helper()
	bals, err := e.Store.Balances(merchant)
	require.NoError(tb, err)
	for _, b := range bals {
		if b.Currency == currency {
			return b
		}
	}
	tb.Fatalf("no %s balance for %s", currency, merchant)
	return store.Balance{}
}

// assertLedgerConsistent checks SPEC §1 "the ledger always balances": for every
// merchant and currency, the ledger's changes sum to the stored balance, and nothing is
// negative.
func assertLedgerConsistent(tb testing.TB, e *testEnv) {
	tb.Helper()
	entries, err := e.Store.Ledger("")
	require.NoError(tb, err)
	type acct struct{ merchant, currency string }
	sumAvail, sumRes := map[acct]gateway.Money{}, map[acct]gateway.Money{}
	for _, le := range entries {
		k := acct{le.Merchant, le.Currency}
		sumAvail[k] += le.Available
		sumRes[k] += le.Reserved
	}
	bals, err := e.Store.Balances("")
	require.NoError(tb, err)
	require.NotEmpty(tb, bals)
	for _, b := range bals {
		k := acct{b.Merchant, b.Currency}
		assert.Equal(tb, b.Available, sumAvail[k], "%s %s: available %s, ledger sums to %s", b.Merchant, b.Currency, b.Available, sumAvail[k])
		assert.Equal(tb, b.Reserved, sumRes[k], "%s %s: reserved %s, ledger sums to %s", b.Merchant, b.Currency, b.Reserved, sumRes[k])
		assert.GreaterOrEqual(tb, int64(b.Available), int64(0), "%s %s available is negative", b.Merchant, b.Currency)
		assert.GreaterOrEqual(tb, int64(b.Reserved), int64(0), "%s %s reserved is negative", b.Merchant, b.Currency)
	}
}

// everyEndpoint lists each vendor endpoint with a request that succeeds on a fresh
// sandbox after setup (which creates the orders the status checks look up).
func everyEndpoint(tb testing.TB, e *testEnv) []struct {
	path   string
	fields map[string]string
} {
	tb.Helper()
	tok := e.Auth(tb)
	require.Equal(tb, true, e.Deposit(tb, "every-1", nil)["status"])
	require.Equal(tb, true, e.Withdraw(tb, "every-1", nil)["status"])
	return []struct {
		path   string
		fields map[string]string
	}{
		{pathCurrency, map[string]string{"username": testMerchant}},
		{pathAuth, map[string]string{"username": testMerchant, "api_key": testAPIKey}},
		{pathGenerateOrders, map[string]string{"username": "john", "auth": tok, "amount": "100", "currency": "MYR",
			"orderid": "every-2", "email": "john@example.com", "phone_number": "601012456789"}},
		{pathWithdrawOrders, map[string]string{"auth": tok, "amount": "100", "currency": "MYR", "orderid": "every-2",
			"bank_id": "12", "holder_name": "John Doe", "account_no": "12332343432"}},
		{pathWithdrawBankList, map[string]string{"username": testMerchant, "currency": "MYR"}},
		{pathBankList, map[string]string{"username": testMerchant, "currency": "THB"}},
		{pathCheckStatus, map[string]string{"username": testMerchant, "id": "every-1"}},
		{pathCheckWithdrawStatus, map[string]string{"username": testMerchant, "id": "every-1"}},
	}
}

func TestCurrency(t *testing.T) {
	e := MustOpenEnv(t, withAcme)

	t.Run("OK", func(t *testing.T) {
		// Every enabled currency with its limits, amounts as JSON numbers with four
		// decimals, keys in the vendor's order.
		want := `{"status":true,"rate":[` +
			`{"currency":"MYR","min":1.0000,"max":50000.0000},` +
			`{"currency":"SGD","min":1.0000,"max":15000.0000},` +
			`{"currency":"VND","min":1.0000,"max":500000000.0000},` +
			`{"currency":"THB","min":1.0000,"max":500000.0000},` +
			`{"currency":"IDR","min":1.0000,"max":200000000.0000}]}`
		assert.Equal(t, want, callRaw(t, e, pathCurrency, map[string]string{"username": testMerchant}))
	})
	t.Run("OKAlias", func(t *testing.T) {
		m := e.Call(t, pathCurrency, map[string]string{"username": "vpay88_test"})
		assert.Equal(t, true, m["status"])
		assert.Len(t, m["rate"], 5)
	})
	t.Run("OKOtherMerchant", func(t *testing.T) {
		assert.Equal(t, `{"status":true,"rate":[{"currency":"MYR","min":10.0000,"max":1000.0000}]}`,
			callRaw(t, e, pathCurrency, map[string]string{"username": acmeMerchant}))
	})
	t.Run("OKURLEncoded", func(t *testing.T) {
		code, b := e.PostForm(t, pathCurrency, map[string]string{"username": testMerchant, "unknown_extra": "ignored"})
		require.Equal(t, http.StatusOK, code)
		assert.True(t, strings.HasPrefix(string(b), `{"status":true,"rate":[{"currency":"MYR","min":1.0000,`), "%s", b)
	})
	t.Run("ErrParamsMissing", func(t *testing.T) {
		assert.Equal(t, refusal(gateway.MsgParamsMissing), callRaw(t, e, pathCurrency, map[string]string{}))
		assert.Equal(t, refusal(gateway.MsgParamsMissing), callRaw(t, e, pathCurrency, map[string]string{"username": ""}))
		assert.Equal(t, refusal(gateway.MsgParamsMissing), callRaw(t, e, pathCurrency, map[string]string{"user": testMerchant}))
	})
	t.Run("ErrParamsIncorrect", func(t *testing.T) {
		assert.Equal(t, refusal(gateway.MsgParamsIncorrect), callRaw(t, e, pathCurrency, map[string]string{"username": "nobody"}))
		// Usernames are exact: no case folding, no trimming.
		assert.Equal(t, refusal(gateway.MsgParamsIncorrect), callRaw(t, e, pathCurrency, map[string]string{"username": "VPAY88-TEST"}))
		assert.Equal(t, refusal(gateway.MsgParamsIncorrect), callRaw(t, e, pathCurrency, map[string]string{"username": " vpay88-test"}))
	})
}

func TestAuth(t *testing.T) {
	e := MustOpenEnv(t, withAcme)
	// The vendor's {"status":true,"auth":…}, plus the order_id live answers carry
	// (docs/fidelity.md, observed): a fresh 16-character id per call.
	tokenBody := regexp.MustCompile(`^\{"status":true,"auth":"([A-Za-z0-9]{20})","order_id":"[A-Za-z0-9]{16}"\}$`)

	t.Run("OK", func(t *testing.T) {
		seen := map[string]bool{}
		for i := 0; i < 5; i++ {
			body := callRaw(t, e, pathAuth, map[string]string{"username": testMerchant, "api_key": testAPIKey})
			m := tokenBody.FindStringSubmatch(body)
			require.NotNil(t, m, "body %s", body)
			assert.False(t, seen[m[1]], "each call issues a new token (SPEC §1)")
			seen[m[1]] = true
		}
	})
	t.Run("OKOtherMerchant", func(t *testing.T) {
		tok := authFor(t, e, acmeMerchant, acmeAPIKey)
		assert.Regexp(t, `^[A-Za-z0-9]{20}$`, tok)
	})
	t.Run("OKURLEncoded", func(t *testing.T) {
		code, b := e.PostForm(t, pathAuth, map[string]string{"username": testMerchant, "api_key": testAPIKey})
		require.Equal(t, http.StatusOK, code)
		assert.Regexp(t, tokenBody, string(b))
	})
	t.Run("ErrParamsMissing", func(t *testing.T) {
		for name, f := range map[string]map[string]string{
			"none":          {},
			"no api_key":    {"username": testMerchant},
			"no username":   {"api_key": testAPIKey},
			"empty api_key": {"username": testMerchant, "api_key": ""},
			// A missing field is reported before a wrong one.
			"bad username, no key": {"username": "nobody"},
		} {
			assert.Equal(t, refusal(gateway.MsgParamsMissing), callRaw(t, e, pathAuth, f), name)
		}
	})
	t.Run("ErrParamsIncorrect", func(t *testing.T) {
		// No period on auth's message, unlike generate_orders' (vendor document).
		for name, f := range map[string]map[string]string{
			"wrong key":            {"username": testMerchant, "api_key": "EPSOWM0eewwrwer0OfUx"},
			"unknown user":         {"username": "nobody", "api_key": testAPIKey},
			"other merchant's key": {"username": testMerchant, "api_key": acmeAPIKey},
			"key case":             {"username": testMerchant, "api_key": strings.ToLower(testAPIKey)},
		} {
			assert.Equal(t, refusal(gateway.MsgParamsIncorrect), callRaw(t, e, pathAuth, f), name)
		}
	})
}

// depositFields is a generate_orders request that succeeds, for tests to spoil.
func depositFields(tok, orderID string) map[string]string {
	return map[string]string{"username": "john", "auth": tok, "amount": "100", "currency": "MYR", "orderid": orderID,
		"email": "john@example.com", "phone_number": "601012456789"}
}

// withdrawFields is a withdraw_orders request that succeeds, for tests to spoil.
func withdrawFields(tok, orderID string) map[string]string {
	return map[string]string{"auth": tok, "amount": "100", "currency": "MYR", "orderid": orderID, "bank_id": "12",
		"bank_branch": "Kentucky", "holder_name": "John Doe", "account_no": "12332343432"}
}

func merge(base map[string]string, changes map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range changes {
		out[k] = v
	}
	return out
}

func without(base map[string]string, keys ...string) map[string]string {
	out := merge(base, nil)
	for _, k := range keys {
		delete(out, k)
	}
	return out
}

// pURLPattern is the vendor's p_url shape,
// https://xxxxx.com/checkout/order-pay/92/?pay_for_order=true&key=1234, on the sandbox.
func pURLPattern(base string) *regexp.Regexp {
	return regexp.MustCompile(`^` + regexp.QuoteMeta(base) + `/checkout/order-pay/([0-9]+)/\?pay_for_order=true&key=([A-Za-z0-9]+)$`)
}

func TestGenerateOrders(t *testing.T) {
	e := MustOpenEnv(t, withAcme)
	tok := e.Auth(t)
	okBody := regexp.MustCompile(`^\{"status":true,"p_url":"([^"]+)"\}$`)
	pURL := pURLPattern(e.URL)

	t.Run("OK", func(t *testing.T) {
		body := callRaw(t, e, pathGenerateOrders, depositFields(tok, "gen-ok"))
		m := okBody.FindStringSubmatch(body)
		require.NotNil(t, m, "body %s", body)
		// "&key=" is written as is, not as \u0026, as the vendor prints it.
		assert.Contains(t, body, "&key=")
		pm := pURL.FindStringSubmatch(m[1])
		require.NotNil(t, pm, "p_url %s", m[1])

		o, err := e.Store.Order(gateway.KindDeposit, testMerchant, "gen-ok")
		require.NoError(t, err)
		assert.Equal(t, strconv.FormatUint(o.Number, 10), pm[1])
		assert.Equal(t, o.Key, pm[2])
		assert.Equal(t, gateway.StatusPending, o.Status, "a deposit waits for its customer (SPEC §2)")
		assert.Equal(t, gateway.MustMoney("100"), o.Amount)
		assert.Equal(t, "john", o.Customer)
		assert.Equal(t, "john@example.com", o.Email)
		assert.Equal(t, "601012456789", o.Phone)
		assert.Equal(t, "MYR", o.Currency)

		// The page behind p_url answers; a wrong key is a 404 page.
		resp, err := http.Get(m[1])
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		resp, err = http.Get(strings.Replace(m[1], "key="+pm[2], "key=wrong", 1))
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	})

	t.Run("OKNumbersGrow", func(t *testing.T) {
		var last uint64
		for i := 0; i < 3; i++ {
			m := e.Call(t, pathGenerateOrders, depositFields(tok, fmt.Sprintf("gen-num-%d", i)))
			require.Equal(t, true, m["status"], "%v", m)
			pm := pURL.FindStringSubmatch(m["p_url"].(string))
			require.NotNil(t, pm)
			n, _ := strconv.ParseUint(pm[1], 10, 64)
			assert.Greater(t, n, last)
			last = n
		}
	})

	t.Run("OKCurrencies", func(t *testing.T) {
		cases := []struct {
			name   string
			fields map[string]string
			check  func(t *testing.T, o *gateway.Order)
		}{
			{"MYR", map[string]string{"currency": "MYR"}, nil},
			{"MYRModeDIGI", map[string]string{"currency": "MYR", "mode": "DIGI", "redirect_url": "https://www.google.com"},
				func(t *testing.T, o *gateway.Order) {
					assert.Equal(t, "DIGI", o.Mode)
					assert.Equal(t, "https://www.google.com", o.RedirectURL)
				}},
			{"MYRModeMAXIS", map[string]string{"currency": "MYR", "mode": "MAXIS"},
				func(t *testing.T, o *gateway.Order) { assert.Equal(t, "MAXIS", o.Mode) }},
			{"MYRModeCELCOM", map[string]string{"currency": "MYR", "mode": "CELCOM"},
				func(t *testing.T, o *gateway.Order) { assert.Equal(t, "CELCOM", o.Mode) }},
			{"MYRRedirectOnly", map[string]string{"currency": "MYR", "redirect_url": "https://shop.example/done"},
				func(t *testing.T, o *gateway.Order) {
					assert.Empty(t, o.Mode)
					assert.Equal(t, "https://shop.example/done", o.RedirectURL)
				}},
			{"SGD", map[string]string{"currency": "SGD", "amount": "25"}, nil},
			{"VND", map[string]string{"currency": "VND", "amount": "300"}, nil},
			// mode and redirect_url belong to MYR only: elsewhere they are unknown fields,
			// ignored like any other.
			{"VNDIgnoresMode", map[string]string{"currency": "VND", "mode": "NOKIA", "redirect_url": "https://x.example"},
				func(t *testing.T, o *gateway.Order) {
					assert.Empty(t, o.Mode)
					assert.Empty(t, o.RedirectURL)
				}},
			{"THB", map[string]string{"currency": "THB", "bank_id": "1"},
				func(t *testing.T, o *gateway.Order) {
					assert.Equal(t, "1", o.BankID)
					assert.Equal(t, "Siam Commercial Bank", o.BankName)
				}},
			{"IDR", map[string]string{"currency": "IDR", "bank_id": "12", "amount": "1"},
				func(t *testing.T, o *gateway.Order) {
					assert.Equal(t, "12", o.BankID)
					assert.Equal(t, "Bank Syariah Indonesia", o.BankName)
				}},
			{"AmountWithDecimals", map[string]string{"amount": "25.5"},
				func(t *testing.T, o *gateway.Order) { assert.Equal(t, gateway.MustMoney("25.5"), o.Amount) }},
			{"AmountAtMin", map[string]string{"amount": "1"}, nil},
			{"AmountAtMax", map[string]string{"amount": "50000.0000"}, nil},
			{"ExtraFieldsIgnored", map[string]string{"foo": "bar", "bank_id": "999"}, nil},
		}
		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				id := fmt.Sprintf("gen-cur-%d", i)
				body := callRaw(t, e, pathGenerateOrders, merge(depositFields(tok, id), tc.fields))
				m := okBody.FindStringSubmatch(body)
				require.NotNil(t, m, "body %s", body)
				assert.Regexp(t, pURL, m[1])
				o, err := e.Store.Order(gateway.KindDeposit, testMerchant, id)
				require.NoError(t, err)
				if c := tc.fields["currency"]; c != "" {
					assert.Equal(t, c, o.Currency)
				}
				if tc.check != nil {
					tc.check(t, o)
				}
			})
		}
	})

	t.Run("OKURLEncoded", func(t *testing.T) {
		code, b := e.PostForm(t, pathGenerateOrders, depositFields(tok, "gen-urlenc"))
		require.Equal(t, http.StatusOK, code)
		assert.Regexp(t, okBody, string(b))
	})

	t.Run("OKOtherMerchantSameOrderID", func(t *testing.T) {
		// Order ids are unique per merchant: acme may reuse the default merchant's id.
		m := e.Call(t, pathGenerateOrders, merge(depositFields(authFor(t, e, acmeMerchant, acmeAPIKey), "gen-ok"), map[string]string{"amount": "10"}))
		assert.Equal(t, true, m["status"], "%v", m)
		o, err := e.Store.Order(gateway.KindDeposit, acmeMerchant, "gen-ok")
		require.NoError(t, err)
		assert.Equal(t, acmeMerchant, o.Merchant)
	})

	t.Run("OKDepositAndWithdrawalShareNoNamespace", func(t *testing.T) {
		require.Equal(t, true, e.Call(t, pathWithdrawOrders, withdrawFields(tok, "gen-shared"))["status"])
		assert.Equal(t, true, e.Call(t, pathGenerateOrders, depositFields(tok, "gen-shared"))["status"])
	})

	// The SPEC's order of checks, shown by a ladder: each step's request also breaks
	// every later check, so only the check that comes first can answer it.
	require.Equal(t, true, e.Call(t, pathGenerateOrders, depositFields(tok, "gen-taken"))["status"])
	ladder := []struct {
		name string
		fix  map[string]string // applied on top of the previous steps
		want string
	}{
		{"ErrParamsMissing", nil, gateway.MsgParamsMissing},
		{"ErrParamsIncorrect", map[string]string{"phone_number": "601012456789"}, gateway.MsgParamsIncorrectDot},
		{"ErrCurrencyInvalid", map[string]string{"auth": tok}, gateway.MsgCurrencyInvalid},
		{"ErrInvalidAmount", map[string]string{"currency": "MYR"}, gateway.MsgInvalidAmount},
		{"ErrEmailIncorrect", map[string]string{"amount": "100"}, gateway.MsgEmailIncorrect},
		{"ErrParamsIncorrectMode", map[string]string{"email": "john@example.com"}, gateway.MsgParamsIncorrectDot},
		{"ErrOrderIDExist", map[string]string{"mode": "DIGI"}, gateway.MsgOrderIDExist},
	}
	t.Run("CheckOrder", func(t *testing.T) {
		f := map[string]string{"username": "john", "auth": "not-a-token", "amount": "1e3", "currency": "USD",
			"orderid": "gen-taken", "email": "john.example.com", "mode": "NOKIA"} // phone_number missing
		for _, step := range ladder {
			f = merge(f, step.fix)
			assert.Equal(t, refusal(step.want), callRaw(t, e, pathGenerateOrders, f), step.name)
		}
		f["orderid"] = "gen-ladder-ok"
		assert.Regexp(t, okBody, callRaw(t, e, pathGenerateOrders, f))
	})
	t.Run("CheckOrderBank", func(t *testing.T) {
		// THB and IDR: a bank_id unknown to the currency's list comes after the email
		// check and before the duplicate id.
		for _, cur := range []string{"THB", "IDR"} {
			f := merge(depositFields(tok, "gen-taken"), map[string]string{"currency": cur, "email": "bad", "bank_id": "13"})
			assert.Equal(t, refusal(gateway.MsgEmailIncorrect), callRaw(t, e, pathGenerateOrders, f), cur)
			f["email"] = "john@example.com"
			assert.Equal(t, refusal(gateway.MsgBankIDInvalid), callRaw(t, e, pathGenerateOrders, f), cur)
			f["bank_id"] = "1"
			assert.Equal(t, refusal(gateway.MsgOrderIDExist), callRaw(t, e, pathGenerateOrders, f), cur)
		}
	})

	t.Run("ErrParamsMissing", func(t *testing.T) {
		base := depositFields("not-a-token", "gen-missing") // a bad token too: missing comes first
		for _, k := range []string{"username", "auth", "amount", "currency", "orderid", "email", "phone_number"} {
			assert.Equal(t, refusal(gateway.MsgParamsMissing), callRaw(t, e, pathGenerateOrders, without(base, k)), "without %s", k)
			assert.Equal(t, refusal(gateway.MsgParamsMissing), callRaw(t, e, pathGenerateOrders, merge(base, map[string]string{k: ""})), "empty %s", k)
		}
		// THB and IDR need bank_id; MYR, SGD and VND do not.
		for _, cur := range []string{"THB", "IDR"} {
			f := merge(depositFields(tok, "gen-missing-bank"), map[string]string{"currency": cur})
			assert.Equal(t, refusal(gateway.MsgParamsMissing), callRaw(t, e, pathGenerateOrders, f), cur)
			f["bank_id"] = ""
			assert.Equal(t, refusal(gateway.MsgParamsMissing), callRaw(t, e, pathGenerateOrders, f), cur)
		}
	})
	t.Run("ErrParamsIncorrect", func(t *testing.T) {
		for name, a := range map[string]string{"unknown": "t5IF5r2fXit1FnhjBVQv", "alias": "vpay88_test", "api key": testAPIKey,
			"token case": strings.ToLower(tok), "token prefix": tok[:19]} {
			if a == tok {
				continue // lower-casing left it unchanged (all digits): not a wrong token
			}
			f := merge(depositFields(a, "gen-badauth"), nil)
			assert.Equal(t, refusal(gateway.MsgParamsIncorrectDot), callRaw(t, e, pathGenerateOrders, f), name)
		}
	})
	t.Run("ErrCurrencyInvalid", func(t *testing.T) {
		for _, cur := range []string{"USD", "myr", "MYR ", "RM"} {
			f := merge(depositFields(tok, "gen-badcur"), map[string]string{"currency": cur})
			assert.Equal(t, refusal(gateway.MsgCurrencyInvalid), callRaw(t, e, pathGenerateOrders, f), cur)
		}
		// A currency the gateway knows but this merchant has not enabled.
		f := merge(depositFields(authFor(t, e, acmeMerchant, acmeAPIKey), "gen-acme-sgd"), map[string]string{"currency": "SGD"})
		assert.Equal(t, refusal(gateway.MsgCurrencyInvalid), callRaw(t, e, pathGenerateOrders, f))
	})
	t.Run("ErrInvalidAmount", func(t *testing.T) {
		for _, a := range []string{"0", "0.0000", "-1", "+1", "1e3", "abc", "1.23456", "1,000", " 100", "100 ", "1.", ".5",
			"0.5", "50000.0001", "50001", "99999999999999999999"} {
			f := merge(depositFields(tok, "gen-badamount"), map[string]string{"amount": a})
			assert.Equal(t, refusal(gateway.MsgInvalidAmount), callRaw(t, e, pathGenerateOrders, f), "amount %q", a)
		}
		// Limits are per currency and per merchant: acme's MYR minimum is 10.
		f := merge(depositFields(authFor(t, e, acmeMerchant, acmeAPIKey), "gen-acme-small"), map[string]string{"amount": "9.9999"})
		assert.Equal(t, refusal(gateway.MsgInvalidAmount), callRaw(t, e, pathGenerateOrders, f))
	})
	t.Run("ErrEmailIncorrect", func(t *testing.T) {
		for _, em := range []string{"john", "john@", "@example.com", "john@example", "john doe@example.com", "John <john@example.com>",
			"[email protected]", "[email\u00a0protected]"} {
			f := merge(depositFields(tok, "gen-bademail"), map[string]string{"email": em})
			assert.Equal(t, refusal(gateway.MsgEmailIncorrect), callRaw(t, e, pathGenerateOrders, f), "email %q", em)
		}
	})
	t.Run("ErrParamsIncorrectMode", func(t *testing.T) {
		for _, mode := range []string{"digi", "NOKIA", "DIGI ", "UMOBILE"} {
			f := merge(depositFields(tok, "gen-badmode"), map[string]string{"mode": mode})
			assert.Equal(t, refusal(gateway.MsgParamsIncorrectDot), callRaw(t, e, pathGenerateOrders, f), "mode %q", mode)
		}
	})
	t.Run("ErrBankIDInvalid", func(t *testing.T) {
		for _, id := range []string{"0", "13", "01", "abc", "-1", " 1"} {
			for _, cur := range []string{"THB", "IDR"} {
				f := merge(depositFields(tok, "gen-badbank"), map[string]string{"currency": cur, "bank_id": id})
				assert.Equal(t, refusal(gateway.MsgBankIDInvalid), callRaw(t, e, pathGenerateOrders, f), "%s bank_id %q", cur, id)
			}
		}
	})
	t.Run("ErrOrderIDExist", func(t *testing.T) {
		// Whatever else differs, the id was used: amount, currency, customer.
		for _, change := range []map[string]string{nil, {"amount": "25"}, {"currency": "VND"}, {"username": "jane"}} {
			f := merge(depositFields(tok, "gen-taken"), change)
			assert.Equal(t, refusal(gateway.MsgOrderIDExist), callRaw(t, e, pathGenerateOrders, f), "%v", change)
		}
		// The refusal changed nothing.
		o, err := e.Store.Order(gateway.KindDeposit, testMerchant, "gen-taken")
		require.NoError(t, err)
		assert.Equal(t, gateway.MustMoney("100"), o.Amount)
		assert.Equal(t, "MYR", o.Currency)
	})
	t.Run("RefusedOrdersAreNotStored", func(t *testing.T) {
		for _, id := range []string{"gen-missing", "gen-badauth", "gen-badcur", "gen-badamount", "gen-bademail", "gen-badmode", "gen-badbank", "gen-acme-sgd"} {
			_, err := e.Store.Order(gateway.KindDeposit, testMerchant, id)
			assert.ErrorIs(t, err, store.ErrNotFound, id)
		}
	})
}

func TestWithdrawOrders(t *testing.T) {
	// A small MYR balance, so that "Balance not enough!" is reachable within the limits.
	e := MustOpenEnv(t, withAcme, withStartBalance("MYR", "1000", "5"), holdWithdrawals)
	tok := e.Auth(t)
	// The vendor's acceptance, with the gateway's payout reference (withdraw_order_id,
	// docs/fidelity.md, family: an addition in both profiles).
	success := `^\{"status":true,"message":"Success","withdraw_order_id":"W[0-9]+"\}$`

	t.Run("OK", func(t *testing.T) {
		before := mustBalance(t, e, testMerchant, "MYR")
		assert.Regexp(t, success, callRaw(t, e, pathWithdrawOrders, withdrawFields(tok, "wd-ok")))
		o, err := e.Store.Order(gateway.KindWithdrawal, testMerchant, "wd-ok")
		require.NoError(t, err)
		assert.Equal(t, gateway.StatusPending, o.Status)
		assert.Equal(t, gateway.MustMoney("100"), o.Amount)
		assert.Equal(t, "12", o.BankID)
		assert.Equal(t, "United Overseas Bank (Malaysia) Bhd", o.BankName)
		assert.Equal(t, "Kentucky", o.BankBranch)
		assert.Equal(t, "John Doe", o.HolderName)
		assert.Equal(t, "12332343432", o.AccountNo)
		assert.Equal(t, gateway.MustMoney("105"), o.Reserved, "amount plus the payout fee is held back")
		after := mustBalance(t, e, testMerchant, "MYR")
		assert.Equal(t, before.Available-gateway.MustMoney("105"), after.Available)
		assert.Equal(t, before.Reserved+gateway.MustMoney("105"), after.Reserved)
	})
	t.Run("OKWithoutBranch", func(t *testing.T) {
		assert.Regexp(t, success, callRaw(t, e, pathWithdrawOrders, without(withdrawFields(tok, "wd-nobranch"), "bank_branch")))
	})
	t.Run("OKCurrencies", func(t *testing.T) {
		for _, cur := range []string{"SGD", "VND", "THB", "IDR"} {
			f := merge(withdrawFields(tok, "wd-"+cur), map[string]string{"currency": cur, "bank_id": "1"})
			assert.Regexp(t, success, callRaw(t, e, pathWithdrawOrders, f), cur)
			o, err := e.Store.Order(gateway.KindWithdrawal, testMerchant, "wd-"+cur)
			require.NoError(t, err)
			assert.Equal(t, e.Cfg.BankList(cur)[0].Name, o.BankName)
		}
	})
	t.Run("OKURLEncoded", func(t *testing.T) {
		code, b := e.PostForm(t, pathWithdrawOrders, withdrawFields(tok, "wd-urlenc"))
		require.Equal(t, http.StatusOK, code)
		assert.Regexp(t, success, string(b))
	})

	// MYR available is now at most 1000 - 3×105 = 685 (wd-ok, wd-nobranch, wd-urlenc).

	t.Run("CheckOrder", func(t *testing.T) {
		f := map[string]string{"auth": "not-a-token", "amount": "-5", "currency": "MYR", "orderid": "wd-ok",
			"bank_id": "15", "account_no": "12332343432"} // holder_name missing; MYR has 14 banks
		steps := []struct {
			name string
			fix  map[string]string
			want string
		}{
			{"ErrParamsMissing", nil, gateway.MsgParamsMissing},
			{"ErrParamsIncorrect", map[string]string{"holder_name": "John Doe"}, gateway.MsgParamsIncorrect},
			{"ErrAmountInvalid", map[string]string{"auth": tok}, gateway.MsgAmountInvalid},
			// 2000 is within MYR's limits but above the balance (at most 1000).
			{"ErrBankIDInvalid", map[string]string{"amount": "2000"}, gateway.MsgBankIDInvalid},
			{"ErrOrderIDExist", map[string]string{"bank_id": "1"}, gateway.MsgOrderIDExistWithdrawal},
			{"ErrBalanceNotEnough", map[string]string{"orderid": "wd-ladder"}, gateway.MsgBalanceNotEnough},
		}
		for _, st := range steps {
			f = merge(f, st.fix)
			assert.Equal(t, refusal(st.want), callRaw(t, e, pathWithdrawOrders, f), st.name)
		}
		f["amount"] = "100"
		assert.Regexp(t, success, callRaw(t, e, pathWithdrawOrders, f))
	})

	t.Run("ErrParamsMissing", func(t *testing.T) {
		base := withdrawFields("not-a-token", "wd-missing")
		for _, k := range []string{"auth", "amount", "currency", "orderid", "bank_id", "holder_name", "account_no"} {
			assert.Equal(t, refusal(gateway.MsgParamsMissing), callRaw(t, e, pathWithdrawOrders, without(base, k)), "without %s", k)
			assert.Equal(t, refusal(gateway.MsgParamsMissing), callRaw(t, e, pathWithdrawOrders, merge(base, map[string]string{k: ""})), "empty %s", k)
		}
	})
	t.Run("ErrParamsIncorrect", func(t *testing.T) {
		// The vendor's own example sends auth "vpay88_test"; without a token it is refused.
		for _, a := range []string{"vpay88_test", "t5IF5r2fXit1FnhjBVQv", testAPIKey} {
			assert.Equal(t, refusal(gateway.MsgParamsIncorrect), callRaw(t, e, pathWithdrawOrders, withdrawFields(a, "wd-badauth")), a)
		}
	})
	t.Run("ErrAmountInvalid", func(t *testing.T) {
		for _, a := range []string{"0", "-100", "abc", "1e3", "1.23456", "0.5", "50000.0001", " 100", "1,000"} {
			f := merge(withdrawFields(tok, "wd-badamount"), map[string]string{"amount": a, "bank_id": "99"})
			assert.Equal(t, refusal(gateway.MsgAmountInvalid), callRaw(t, e, pathWithdrawOrders, f), "amount %q", a)
		}
		// The vendor has no "Currency invalid." for payouts: an unknown or disabled
		// currency has no limits to satisfy.
		for _, cur := range []string{"USD", "myr"} {
			f := merge(withdrawFields(tok, "wd-badamount"), map[string]string{"currency": cur})
			assert.Equal(t, refusal(gateway.MsgAmountInvalid), callRaw(t, e, pathWithdrawOrders, f), cur)
		}
		f := merge(withdrawFields(authFor(t, e, acmeMerchant, acmeAPIKey), "wd-badamount"), map[string]string{"currency": "SGD", "bank_id": "1"})
		assert.Equal(t, refusal(gateway.MsgAmountInvalid), callRaw(t, e, pathWithdrawOrders, f))
	})
	t.Run("ErrBankIDInvalid", func(t *testing.T) {
		for _, id := range []string{"0", "15", "01", "x"} {
			f := merge(withdrawFields(tok, "wd-badbank"), map[string]string{"bank_id": id})
			assert.Equal(t, refusal(gateway.MsgBankIDInvalid), callRaw(t, e, pathWithdrawOrders, f), "bank_id %q", id)
		}
		// Bank ids are per currency: SGD has 12 banks, MYR 14.
		f := merge(withdrawFields(tok, "wd-badbank"), map[string]string{"currency": "SGD", "bank_id": "14"})
		assert.Equal(t, refusal(gateway.MsgBankIDInvalid), callRaw(t, e, pathWithdrawOrders, f))
	})
	t.Run("ErrOrderIDExist", func(t *testing.T) {
		for _, change := range []map[string]string{nil, {"amount": "1"}, {"currency": "THB", "bank_id": "1"}} {
			f := merge(withdrawFields(tok, "wd-ok"), change)
			assert.Equal(t, refusal(gateway.MsgOrderIDExistWithdrawal), callRaw(t, e, pathWithdrawOrders, f), "%v", change)
		}
	})
	t.Run("ErrBalanceNotEnough", func(t *testing.T) {
		before := mustBalance(t, e, testMerchant, "MYR")
		require.Greater(t, before.Available, gateway.MustMoney("6")) // 580 after the subtests above
		fee := gateway.MustMoney("5")
		// One ten-thousandth more than the balance once the fee counts.
		f := merge(withdrawFields(tok, "wd-poor"), map[string]string{"amount": (before.Available - fee + 1).String()})
		assert.Equal(t, refusal(gateway.MsgBalanceNotEnough), callRaw(t, e, pathWithdrawOrders, f))
		// The magic account number that asks for the refusal (README, scenarios).
		f = merge(withdrawFields(tok, "wd-poor"), map[string]string{"account_no": "4000000004"})
		assert.Equal(t, refusal(gateway.MsgBalanceNotEnough), callRaw(t, e, pathWithdrawOrders, f))
		// Nothing was debited, nothing stored.
		assert.Equal(t, before, mustBalance(t, e, testMerchant, "MYR"))
		_, err := e.Store.Order(gateway.KindWithdrawal, testMerchant, "wd-poor")
		assert.ErrorIs(t, err, store.ErrNotFound)
		// Amount plus fee exactly the balance: accepted.
		f = merge(withdrawFields(tok, "wd-exact"), map[string]string{"amount": (before.Available - fee).String()})
		assert.Regexp(t, success, callRaw(t, e, pathWithdrawOrders, f))
		assert.Equal(t, gateway.Money(0), mustBalance(t, e, testMerchant, "MYR").Available)
	})
	t.Run("RefusalsChangeNoBalance", func(t *testing.T) {
		bals, err := e.Store.Balances("")
		require.NoError(t, err)
		ledger, err := e.Store.Ledger("")
		require.NoError(t, err)
		for _, f := range []map[string]string{
			without(withdrawFields(tok, "wd-r1"), "account_no"),
			withdrawFields("bad", "wd-r2"),
			merge(withdrawFields(tok, "wd-r3"), map[string]string{"amount": "0"}),
			merge(withdrawFields(tok, "wd-r4"), map[string]string{"bank_id": "0"}),
			withdrawFields(tok, "wd-ok"),
			merge(withdrawFields(tok, "wd-r5"), map[string]string{"amount": "50000"}), // within limits, above the balance
		} {
			m := e.Call(t, pathWithdrawOrders, f)
			require.Equal(t, false, m["status"], "%v", f)
		}
		after, err := e.Store.Balances("")
		require.NoError(t, err)
		assert.Equal(t, bals, after)
		ledgerAfter, err := e.Store.Ledger("")
		require.NoError(t, err)
		assert.Equal(t, len(ledger), len(ledgerAfter), "a refused request writes no ledger entry")
		assertLedgerConsistent(t, e)
	})
}

func TestBankLists(t *testing.T) {
	e := MustOpenEnv(t, withAcme)
	for _, path := range []string{pathWithdrawBankList, pathBankList} {
		t.Run(strings.TrimPrefix(path, "/wallet/"), func(t *testing.T) {
			t.Run("OK", func(t *testing.T) {
				// The vendor's entry shape, key for key: {"currency","bank_name","id"}.
				var want strings.Builder
				want.WriteString(`{"status":true,"data":[`)
				for i, b := range e.Cfg.BankList("MYR") {
					if i > 0 {
						want.WriteString(",")
					}
					fmt.Fprintf(&want, `{"currency":"MYR","bank_name":%q,"id":"%d"}`, b.Name, i+1)
				}
				want.WriteString(`]}`)
				assert.Equal(t, want.String(), callRaw(t, e, path, map[string]string{"username": testMerchant, "currency": "MYR"}))
				assert.True(t, strings.HasPrefix(want.String(), `{"status":true,"data":[{"currency":"MYR","bank_name":"Malayan Banking Berhad","id":"1"},`))
			})
			t.Run("OKEveryCurrency", func(t *testing.T) {
				var resp struct {
					Status bool           `json:"status"`
					Data   []gateway.Bank `json:"data"`
				}
				require.NoError(t, json.Unmarshal([]byte(callRaw(t, e, path, map[string]string{"username": "vpay88_test"})), &resp))
				assert.True(t, resp.Status)
				count := map[string]int{}
				for _, b := range resp.Data {
					count[b.Currency]++
					assert.Equal(t, strconv.Itoa(count[b.Currency]), b.ID, "ids are numbered from 1 per currency")
				}
				for _, cur := range []string{"MYR", "SGD", "VND", "THB", "IDR"} {
					assert.GreaterOrEqual(t, count[cur], 12, cur)
				}
			})
			t.Run("OKFilter", func(t *testing.T) {
				for _, cur := range []string{"SGD", "VND", "THB", "IDR"} {
					var resp struct {
						Data []gateway.Bank `json:"data"`
					}
					require.NoError(t, json.Unmarshal([]byte(callRaw(t, e, path, map[string]string{"username": testMerchant, "currency": cur})), &resp))
					assert.Equal(t, e.Cfg.BankList(cur), resp.Data, cur)
				}
			})
			t.Run("OKOtherMerchant", func(t *testing.T) {
				var resp struct {
					Data []gateway.Bank `json:"data"`
				}
				require.NoError(t, json.Unmarshal([]byte(callRaw(t, e, path, map[string]string{"username": acmeMerchant})), &resp))
				assert.Equal(t, e.Cfg.BankList("MYR"), resp.Data, "acme has MYR only")
			})
			t.Run("OKURLEncoded", func(t *testing.T) {
				code, b := e.PostForm(t, path, map[string]string{"username": testMerchant, "currency": "THB"})
				require.Equal(t, http.StatusOK, code)
				assert.True(t, strings.HasPrefix(string(b), `{"status":true,"data":[{"currency":"THB","bank_name":"Siam Commercial Bank","id":"1"},`), "%s", b)
			})
			t.Run("ErrParamsMissing", func(t *testing.T) {
				assert.Equal(t, refusal(gateway.MsgParamsMissing), callRaw(t, e, path, map[string]string{"currency": "MYR"}))
				assert.Equal(t, refusal(gateway.MsgParamsMissing), callRaw(t, e, path, map[string]string{"username": "", "currency": "USD"}))
			})
			t.Run("ErrParamsIncorrect", func(t *testing.T) {
				// An unknown merchant comes before an unknown currency.
				assert.Equal(t, refusal(gateway.MsgParamsIncorrect), callRaw(t, e, path, map[string]string{"username": "nobody", "currency": "USD"}))
			})
			t.Run("ErrCurrencyInvalid", func(t *testing.T) {
				for _, cur := range []string{"USD", "myr"} {
					assert.Equal(t, refusal(gateway.MsgCurrencyInvalid), callRaw(t, e, path, map[string]string{"username": testMerchant, "currency": cur}), cur)
				}
				assert.Equal(t, refusal(gateway.MsgCurrencyInvalid), callRaw(t, e, path, map[string]string{"username": acmeMerchant, "currency": "THB"}))
			})
		})
	}
}

func TestCheckStatus(t *testing.T) {
	clock := newTestClock()
	e := mustOpenEnvClock(t, clock, withAcme, holdWithdrawals)
	tok := e.Auth(t)
	statusBody := regexp.MustCompile(`^\{"status":true,"order_status":"(pending|completed|fail)","order_datetime":"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)","amount":(\d+\.\d{4}),"currency":"([A-Z]{3})"\}$`)

	// Deposits: pending, completed and failed (magic emails settle at once).
	require.Equal(t, true, e.Call(t, pathGenerateOrders, depositFields(tok, "st-pending"))["status"])
	require.Equal(t, true, e.Call(t, pathGenerateOrders, merge(depositFields(tok, "st-completed"), map[string]string{"amount": "300", "email": "success@example.com"}))["status"])
	require.Equal(t, true, e.Call(t, pathGenerateOrders, merge(depositFields(tok, "st-fail"), map[string]string{"amount": "25", "email": "fail@example.com", "currency": "VND"}))["status"])
	// Withdrawals: pending, completed, failed (magic account numbers).
	require.Equal(t, true, e.Call(t, pathWithdrawOrders, withdrawFields(tok, "st-pending"))["status"])
	require.Equal(t, true, e.Call(t, pathWithdrawOrders, merge(withdrawFields(tok, "st-completed"), map[string]string{"amount": "300", "account_no": "4000000001"}))["status"])
	require.Equal(t, true, e.Call(t, pathWithdrawOrders, merge(withdrawFields(tok, "st-fail"), map[string]string{"amount": "1", "account_no": "4000000002"}))["status"])

	check := func(t *testing.T, path, username, id string) []string {
		t.Helper()
		body := callRaw(t, e, path, map[string]string{"username": username, "id": id})
		m := statusBody.FindStringSubmatch(body)
		require.NotNil(t, m, "%s %s/%s: %s", path, username, id, body)
		return m[1:]
	}
	kinds := map[string]gateway.Kind{pathCheckStatus: gateway.KindDeposit, pathCheckWithdrawStatus: gateway.KindWithdrawal}

	for _, path := range []string{pathCheckStatus, pathCheckWithdrawStatus} {
		t.Run(strings.TrimPrefix(path, "/merchant/"), func(t *testing.T) {
			kind := kinds[path]
			t.Run("OK", func(t *testing.T) {
				for id, want := range map[string][]string{
					"st-pending":   {"pending", "100.0000", "MYR"},
					"st-completed": {"completed", "300.0000", "MYR"},
				} {
					got := check(t, path, testMerchant, id)
					assert.Equal(t, want[0], got[0], id)
					assert.Equal(t, want[1], got[2], id)
					assert.Equal(t, want[2], got[3], id)
					// order_datetime is the creation time, local, in the vendor's layout.
					o, err := e.Store.Order(kind, testMerchant, id)
					require.NoError(t, err)
					assert.Equal(t, o.CreatedAt.In(time.Local).Format("2006-01-02 15:04:05"), got[1])
					ts, err := time.ParseInLocation("2006-01-02 15:04:05", got[1], time.Local)
					require.NoError(t, err)
					assert.WithinDuration(t, clock.Now(), ts, time.Minute)
				}
				got := check(t, path, testMerchant, "st-fail")
				assert.Equal(t, "fail", got[0])
				if kind == gateway.KindDeposit {
					assert.Equal(t, []string{"25.0000", "VND"}, got[2:])
				} else {
					assert.Equal(t, []string{"1.0000", "MYR"}, got[2:])
				}
			})
			t.Run("OKAlias", func(t *testing.T) {
				assert.Equal(t, "pending", check(t, path, "vpay88_test", "st-pending")[0])
			})
			t.Run("OKCustomer", func(t *testing.T) {
				// The vendor's examples send the customer's username, "john".
				assert.Equal(t, "completed", check(t, path, "john", "st-completed")[0])
			})
			t.Run("OKURLEncoded", func(t *testing.T) {
				code, b := e.PostForm(t, path, map[string]string{"username": testMerchant, "id": "st-pending"})
				require.Equal(t, http.StatusOK, code)
				assert.Regexp(t, statusBody, string(b))
			})
			t.Run("ErrParamsMissing", func(t *testing.T) {
				for _, f := range []map[string]string{{}, {"username": testMerchant}, {"id": "st-pending"},
					{"username": "", "id": "st-pending"}, {"username": "nobody", "id": ""}} {
					assert.Equal(t, refusal(gateway.MsgParamsMissing), callRaw(t, e, path, f), "%v", f)
				}
			})
			t.Run("ErrParamsIncorrect", func(t *testing.T) {
				// Neither a merchant nor the customer of an order with that id.
				assert.Equal(t, refusal(gateway.MsgParamsIncorrect), callRaw(t, e, path, map[string]string{"username": "nobody", "id": "no-such-order"}))
			})
			t.Run("ErrOrderNotFound", func(t *testing.T) {
				assert.Equal(t, refusal(gateway.MsgOrderNotFound), callRaw(t, e, path, map[string]string{"username": testMerchant, "id": "no-such-order"}))
				assert.Equal(t, refusal(gateway.MsgOrderNotFound), callRaw(t, e, path, map[string]string{"username": "vpay88_test", "id": "no-such-order"}))
				// Ids are per merchant: acme has no st-pending.
				assert.Equal(t, refusal(gateway.MsgOrderNotFound), callRaw(t, e, path, map[string]string{"username": acmeMerchant, "id": "st-pending"}))
			})
		})
	}

	t.Run("DepositCustomerMustMatch", func(t *testing.T) {
		// A deposit is found by its customer's name, not by anyone's.
		assert.Equal(t, refusal(gateway.MsgParamsIncorrect), callRaw(t, e, pathCheckStatus, map[string]string{"username": "jane", "id": "st-pending"}))
		// A withdrawal has no customer: any non-merchant name finds it by id (README,
		// guessed behaviours), as the vendor's check_withdraw_status example needs.
		assert.Equal(t, "pending", check(t, pathCheckWithdrawStatus, "jane", "st-pending")[0])
	})
	t.Run("KindsAreSeparate", func(t *testing.T) {
		require.Equal(t, true, e.Call(t, pathGenerateOrders, depositFields(tok, "st-deposit-only"))["status"])
		require.Equal(t, true, e.Call(t, pathWithdrawOrders, withdrawFields(tok, "st-withdrawal-only"))["status"])
		assert.Equal(t, refusal(gateway.MsgOrderNotFound), callRaw(t, e, pathCheckWithdrawStatus, map[string]string{"username": testMerchant, "id": "st-deposit-only"}))
		assert.Equal(t, refusal(gateway.MsgOrderNotFound), callRaw(t, e, pathCheckStatus, map[string]string{"username": testMerchant, "id": "st-withdrawal-only"}))
	})
	t.Run("CustomerAcrossMerchants", func(t *testing.T) {
		// Two merchants use one id; the customer's name picks the right deposit.
		acmeTok := authFor(t, e, acmeMerchant, acmeAPIKey)
		require.Equal(t, true, e.Call(t, pathGenerateOrders, merge(depositFields(acmeTok, "st-shared"), map[string]string{"username": "alice", "amount": "42"}))["status"])
		require.Equal(t, true, e.Call(t, pathGenerateOrders, merge(depositFields(tok, "st-shared"), map[string]string{"username": "bob", "amount": "43"}))["status"])
		assert.Equal(t, "42.0000", check(t, pathCheckStatus, "alice", "st-shared")[2])
		assert.Equal(t, "43.0000", check(t, pathCheckStatus, "bob", "st-shared")[2])
		assert.Equal(t, "42.0000", check(t, pathCheckStatus, acmeMerchant, "st-shared")[2])
		assert.Equal(t, "43.0000", check(t, pathCheckStatus, testMerchant, "st-shared")[2])
	})
}

func TestExpiredToken(t *testing.T) {
	clock := newTestClock()
	e := mustOpenEnvClock(t, clock, func(c *config.Config) { c.TokenLifetime = config.Duration(10 * time.Minute) })
	tok := e.Auth(t)

	clock.Advance(10*time.Minute - time.Second)
	assert.Equal(t, true, e.Call(t, pathGenerateOrders, depositFields(tok, "exp-1"))["status"], "valid just before its lifetime ends")
	assert.Equal(t, true, e.Call(t, pathWithdrawOrders, withdrawFields(tok, "exp-1"))["status"])

	clock.Advance(2 * time.Second)
	t.Run("ErrParamsIncorrect", func(t *testing.T) {
		assert.Equal(t, refusal(gateway.MsgParamsIncorrectDot), callRaw(t, e, pathGenerateOrders, depositFields(tok, "exp-2")))
		assert.Equal(t, refusal(gateway.MsgParamsIncorrect), callRaw(t, e, pathWithdrawOrders, withdrawFields(tok, "exp-2")))
	})
	t.Run("OKFreshToken", func(t *testing.T) {
		fresh := e.Auth(t)
		assert.Equal(t, true, e.Call(t, pathGenerateOrders, depositFields(fresh, "exp-2"))["status"])
		assert.Equal(t, true, e.Call(t, pathWithdrawOrders, withdrawFields(fresh, "exp-2"))["status"])
	})
	t.Run("DefaultLifetime", func(t *testing.T) {
		clock := newTestClock()
		e := mustOpenEnvClock(t, clock)
		tok := e.Auth(t)
		clock.Advance(29 * time.Minute)
		assert.Equal(t, true, e.Call(t, pathGenerateOrders, depositFields(tok, "exp-default-1"))["status"])
		clock.Advance(time.Minute)
		assert.Equal(t, refusal(gateway.MsgParamsIncorrectDot), callRaw(t, e, pathGenerateOrders, depositFields(tok, "exp-default-2")))
	})
}

// TestBodiesWithoutFormFields sends each endpoint bodies that PHP's $_POST would not
// read: every endpoint answers its missing-parameters error (SPEC §1).
func TestBodiesWithoutFormFields(t *testing.T) {
	e := MustOpenEnv(t)
	for _, ep := range everyEndpoint(t, e) {
		t.Run(strings.Trim(ep.path, "/"), func(t *testing.T) {
			jsonBody, _ := json.Marshal(ep.fields)
			q := url.Values{}
			for k, v := range ep.fields {
				q.Set(k, v)
			}
			bodies := []struct {
				name, contentType string
				body              string
				query             bool
			}{
				{"JSON", "application/json", string(jsonBody), false},
				{"EmptyMultipart", "multipart/form-data; boundary=xyz", "", false},
				{"EmptyURLEncoded", "application/x-www-form-urlencoded", "", false},
				{"NoContentType", "", q.Encode(), false},
				{"TextPlain", "text/plain", q.Encode(), false},
				{"BrokenMultipart", "multipart/form-data; boundary=xyz", "--xyz\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nvpay88-te", false},
				{"MultipartNoBoundary", "multipart/form-data", "username=vpay88-test", false},
				{"QueryStringOnly", "application/x-www-form-urlencoded", "", true},
			}
			for _, b := range bodies {
				t.Run(b.name, func(t *testing.T) {
					path := ep.path
					if b.query {
						path += "?" + q.Encode()
					}
					resp, got := rawPost(t, e, path, b.contentType, strings.NewReader(b.body))
					assert.Equal(t, http.StatusOK, resp.StatusCode)
					assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
					assert.Equal(t, refusal(gateway.MsgParamsMissing), string(got))
				})
			}
			// The same fields as multipart and as urlencoded succeed.
			t.Run("OKMultipart", func(t *testing.T) {
				f := ep.fields
				if ep.path == pathGenerateOrders || ep.path == pathWithdrawOrders {
					f = merge(f, map[string]string{"orderid": f["orderid"] + "-mp"})
				}
				assert.Equal(t, true, e.Call(t, ep.path, f)["status"])
			})
			t.Run("OKURLEncoded", func(t *testing.T) {
				f := ep.fields
				if ep.path == pathGenerateOrders || ep.path == pathWithdrawOrders {
					f = merge(f, map[string]string{"orderid": f["orderid"] + "-ue"})
				}
				code, b := e.PostForm(t, ep.path, f)
				require.Equal(t, http.StatusOK, code)
				var m map[string]any
				require.NoError(t, json.Unmarshal(b, &m))
				assert.Equal(t, true, m["status"], "%s", b)
			})
		})
	}
}

func TestUnknownRoutes(t *testing.T) {
	e := MustOpenEnv(t)
	for _, tc := range []struct {
		method, path string
		code         int
		msg          string
	}{
		{http.MethodPost, "/merchant/nope", http.StatusNotFound, "Not found."},
		{http.MethodPost, "/merchant/withdraw_bank_list", http.StatusNotFound, "Not found."}, // it lives under /wallet
		{http.MethodGet, "/nope", http.StatusNotFound, "Not found."},
		{http.MethodPost, "/", http.StatusNotFound, "Not found."},
		// GET reaches the handler with no form fields, as PHP's $_POST would be empty;
		// query-string fields are not read.
		{http.MethodGet, pathCurrency, http.StatusOK, gateway.MsgParamsMissing},
		{http.MethodGet, pathCurrency + "?username=vpay88-test", http.StatusOK, gateway.MsgParamsMissing},
		// Other methods: the JSON error shape, 404 or 405.
		{http.MethodPut, pathAuth, 0, ""},
		{http.MethodDelete, pathCheckStatus, 0, ""},
	} {
		t.Run(tc.method+tc.path, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, e.URL+tc.path, strings.NewReader("username=vpay88-test"))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
			if tc.code == 0 {
				switch resp.StatusCode {
				case http.StatusNotFound:
					assert.Equal(t, refusal("Not found."), string(b))
				case http.StatusMethodNotAllowed:
					assert.Equal(t, refusal("Method not allowed."), string(b))
				default:
					t.Errorf("%s %s: HTTP %d %s, want 404 or 405", tc.method, tc.path, resp.StatusCode, b)
				}
				return
			}
			assert.Equal(t, tc.code, resp.StatusCode)
			assert.Equal(t, refusal(tc.msg), string(b))
		})
	}
}

// hideLength hides a reader's length so the request goes out chunked.
type hideLength struct{ io.Reader }

func TestBodyTooLarge(t *testing.T) {
	e := MustOpenEnv(t)
	big := bytes.Repeat([]byte("a"), 20<<20) // 20 MB
	for _, tc := range []struct {
		name string
		body func() io.Reader
		ct   string
	}{
		{"ContentLengthURLEncoded", func() io.Reader { return bytes.NewReader(append([]byte("username=vpay88-test&x="), big...)) }, "application/x-www-form-urlencoded"},
		{"ContentLengthMultipart", func() io.Reader { return bytes.NewReader(big) }, "multipart/form-data; boundary=xyz"},
		{"ChunkedURLEncoded", func() io.Reader {
			return hideLength{bytes.NewReader(append([]byte("username=vpay88-test&x="), big...))}
		}, "application/x-www-form-urlencoded"},
		{"ChunkedMultipart", func() io.Reader {
			head := "--xyz\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n"
			return hideLength{io.MultiReader(strings.NewReader(head), bytes.NewReader(big))}
		}, "multipart/form-data; boundary=xyz"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, b := rawPost(t, e, pathCurrency, tc.ct, tc.body())
			assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
			assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
			assert.Equal(t, refusal("Request body too large."), string(b))

			// The server still answers afterwards.
			assert.Equal(t, true, e.Call(t, pathCurrency, map[string]string{"username": testMerchant})["status"])
			hr, err := http.Get(e.URL + "/healthz")
			require.NoError(t, err)
			hr.Body.Close()
			assert.Equal(t, http.StatusOK, hr.StatusCode)
		})
	}
}

func TestHealthz(t *testing.T) {
	e := MustOpenEnv(t)
	resp, err := http.Get(e.URL + "/healthz")
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "application/json", strings.Split(resp.Header.Get("Content-Type"), ";")[0])
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	assert.Equal(t, "ok", m["status"])
}

// TestDepositCreditAndPayoutFees checks the money an order moves when it settles:
// a completed deposit credits amount minus the 3 % charge; a completed payout consumes
// its reserve; a failed one gives amount plus fee back.
func TestDepositCreditAndPayoutFees(t *testing.T) {
	e := MustOpenEnv(t, holdWithdrawals)
	tok := e.Auth(t)
	start := mustBalance(t, e, testMerchant, "MYR")

	// 300 at 3 %: the vendor's "charge": "9.0000"; 291 credited.
	require.Equal(t, true, e.Call(t, pathGenerateOrders, merge(depositFields(tok, "fee-dep"), map[string]string{"amount": "300", "email": "success@example.com"}))["status"])
	o, err := e.Store.Order(gateway.KindDeposit, testMerchant, "fee-dep")
	require.NoError(t, err)
	assert.Equal(t, gateway.StatusCompleted, o.Status)
	assert.Equal(t, "9.0000", o.Charge.String())
	assert.Equal(t, start.Available+gateway.MustMoney("291"), mustBalance(t, e, testMerchant, "MYR").Available)

	// A failed deposit credits nothing.
	require.Equal(t, true, e.Call(t, pathGenerateOrders, merge(depositFields(tok, "fee-dep-fail"), map[string]string{"email": "fail@example.com"}))["status"])
	assert.Equal(t, start.Available+gateway.MustMoney("291"), mustBalance(t, e, testMerchant, "MYR").Available)

	// A completed payout: 100 + 5 leave for good.
	require.Equal(t, true, e.Call(t, pathWithdrawOrders, merge(withdrawFields(tok, "fee-wd-ok"), map[string]string{"account_no": "4000000001"}))["status"])
	b := mustBalance(t, e, testMerchant, "MYR")
	assert.Equal(t, start.Available+gateway.MustMoney("291")-gateway.MustMoney("105"), b.Available)
	assert.Equal(t, gateway.Money(0), b.Reserved)

	// A failed payout: reserved, then released whole.
	require.Equal(t, true, e.Call(t, pathWithdrawOrders, merge(withdrawFields(tok, "fee-wd-fail"), map[string]string{"account_no": "4000000002"}))["status"])
	b2 := mustBalance(t, e, testMerchant, "MYR")
	assert.Equal(t, b, b2)
	o, err = e.Store.Order(gateway.KindWithdrawal, testMerchant, "fee-wd-fail")
	require.NoError(t, err)
	assert.Equal(t, gateway.StatusFail, o.Status)
	assertLedgerConsistent(t, e)
}
