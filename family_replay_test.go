package main

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The gateway family's eight public integrations (docs/fidelity.md, family, issue 19), replayed against
// the built binary as their authors' code behaves: each against a sandbox in the
// profile it fits, its merchants made at run time through POST /sandbox/api/merchants
// as the README's "Your gateway is FPay, One1Pay, SuperRich or Vpay88" says, its own
// content type, field names and value styles, its own reading of every answer, and a
// real callback receiver that verifies and applies as that integration does. A
// receiver that cannot apply a callback records why, and the test fails on it.

// famSandbox is one binary run for one integration.
type famSandbox struct {
	*sandboxProc
	t *testing.T
}

// startFamily runs the binary in a profile with the CI retry schedule.
func startFamily(t *testing.T, profile string) *famSandbox {
	t.Helper()
	p := startSandbox(t, filepath.Join(t.TempDir(), "state.db"), "--profile", profile, "--fast-retries")
	return &famSandbox{p, t}
}

// merchant makes a merchant at run time (JSON, as the README's examples) and returns
// its username, api_key and secret_key.
func (s *famSandbox) merchant(body string) (user, key, secret string) {
	s.t.Helper()
	resp, err := http.Post(s.URL+"/sandbox/api/merchants", "application/json", strings.NewReader(body))
	require.NoError(s.t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	require.Equal(s.t, http.StatusCreated, resp.StatusCode, "POST /sandbox/api/merchants %s: %s", body, b)
	var m struct{ Username, APIKey, SecretKey string }
	var raw map[string]any
	require.NoError(s.t, json.Unmarshal(b, &raw))
	m.Username, _ = raw["username"].(string)
	m.APIKey, _ = raw["api_key"].(string)
	m.SecretKey, _ = raw["secret_key"].(string)
	require.NotEmpty(s.t, m.APIKey)
	require.NotEmpty(s.t, m.SecretKey)
	return m.Username, m.APIKey, m.SecretKey
}

// call sends a vendor request in an encoding ("form": urlencoded, "spring": urlencoded
// with Spring's charset parameter, "multipart") and
// returns the raw body, as the integration's HTTP client sees it.
func (s *famSandbox) call(enc, path string, fields map[string]string) []byte {
	s.t.Helper()
	var body io.Reader
	ctype := "application/x-www-form-urlencoded"
	if enc == "multipart" {
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		for k, v := range fields {
			require.NoError(s.t, w.WriteField(k, v))
		}
		require.NoError(s.t, w.Close())
		body, ctype = &buf, w.FormDataContentType()
	} else {
		if enc == "spring" { // RestTemplate with a MultiValueMap
			ctype += ";charset=UTF-8"
		}
		v := url.Values{}
		for k, val := range fields {
			v.Set(k, val)
		}
		body = strings.NewReader(v.Encode())
	}
	resp, err := http.Post(s.URL+path, ctype, body)
	require.NoError(s.t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	require.Equal(s.t, http.StatusOK, resp.StatusCode, "%s: %s", path, b)
	return b
}

// callJSON is call with the answer decoded as a loosely typed JSON object (axios,
// json_decode($r, true), Laravel's ->json()).
func (s *famSandbox) callJSON(enc, path string, fields map[string]string) map[string]any {
	s.t.Helper()
	var m map[string]any
	b := s.call(enc, path, fields)
	require.NoError(s.t, json.Unmarshal(b, &m), "%s", b)
	return m
}

// settle is the QA's hand on the admin API: an order's outcome.
func (s *famSandbox) settle(kind, merchant, id string, fields map[string]string) {
	s.t.Helper()
	v := url.Values{"merchant": {merchant}}
	for k, val := range fields {
		v.Set(k, val)
	}
	resp, err := http.PostForm(s.URL+"/sandbox/api/"+kind+"/"+url.PathEscape(id)+"/settle", v)
	require.NoError(s.t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	require.Equal(s.t, http.StatusOK, resp.StatusCode, "settle %s %s: %s", kind, id, b)
}

// checkoutPay submits the p_url page's form as its buttons do, after checking the
// page offers them.
func (s *famSandbox) checkoutPay(pURL string, fields map[string]string) {
	s.t.Helper()
	resp, err := http.Get(pURL)
	require.NoError(s.t, err)
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(s.t, http.StatusOK, resp.StatusCode)
	require.Contains(s.t, string(page), `name="action" value="pay"`)
	u, err := url.Parse(pURL)
	require.NoError(s.t, err)
	v := url.Values{"key": {u.Query().Get("key")}}
	for k, val := range fields {
		v.Set(k, val)
	}
	c := http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = c.PostForm(s.URL+u.Path, v)
	require.NoError(s.t, err)
	resp.Body.Close()
	require.Equal(s.t, http.StatusSeeOther, resp.StatusCode)
}

// md5hex is every integration's token formula: md5(secret + order_id).
func md5hex(s string) string { h := md5.Sum([]byte(s)); return hex.EncodeToString(h[:]) }

// applied is what a merchant's handler did with one callback.
type applied struct {
	path    string
	fields  map[string]any
	status  int
	answer  string
	problem string // why it applied nothing ("" when it applied)
}

// receiver is a merchant's callback endpoint: handle reads a request as the
// integration does and answers as it does.
type receiver struct {
	*httptest.Server
	mu  sync.Mutex
	got []applied
	ch  chan struct{}
}

func newReceiver(t *testing.T, handle func(r *http.Request, body []byte) applied) *receiver {
	rc := &receiver{ch: make(chan struct{}, 64)}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		a := handle(r, body)
		a.path = r.URL.Path
		rc.mu.Lock()
		rc.got = append(rc.got, a)
		rc.mu.Unlock()
		w.WriteHeader(a.status)
		_, _ = io.WriteString(w, a.answer)
		rc.ch <- struct{}{}
	}))
	t.Cleanup(rc.Close)
	return rc
}

// next waits for the next callback and requires the handler to have applied it.
func (rc *receiver) next(t *testing.T) applied {
	t.Helper()
	select {
	case <-rc.ch:
	case <-time.After(10 * time.Second):
		t.Fatal("no callback within 10s")
	}
	rc.mu.Lock()
	a := rc.got[len(rc.got)-1]
	rc.mu.Unlock()
	require.Empty(t, a.problem, "the merchant's handler applied nothing: %+v", a)
	return a
}

// jsonHandler is the common shape (Express's express.json(), Laravel's
// $request->all()): the body is JSON; the secret comes from secretFor; a bad token is
// answered 403, a good one 200 {}.
func jsonHandler(secretFor func(cb map[string]any) string) func(*http.Request, []byte) applied {
	return func(r *http.Request, body []byte) applied {
		var cb map[string]any
		if err := json.Unmarshal(body, &cb); err != nil {
			return applied{status: 400, problem: "not JSON: " + string(body)}
		}
		id, _ := cb["order_id"].(string)
		tok, _ := cb["token"].(string)
		secret := secretFor(cb)
		if secret == "" || md5hex(secret+id) != tok {
			return applied{fields: cb, status: 403, problem: "token does not verify"}
		}
		return applied{fields: cb, status: 200, answer: "{}"}
	}
}

// TestFamilyReplay replays the eight integrations.
func TestFamilyReplay(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}

	// (1) Node/Express + axios against FPay's sandbox host: urlencoded (axios with
	// URLSearchParams), no email/phone, bank_code, auth's order_id sent as orderid;
	// express.json() callback, 403 on a bad token; check_status with auth.
	t.Run("node-express-axios", func(t *testing.T) {
		s := startFamily(t, "observed")
		var secret string
		rc := newReceiver(t, jsonHandler(func(map[string]any) string { return secret }))
		user, key, sec := s.merchant(`{"callback_url":"` + rc.URL + `/fpay/callback"}`)
		secret = sec
		a := s.callJSON("form", "/merchant/auth", map[string]string{"username": user, "api_key": key})
		require.Equal(t, true, a["status"], "%v", a)
		ref, _ := a["order_id"].(string)
		require.NotEmpty(t, ref, "auth's order_id")
		d := s.callJSON("form", "/merchant/generate_orders", map[string]string{"username": "cust42", "auth": a["auth"].(string),
			"amount": "100.00", "currency": "MYR", "orderid": ref, "bank_code": "MayBank", "customer_bank_holder_name": "Ali Bin Abu"})
		require.Equal(t, true, d["status"], "%v", d)
		// The customer pays on the p_url page (the QA's click on "Pay").
		s.checkoutPay(d["p_url"].(string), map[string]string{"action": "pay"})
		cb := rc.next(t).fields
		assert.Equal(t, "completed", cb["order_status"])
		st := s.callJSON("form", "/merchant/check_status", map[string]string{"username": user, "id": ref, "auth": a["auth"].(string)})
		assert.Equal(t, "completed", st["order_status"], "%v", st)
		// A payout under the next auth's order_id, to the live MYR list's MAYBANK.
		a = s.callJSON("form", "/merchant/auth", map[string]string{"username": user, "api_key": key})
		pref, _ := a["order_id"].(string)
		require.NotEqual(t, ref, pref, "a fresh order_id per auth")
		w := s.callJSON("form", "/merchant/withdraw_orders", map[string]string{"auth": a["auth"].(string), "amount": "80", "currency": "MYR",
			"orderid": pref, "bank_id": "246", "holder_name": "Ali Bin Abu", "account_no": "5140000001"})
		require.Equal(t, true, w["status"], "%v", w)
		s.settle("withdrawals", user, pref, map[string]string{"outcome": "completed"})
		cb = rc.next(t).fields
		assert.Equal(t, pref, cb["order_id"])
		assert.Equal(t, "withdrawal", cb["type"])
	})

	// (2) Laravel, FPay BDT: Http::asForm(), placeholders abc@gmail.com / 00000000,
	// bank 800 as bank_id and bank_code; withdraw answers' withdraw_order_id stored
	// as the payout reference; payout callbacks on their own route.
	t.Run("laravel-fpay-bdt", func(t *testing.T) {
		s := startFamily(t, "observed")
		var secret string
		rc := newReceiver(t, jsonHandler(func(map[string]any) string { return secret }))
		user, key, sec := s.merchant(`{"username":"bdt-laravel","callback_url":"` + rc.URL + `/api/fpay/deposit",
			"dialect":{"payout_callback_url":"` + rc.URL + `/api/fpay/payout"},
			"currencies":[{"code":"BDT","min":100,"max":25000,"banks":[{"id":"800","name":"bKash"}]}]}`)
		secret = sec
		tok := s.callJSON("form", "/merchant/auth", map[string]string{"username": user, "api_key": key})["auth"].(string)
		banks := s.callJSON("form", "/wallet/bank_list", map[string]string{"username": user, "currency": "BDT"})
		assert.Equal(t, []any{map[string]any{"id": "800", "bank_name": "bKash", "currency": "BDT"}}, banks["data"])
		d := s.callJSON("form", "/merchant/generate_orders", map[string]string{"username": "rahim", "auth": tok, "amount": "500",
			"currency": "BDT", "orderid": "BDT-1001", "email": "abc@gmail.com", "phone_number": "00000000", "bank_id": "800", "bank_code": "800"})
		require.Equal(t, true, d["status"], "%v", d)
		s.settle("deposits", user, "BDT-1001", map[string]string{"outcome": "completed"})
		a := rc.next(t)
		assert.Equal(t, "/api/fpay/deposit", a.path)
		assert.Equal(t, "deposit", a.fields["type"])
		w := s.callJSON("form", "/merchant/withdraw_orders", map[string]string{"auth": tok, "amount": "1000", "currency": "BDT",
			"orderid": "BDT-P-1", "bank_id": "800", "bank_code": "800", "holder_name": "Rahim Uddin", "account_no": "01700000001"})
		require.Equal(t, true, w["status"], "%v", w)
		payoutRef, _ := w["withdraw_order_id"].(string)
		require.NotEmpty(t, payoutRef, "withdraw_order_id, stored as the payout reference")
		s.settle("withdrawals", user, "BDT-P-1", map[string]string{"outcome": "completed"})
		a = rc.next(t)
		assert.Equal(t, "/api/fpay/payout", a.path, "payouts on their own route")
		assert.Equal(t, "BDT-P-1", a.fields["order_id"])
		st := s.callJSON("form", "/merchant/check_withdraw_status", map[string]string{"username": user, "id": "BDT-P-1", "auth": tok})
		assert.Equal(t, "completed", st["order_status"], "%v", st)
		// The reference it stored is the gateway's order number, as the README says.
		var o struct{ Number uint64 }
		resp, err := http.Get(s.URL + "/sandbox/api/withdrawals/BDT-P-1?merchant=" + user)
		require.NoError(t, err)
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&o))
		resp.Body.Close()
		assert.Equal(t, fmt.Sprintf("W%d", o.Number), payoutRef)
	})

	// (3) Laravel merchant wallet: POST /wallet/get_balance with auth + currency,
	// reading one required `balance`; a deposit credits it. USDT 10–5000.
	t.Run("laravel-wallet-usdt", func(t *testing.T) {
		s := startFamily(t, "observed")
		var secret string
		rc := newReceiver(t, jsonHandler(func(map[string]any) string { return secret }))
		user, key, sec := s.merchant(`{"callback_url":"` + rc.URL + `/callback","currencies":[{"code":"USDT","min":10,"max":5000,"start_balance":0,
			"banks":[{"id":"TRC20","name":"Tether (TRON TRC20)"}]}]}`)
		secret = sec
		tok := s.callJSON("multipart", "/merchant/auth", map[string]string{"username": user, "api_key": key})["auth"].(string)
		bal := func() string {
			b := s.callJSON("multipart", "/wallet/get_balance", map[string]string{"auth": tok, "currency": "USDT"})
			require.Equal(t, true, b["status"], "%v", b)
			v, ok := b["balance"].(string)
			require.True(t, ok, "balance is required: %v", b)
			return v
		}
		assert.Equal(t, "0.0000", bal())
		r := s.callJSON("multipart", "/merchant/currency", map[string]string{"username": user})
		assert.Equal(t, []any{map[string]any{"currency": "USDT", "min": 10.0, "max": 5000.0}}, r["rate"])
		for _, amt := range []string{"9.99", "5000.01"} {
			d := s.callJSON("multipart", "/merchant/generate_orders", map[string]string{"username": "c1", "auth": tok, "amount": amt, "currency": "USDT", "orderid": "U-X"})
			assert.Equal(t, "Invalid Amount.", d["message"], amt)
		}
		d := s.callJSON("multipart", "/merchant/generate_orders", map[string]string{"username": "c1", "auth": tok, "amount": "100", "currency": "USDT", "orderid": "U-1"})
		require.Equal(t, true, d["status"], "%v", d)
		s.settle("deposits", user, "U-1", map[string]string{"outcome": "completed"})
		rc.next(t)
		assert.Equal(t, "97.0000", bal(), "100 less the 3 % a new currency's charge defaults to (README)")
		// A customer who pays 90 of 100: the wallet credits the callback's amount.
		d = s.callJSON("multipart", "/merchant/generate_orders", map[string]string{"username": "c1", "auth": tok, "amount": "100", "currency": "USDT", "orderid": "U-2"})
		require.Equal(t, true, d["status"], "%v", d)
		s.checkoutPay(d["p_url"].(string), map[string]string{"action": "pay", "paid_amount": "90"})
		cb := rc.next(t).fields
		assert.Equal(t, "90.0000", cb["amount"], "the paid amount")
		assert.Equal(t, "184.3000", bal(), "97 + 90 less 3 %")
		// A withdrawal to the network the merchant named; the balance is what is left.
		w := s.callJSON("multipart", "/merchant/withdraw_orders", map[string]string{"auth": tok, "amount": "50", "currency": "USDT",
			"orderid": "U-W", "bank_id": firstPayoutBank(t, s, user, "USDT"), "holder_name": "T", "account_no": "TXyzAbc"})
		require.Equal(t, true, w["status"], "%v", w)
		assert.Equal(t, "129.3000", bal(), "the payout and its fee of 5 reserved")
	})

	// (4) Laravel, SuperRich THB: asForm, bank_id from SuperRich's numbering,
	// pay_method, TrueMoney without bank_id.
	t.Run("laravel-superrich-thb", func(t *testing.T) {
		s := startFamily(t, "observed")
		var secret string
		rc := newReceiver(t, jsonHandler(func(map[string]any) string { return secret }))
		banks := `[{"id":"106","name":"Bangkok Bank"},{"id":"107","name":"Kasikorn Bank"},{"id":"108","name":"Krung Thai Bank"},{"id":"109","name":"SCB"},{"id":"110","name":"Krungsri"},{"id":"113","name":"TTB"},{"id":"114","name":"GSB"},{"id":"115","name":"KKP"},{"id":"116","name":"CIMB Thai"},{"id":"117","name":"UOB"},{"id":"118","name":"LH Bank"},{"id":"120","name":"BAAC"},{"id":"121","name":"GHB"},{"id":"123","name":"ibank"},{"id":"158","name":"Thai Credit"}]`
		user, key, sec := s.merchant(`{"callback_url":"` + rc.URL + `/superrich/callback","currencies":[{"code":"THB","min":100,"max":500000,"banks":` + banks + `}]}`)
		secret = sec
		tok := s.callJSON("form", "/merchant/auth", map[string]string{"username": user, "api_key": key})["auth"].(string)
		for i, tc := range []map[string]string{
			{"bank_id": "106", "pay_method": "online_banking"},
			{"bank_id": "158", "pay_method": "thaiqr"},
			{"pay_method": "truemoney"},
		} {
			id := fmt.Sprintf("SR-%d", i)
			f := map[string]string{"username": user, "auth": tok, "amount": "300", "currency": "THB", "orderid": id,
				"customer_bank_account": "1234567890", "callback_url": ""}
			for k, v := range tc {
				f[k] = v
			}
			d := s.callJSON("form", "/merchant/generate_orders", f)
			require.Equal(t, true, d["status"], "%v %v", tc, d)
			s.settle("deposits", user, id, map[string]string{"outcome": "completed"})
			cb := rc.next(t).fields
			assert.Equal(t, "completed", cb["order_status"])
			assert.Equal(t, "THB", cb["currency"])
		}
		w := s.callJSON("form", "/merchant/withdraw_orders", map[string]string{"auth": tok, "amount": "500", "currency": "THB",
			"orderid": "SR-P", "bank_id": "107", "holder_name": "Somchai", "account_no": "1112223334"})
		assert.Equal(t, true, w["status"], "%v", w)
	})

	// (5) plain PHP cURL, the document's way: multipart (CURLOPT_POSTFIELDS array),
	// email and phone; its handler reads php://input, strips `json=` and
	// json_decodes; it polls check_status and treats {"status":false} as pending.
	t.Run("php-curl", func(t *testing.T) {
		s := startFamily(t, "document")
		var secret string
		rc := newReceiver(t, func(r *http.Request, body []byte) applied {
			// $raw = file_get_contents('php://input');
			// if (strpos($raw, 'json=') === 0) $raw = substr($raw, 5);
			// $cb = json_decode($raw, true);
			raw := strings.TrimPrefix(string(body), "json=")
			a := jsonHandler(func(map[string]any) string { return secret })(r, []byte(raw))
			// A PHP handler reading $_POST['json'] (the form's own decoding) must
			// read the same callback.
			if form, err := url.ParseQuery(string(body)); err == nil && a.problem == "" {
				if v := form.Get("json"); v != raw {
					a.problem = "$_POST['json'] differs from the stripped body: " + v
				}
			}
			return a
		})
		user, key, sec := s.merchant(`{"callback_url":"` + rc.URL + `/callback.php","dialect":{"callback_body":"form","pending_status":"status_false"}}`)
		secret = sec
		tok := s.callJSON("multipart", "/merchant/auth", map[string]string{"username": user, "api_key": key})["auth"].(string)
		d := s.callJSON("multipart", "/merchant/generate_orders", map[string]string{"username": "john", "auth": tok, "amount": "100",
			"currency": "MYR", "orderid": "PHP-1", "email": "john@example.com", "phone_number": "601012456789"})
		require.Equal(t, true, d["status"], "%v", d)
		assert.Equal(t, `{"status":false}`, string(s.call("multipart", "/merchant/check_status", map[string]string{"username": user, "id": "PHP-1"})))
		s.settle("deposits", user, "PHP-1", map[string]string{"outcome": "completed"})
		cb := rc.next(t).fields
		assert.Equal(t, "completed", cb["order_status"])
		assert.Equal(t, 100.0, cb["amount"], "document: a number")
		st := s.callJSON("multipart", "/merchant/check_status", map[string]string{"username": user, "id": "PHP-1"})
		assert.Equal(t, "completed", st["order_status"])
	})

	// (5, in PHP) the same integration run by php-cli and php -S, when they are here.
	t.Run("php-curl-real-php", func(t *testing.T) { phpCurlReal(t) })

	// (6) Java/Spring + fastjson: the handler finds the account by the callback's
	// username, reads amount with (String), and answers 200 INNER_ERROR when it
	// cannot.
	javaSpring := func(t *testing.T, profile, dialect string) {
		s := startFamily(t, profile)
		accounts := map[string]string{}
		var mu sync.Mutex
		rc := newReceiver(t, func(r *http.Request, body []byte) applied {
			var cb map[string]any
			if json.Unmarshal(body, &cb) != nil {
				return applied{status: 200, answer: "INNER_ERROR", problem: "not JSON"}
			}
			u, _ := cb["username"].(string)
			mu.Lock()
			secret, ok := accounts[u]
			mu.Unlock()
			if !ok {
				return applied{fields: cb, status: 200, answer: "INNER_ERROR", problem: "no account for username " + u}
			}
			if _, ok := cb["amount"].(string); !ok { // (String) jsonObject.get("amount")
				return applied{fields: cb, status: 200, answer: "INNER_ERROR", problem: "ClassCastException on amount"}
			}
			if md5hex(secret+cb["order_id"].(string)) != cb["token"] {
				return applied{fields: cb, status: 200, answer: "INNER_ERROR", problem: "token"}
			}
			return applied{fields: cb, status: 200, answer: "SUCCESS"}
		})
		user, key, sec := s.merchant(`{"callback_url":"` + rc.URL + `/pay/notify"` + dialect + `}`)
		mu.Lock()
		accounts[user] = sec
		mu.Unlock()
		tok := s.callJSON("spring", "/merchant/auth", map[string]string{"username": user, "api_key": key})["auth"].(string)
		d := s.callJSON("spring", "/merchant/generate_orders", map[string]string{"username": user, "auth": tok, "amount": "250.50",
			"currency": "MYR", "orderid": "J-1", "bank_code": "CimbBank"})
		require.Equal(t, true, d["status"], "%v", d)
		s.settle("deposits", user, "J-1", map[string]string{"outcome": "completed"})
		cb := rc.next(t).fields
		assert.Equal(t, "250.5000", cb["amount"])
		assert.Equal(t, user, cb["username"])
		w := s.callJSON("spring", "/merchant/withdraw_orders", map[string]string{"auth": tok, "amount": "100", "currency": "MYR",
			"orderid": "J-P", "bank_id": firstPayoutBank(t, s, user, "MYR"), "holder_name": "Tan Ah Kow", "account_no": "5140000001"})
		require.Equal(t, true, w["status"], "%v", w)
		s.settle("withdrawals", user, "J-P", map[string]string{"outcome": "completed"})
		cb = rc.next(t).fields
		assert.Equal(t, "withdrawal", cb["type"])
		assert.IsType(t, "", cb["amount"], "(String) cast")
		// An account its table lacks: 200 INNER_ERROR, applied nothing. The vendor
		// takes any 2xx as acknowledged; the attempt log shows the answer (docs/fidelity.md, family).
		stranger, skey, _ := s.merchant(`{"callback_url":"` + rc.URL + `/pay/notify"` + dialect + `}`)
		stok := s.callJSON("spring", "/merchant/auth", map[string]string{"username": stranger, "api_key": skey})["auth"].(string)
		d = s.callJSON("spring", "/merchant/generate_orders", map[string]string{"username": stranger, "auth": stok, "amount": "10",
			"currency": "MYR", "orderid": "J-2", "bank_code": "CimbBank"})
		require.Equal(t, true, d["status"], "%v", d)
		s.settle("deposits", stranger, "J-2", map[string]string{"outcome": "completed"})
		select {
		case <-rc.ch:
		case <-time.After(10 * time.Second):
			t.Fatal("no callback within 10s")
		}
		var ov struct {
			Callbacks []struct {
				State      string
				AttemptLog []struct {
					Status int    `json:"http_status"`
					Answer string `json:"answer"`
				} `json:"attempt_log"`
			}
		}
		require.Eventually(t, func() bool {
			resp, err := http.Get(s.URL + "/sandbox/api/deposits/J-2?merchant=" + stranger)
			if err != nil {
				return false
			}
			defer resp.Body.Close()
			return json.NewDecoder(resp.Body).Decode(&ov) == nil && len(ov.Callbacks) == 1 && len(ov.Callbacks[0].AttemptLog) == 1
		}, 5*time.Second, 10*time.Millisecond)
		assert.Equal(t, "delivered", ov.Callbacks[0].State)
		assert.Equal(t, 200, ov.Callbacks[0].AttemptLog[0].Status)
		assert.Equal(t, "INNER_ERROR", ov.Callbacks[0].AttemptLog[0].Answer)
	}
	t.Run("java-spring-fastjson", func(t *testing.T) { javaSpring(t, "observed", "") })
	// The README's other way: the document profile and the switches (it sends no
	// email or phone_number, docs/fidelity.md, observed).
	t.Run("java-spring-fastjson-document", func(t *testing.T) {
		javaSpring(t, "document", `,"dialect":{"callback_username":"on","callback_amount":"string","contact_fields":"optional"}`)
	})

	// (7) a Node form-data client: multipart, the document's fields, check_status
	// and check_withdraw_status polled by the merchant's own name.
	t.Run("node-form-data", func(t *testing.T) {
		s := startFamily(t, "document")
		var secret string
		rc := newReceiver(t, jsonHandler(func(map[string]any) string { return secret }))
		user, key, sec := s.merchant(`{"callback_url":"` + rc.URL + `/webhook","currencies":["MYR","THB"]}`)
		secret = sec
		tok := s.callJSON("multipart", "/merchant/auth", map[string]string{"username": user, "api_key": key})["auth"].(string)
		banks := s.callJSON("multipart", "/wallet/bank_list", map[string]string{"username": user, "currency": "THB"})
		bankID := banks["data"].([]any)[0].(map[string]any)["id"].(string)
		d := s.callJSON("multipart", "/merchant/generate_orders", map[string]string{"username": "john", "auth": tok, "amount": "300",
			"currency": "THB", "orderid": "FD-1", "bank_id": bankID, "email": "john@example.com", "phone_number": "66812345678"})
		require.Equal(t, true, d["status"], "%v", d)
		st := s.callJSON("multipart", "/merchant/check_status", map[string]string{"username": user, "id": "FD-1"})
		assert.Equal(t, "pending", st["order_status"])
		s.settle("deposits", user, "FD-1", map[string]string{"outcome": "fail"})
		assert.Equal(t, "fail", rc.next(t).fields["order_status"])
		wb := s.callJSON("multipart", "/wallet/withdraw_bank_list", map[string]string{"username": user, "currency": "MYR"})
		wid := wb["data"].([]any)[0].(map[string]any)["id"].(string)
		w := s.callJSON("multipart", "/merchant/withdraw_orders", map[string]string{"auth": tok, "amount": "100", "currency": "MYR",
			"orderid": "FD-P", "bank_id": wid, "holder_name": "John Doe", "account_no": "12332343432"})
		require.Equal(t, true, w["status"], "%v", w)
		s.settle("withdrawals", user, "FD-P", map[string]string{"outcome": "name_mismatch"})
		cb := rc.next(t).fields
		assert.Equal(t, "fail", cb["order_status"])
		st = s.callJSON("multipart", "/merchant/check_withdraw_status", map[string]string{"username": user, "id": "FD-P"})
		assert.Equal(t, "fail", st["order_status"])
	})

	// (8) a per-channel merchant: three accounts, one callback route, secrets keyed
	// by payment_type in the newest words.
	perChannel := func(t *testing.T, profile, dialect string, words [3]string) {
		s := startFamily(t, profile)
		secrets := map[string]string{}
		var mu sync.Mutex
		rc := newReceiver(t, jsonHandler(func(cb map[string]any) string {
			w, _ := cb["payment_type"].(string)
			mu.Lock()
			defer mu.Unlock()
			return secrets[w]
		}))
		type acct struct{ user, key, word, bankCode string }
		var accts []acct
		for i, c := range []struct{ pt, bankCode string }{{"bank", "MayBank"}, {"duitnow", "DuitNowQR"}, {"ewallet", "Tng"}} {
			c := struct{ pt, word, bankCode string }{c.pt, words[i], c.bankCode}
			u, k, sec := s.merchant(`{"username":"shop-` + c.pt + `","payment_type":"` + c.pt + `","callback_url":"` + rc.URL + `/callback"` + dialect + `}`)
			mu.Lock()
			secrets[c.word] = sec
			mu.Unlock()
			accts = append(accts, acct{u, k, c.word, c.bankCode})
		}
		for i, a := range accts {
			enc := []string{"form", "multipart"}[i%2]
			tok := s.callJSON(enc, "/merchant/auth", map[string]string{"username": a.user, "api_key": a.key})["auth"].(string)
			id := "PC-" + a.user
			d := s.callJSON(enc, "/merchant/generate_orders", map[string]string{"username": "cust", "auth": tok, "amount": "50",
				"currency": "MYR", "orderid": id, "bank_code": a.bankCode, "customer_bank_holder_name": "Ali"})
			require.Equal(t, true, d["status"], "%v", d)
			s.settle("deposits", a.user, id, map[string]string{"outcome": "completed"})
			cb := rc.next(t).fields
			assert.Equal(t, a.word, cb["payment_type"])
			// Its payouts are signed with the same account's secret.
			pid := "PCW-" + a.user
			w := s.callJSON(enc, "/merchant/withdraw_orders", map[string]string{"auth": tok, "amount": "20", "currency": "MYR", "orderid": pid,
				"bank_id": firstPayoutBank(t, s, a.user, "MYR"), "holder_name": "Ali", "account_no": "5140000001"})
			require.Equal(t, true, w["status"], "%v", w)
			s.settle("withdrawals", a.user, pid, map[string]string{"outcome": "completed"})
			assert.Equal(t, a.word, rc.next(t).fields["payment_type"])
		}
	}
	newest := [3]string{"Online Banking", "QR", "EWallet"}
	t.Run("per-channel", func(t *testing.T) { perChannel(t, "observed", "", newest) })
	// Its older code keys the secrets by the channels' names.
	t.Run("per-channel-older-words", func(t *testing.T) {
		perChannel(t, "observed", `,"dialect":{"payment_type":"channel"}`, [3]string{"bank", "duitnow", "ewallet"})
	})
	// The README's run-time example: a sandbox left in the document profile, the
	// accounts made with their own profile observed.
	t.Run("per-channel-document-sandbox", func(t *testing.T) {
		perChannel(t, "document", `,"profile":"observed"`, newest)
	})
}

// firstPayoutBank is how an integration picks a payout bank: the first id of
// withdraw_bank_list.
func firstPayoutBank(t *testing.T, s *famSandbox, user, currency string) string {
	t.Helper()
	l := s.callJSON("form", "/wallet/withdraw_bank_list", map[string]string{"username": user, "currency": currency})
	data, _ := l["data"].([]any)
	require.NotEmpty(t, data, "%v", l)
	return data[0].(map[string]any)["id"].(string)
}

// phpCurlReal runs the plain PHP cURL merchant as PHP: testdata/family-php/client.php
// makes and polls the order with PHP's curl, callback.php under `php -S` takes the
// json=<JSON> callback as that merchant's handler does.
func phpCurlReal(t *testing.T) {
	php, err := exec.LookPath("php")
	if err != nil {
		t.Skip("php is not installed (apt-get install php-cli php-curl)")
	}
	if out, err := exec.Command(php, "-r", "exit(extension_loaded('curl') ? 0 : 1);").CombinedOutput(); err != nil {
		t.Skipf("PHP's curl extension is not loaded (apt-get install php-curl): %v %s", err, out)
	}
	dir, err := filepath.Abs("testdata/family-php")
	require.NoError(t, err)
	s := startFamily(t, "document")
	port := freePort(t)
	user, key, secret := s.merchant(`{"callback_url":"http://127.0.0.1:` + port + `/callback.php","dialect":{"callback_body":"form","pending_status":"status_false"}}`)
	out := filepath.Join(t.TempDir(), "applied.jsonl")
	srv := exec.Command(php, "-S", "127.0.0.1:"+port, filepath.Join(dir, "callback.php"))
	srv.Env = append(cleanEnv(), "SECRET="+secret, "OUT="+out)
	require.NoError(t, srv.Start())
	t.Cleanup(func() { _ = srv.Process.Kill(); _ = srv.Wait() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, time.Second)
		if err == nil {
			c.Close()
			break
		}
		require.True(t, time.Now().Before(deadline), "php -S did not listen within 10s")
		time.Sleep(20 * time.Millisecond) // polling for php -S to listen, bounded above
	}
	client := func(mode string) string {
		t.Helper()
		cmd := exec.Command(php, filepath.Join(dir, "client.php"), s.URL, user, key, mode, "PHPREAL-1")
		cmd.Env = cleanEnv()
		b, err := cmd.Output()
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		require.NoError(t, err, "php client.php %s: %s", mode, stderr)
		return strings.TrimSpace(string(b))
	}
	assert.Equal(t, "pending", client("order"))
	s.settle("deposits", user, "PHPREAL-1", map[string]string{"outcome": "completed"})
	var line string
	for deadline := time.Now().Add(10 * time.Second); line == ""; {
		b, _ := os.ReadFile(out)
		line = strings.TrimSpace(string(b))
		if line == "" {
			require.True(t, time.Now().Before(deadline), "no callback reached callback.php within 10s")
			time.Sleep(20 * time.Millisecond) // polling the handler's file, bounded above
		}
	}
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(line), &got), line)
	assert.Equal(t, true, got["applied"], "callback.php: %s", line)
	assert.Equal(t, "completed", got["order_status"])
	assert.Equal(t, "completed", client("status"))
}
