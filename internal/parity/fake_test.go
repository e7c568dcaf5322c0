package parity_test

import (
	"crypto/rand"
	"fmt"
	"mime"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vpay88/vpay88-sandbox/gateway"
)

// fakeVendor answers like the vendor document's examples and like the sandbox's
// guesses, in the style of a PHP gateway (charset in the content type, escaped
// slashes, trailing commas in some answers, its own tokens, URLs, banks and limits),
// except for five planted differences:
//
//  1. message text: an unknown order is "Order not exist." (sandbox: "Order not found.")
//  2. type: /wallet/bank_list ids are numbers (sandbox: strings)
//  3. missing key: /merchant/currency rates have no "max"
//  4. extra key: /merchant/auth adds "expires_in"
//  5. number format: check_status amounts have two decimals (sandbox: four)
//
// Its values differ too, which only `--values` reports: the MYR min is 420 (sandbox:
// 1), its banks are its own, and its MYR withdraw_bank_list is the live one (the
// observed profile's, ids from "246").
type fakeVendor struct {
	username, apiKey string

	mu     sync.Mutex
	tokens []string            // issued, in order
	orders map[string][]string // deposit id -> customer, amount
	number int
	keys   []string // p_url keys issued
}

func newFakeVendor(t *testing.T, username, apiKey string) (*fakeVendor, string) {
	f := &fakeVendor{username: username, apiKey: apiKey, orders: map[string][]string{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv.URL
}

func randAlnum(n int) string {
	const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alnum[int(b[i])%len(alnum)]
	}
	return string(b)
}

var fakeBanks = map[string][]string{"MYR": {"Maybank", "CIMB Bank", "Public Bank"}, "SGD": {"DBS Bank"}}

// fakePayoutBanks is the fake's MYR withdraw_bank_list: the live one.
var fakePayoutBanks = gateway.ProfileObserved.Preset().WithdrawalBanks("MYR", nil)

func (f *fakeVendor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// PHP's $_POST: multipart or urlencoded fields, anything else nothing.
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "multipart/form-data" {
		_ = r.ParseMultipartForm(1 << 20)
	} else {
		_ = r.ParseForm()
	}
	get := r.PostForm.Get
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	fail := func(msg string) { fmt.Fprintf(w, `{"status":false,"message":%q}`, msg) }
	// failComma is how the vendor document prints the payout errors.
	failComma := func(msg string) { fmt.Fprintf(w, "{\n    \"status\": false,\n    \"message\": %q,\n}", msg) }
	missing := func(names ...string) bool {
		return slices.ContainsFunc(names, func(n string) bool { return get(n) == "" })
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	live := func(tok string) bool { return tok != "" && slices.Contains(f.tokens, tok) }
	amountOK := func(s string, min, max string) bool {
		m, err := gateway.ParseMoney(s)
		return err == nil && m > 0 && m >= gateway.MustMoney(min) && m <= gateway.MustMoney(max)
	}
	switch r.URL.Path {
	case "/merchant/currency":
		switch {
		case missing("username"):
			fail("Params missing.")
		case get("username") != f.username:
			fail("Params incorrect")
		default: // planted 3: no "max"
			fmt.Fprint(w, `{"status":true,"rate":[{"currency":"MYR","min":420.0000},{"currency":"SGD","min":134.0000}]}`)
		}
	case "/merchant/auth":
		switch {
		case missing("username", "api_key"):
			fail("Params missing.")
		case get("username") != f.username || get("api_key") != f.apiKey:
			fail("Params incorrect")
		default: // planted 4: expires_in
			tok := randAlnum(20)
			f.tokens = append(f.tokens, tok)
			// Live answers carry a gateway-made order_id beside the token (docs/fidelity.md, observed).
			fmt.Fprintf(w, `{"status":true,"auth":%q,"order_id":"Q7ZmX2pLr8KdN4aB","expires_in":1800}`, tok)
		}
	case "/wallet/withdraw_bank_list", "/wallet/bank_list":
		cur := get("currency")
		switch {
		case missing("username"):
			fail("Params missing.")
		case get("username") != f.username:
			fail("Params incorrect")
		case cur != "" && fakeBanks[cur] == nil:
			fail("Currency invalid.")
		default:
			var items []string
			for _, c := range []string{"MYR", "SGD"} {
				if cur != "" && cur != c {
					continue
				}
				if r.URL.Path == "/wallet/withdraw_bank_list" && c == "MYR" {
					for _, b := range fakePayoutBanks {
						items = append(items, fmt.Sprintf(`{"currency":%q,"bank_name":%q,"id":%q}`, c, b.Name, b.ID))
					}
					continue
				}
				for i, name := range fakeBanks[c] {
					id := fmt.Sprintf("%q", fmt.Sprint(i+1))
					if r.URL.Path == "/wallet/bank_list" {
						id = fmt.Sprint(i + 1) // planted 2: a number
					}
					items = append(items, fmt.Sprintf(`{"currency":%q,"bank_name":%q,"id":%s}`, c, name, id))
				}
			}
			fmt.Fprintf(w, `{"status":true,"data":[%s]}`, strings.Join(items, ","))
		}
	case "/merchant/generate_orders":
		switch {
		case missing("username", "auth", "amount", "currency", "orderid", "email", "phone_number"):
			fail("Params missing.")
		case !live(get("auth")):
			fail("Params incorrect.")
		case fakeBanks[get("currency")] == nil:
			fail("Currency invalid.")
		case !amountOK(get("amount"), "420", "42000"):
			fail("Invalid Amount.")
		case !gateway.ValidEmail(get("email")):
			fail("email incorrect.")
		case get("mode") != "" && !slices.Contains(gateway.TelcoModes(), get("mode")):
			fail("Params incorrect.")
		case f.orders[get("orderid")] != nil:
			fail("Order ID Exist.")
		default:
			f.orders[get("orderid")] = []string{get("username"), get("amount")}
			f.number++
			key := randAlnum(16)
			f.keys = append(f.keys, key)
			// PHP's json_encode escapes slashes.
			fmt.Fprintf(w, `{"status":true,"p_url":"https:\/\/pay.example.com\/checkout\/order-pay\/%d\/?pay_for_order=true&key=%s"}`, 900+f.number, key)
		}
	case "/merchant/check_status", "/merchant/check_withdraw_status":
		o := f.orders[get("id")]
		switch {
		case missing("username", "id"):
			fail("Params missing.")
		case r.URL.Path == "/merchant/check_withdraw_status" || o == nil || (get("username") != f.username && get("username") != o[0]):
			fail("Order not exist.") // planted 1
		default: // planted 5: two decimals
			m := gateway.MustMoney(o[1])
			fmt.Fprintf(w, "{\n    \"status\": true,\n    \"order_status\": \"pending\",\n    \"order_datetime\": %q,\n    \"amount\": %s,\n    \"currency\": \"MYR\",\n}",
				time.Now().Format(gateway.DateTimeLayout), m.Format(2))
		}
	case "/merchant/withdraw_orders":
		switch {
		case missing("auth", "amount", "currency", "orderid", "bank_id", "holder_name", "account_no"):
			failComma("Params missing.")
		case !live(get("auth")):
			failComma("Params incorrect")
		case fakeBanks[get("currency")] == nil || !amountOK(get("amount"), "420", "42000"):
			failComma("Amount Invalid!")
		default:
			failComma("bank_id invalid.") // the script sends no valid payout without --allow-payouts
		}
	default:
		w.WriteHeader(http.StatusNotFound)
		fail("Not found.")
	}
}

// secrets returns every token and p_url key the fake issued.
func (f *fakeVendor) secrets() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append(slices.Clone(f.tokens), f.keys...)
}
