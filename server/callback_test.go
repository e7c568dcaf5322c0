package server_test

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/config"
	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/internal/inproc"
	"github.com/vpay88/vpay88-sandbox/store"
)

// recorder is the shared callback receiver (inproc.Recorder) as the tests use it: a
// merchant endpoint on 127.0.0.1 whose respond hook chooses the n-th answer. URL is
// the Recorder's URL(), as a field for the many withCallback(rc.URL).
type recorder struct {
	*inproc.Recorder
	URL string
}

// acknowledge answers 200 "success" to anything, what most merchants answer.
func acknowledge(_ int, w http.ResponseWriter, _ *http.Request, _ <-chan struct{}) {
	_, _ = io.WriteString(w, "success")
}

// newRecorder starts a recorder (respond nil: acknowledge everything); it closes with
// the test, releasing the handlers that hang until then.
func newRecorder(tb testing.TB, respond inproc.Respond) *recorder {
	tb.Helper()
	return newRecorderAt(tb, "", respond)
}

// newRecorderAt starts a recorder on a fixed address (a restart test brings a dead
// callback URL back to life).
func newRecorderAt(tb testing.TB, addr string, respond inproc.Respond) *recorder {
	tb.Helper()
	return newRecorderWith(tb, inproc.RecorderOptions{Addr: addr, Respond: respond})
}

// newRecorderWith starts a recorder with the given options (a clock that stamps the
// arrivals…); Respond nil acknowledges everything.
func newRecorderWith(tb testing.TB, o inproc.RecorderOptions) *recorder {
	tb.Helper()
	if o.Respond == nil {
		o.Respond = acknowledge
	}
	r, err := inproc.NewRecorder(o)
	require.NoError(tb, err)
	tb.Cleanup(r.Close)
	return &recorder{Recorder: r, URL: r.URL()}
}

// wait returns the next n requests, failing the test if they do not come in time.
func (rc *recorder) wait(tb testing.TB, n int, within time.Duration) []inproc.Delivery {
	tb.Helper()
	ds, err := rc.Next(n, within)
	require.NoError(tb, err, "callbacks missing")
	return ds
}

// md5hex is the token a merchant computes: md5(secret + order id), written out here
// rather than calling gateway.Token so that the test checks the formula itself.
func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// withCallback points the default merchant at a receiver.
func withCallback(u string) func(*config.Config) {
	return func(c *config.Config) { c.Merchants[0].CallbackURL = u }
}

// noAutoWithdrawal keeps withdrawals pending until a test settles them.
func noAutoWithdrawal(c *config.Config) { c.WithdrawalDelay = config.Duration(time.Hour) }

// attemptView, deliveryJSON and orderJSON decode GET /sandbox/api/{kind}s/{id}.
type attemptView struct {
	N         int       `json:"n"`
	Time      time.Time `json:"time"`
	URL       string    `json:"url"`
	Status    int       `json:"http_status"`
	LatencyMS float64   `json:"latency_ms"`
	Answer    string    `json:"answer"`
	Error     string    `json:"error"`
}

type deliveryJSON struct {
	ID         uint64          `json:"id"`
	State      string          `json:"state"`
	Attempts   int             `json:"attempts"`
	Note       string          `json:"note"`
	URL        string          `json:"url"`
	Body       json.RawMessage `json:"body"`
	AttemptLog []attemptView   `json:"attempt_log"`
}

type orderJSON struct {
	OrderID   string         `json:"order_id"`
	Status    string         `json:"status"`
	Charge    gateway.Money  `json:"charge"`
	Name      string         `json:"name"`
	Remarks   string         `json:"remarks"`
	BankName  string         `json:"bank_name"`
	BankCode  string         `json:"bank_code"`
	Callbacks []deliveryJSON `json:"callbacks"`
}

// adminGet reads an order through the admin API.
func (e *testEnv) adminGet(tb testing.TB, kind gateway.Kind, id string) (int, orderJSON, []byte) {
	tb.Helper()
	code, v, b, err := e.fetchOrder(kind, id)
	require.NoError(tb, err, "body %s", b)
	return code, v, b
}

// fetchOrder is adminGet for a poll's goroutine: it returns errors instead of failing.
func (e *testEnv) fetchOrder(kind gateway.Kind, id string) (int, orderJSON, []byte, error) {
	var v orderJSON
	resp, err := http.Get(e.URL + "/sandbox/api/" + string(kind) + "s/" + url.PathEscape(id))
	if err != nil {
		return 0, v, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode == http.StatusOK {
		err = json.Unmarshal(b, &v)
	}
	return resp.StatusCode, v, b, err
}

// adminOrder reads an order through the admin API, requiring it to exist.
func (e *testEnv) adminOrder(tb testing.TB, kind gateway.Kind, id string) orderJSON {
	tb.Helper()
	code, v, b := e.adminGet(tb, kind, id)
	require.Equal(tb, http.StatusOK, code, "body %s", b)
	return v
}

// settle calls the admin settle endpoint and returns status, content type and body.
func (e *testEnv) settle(tb testing.TB, kind gateway.Kind, id string, fields map[string]string) (int, string, []byte) {
	tb.Helper()
	v := url.Values{}
	for k, val := range fields {
		v.Set(k, val)
	}
	resp, err := http.Post(e.URL+"/sandbox/api/"+string(kind)+"s/"+url.PathEscape(id)+"/settle",
		"application/x-www-form-urlencoded", strings.NewReader(v.Encode()))
	require.NoError(tb, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(tb, err)
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}

// mustSettle settles and requires 200.
func (e *testEnv) mustSettle(tb testing.TB, kind gateway.Kind, id string, fields map[string]string) {
	tb.Helper()
	code, _, b := e.settle(tb, kind, id, fields)
	require.Equal(tb, http.StatusOK, code, "settle %s %s: %s", kind, id, b)
}

// waitOrder polls the admin API until cond holds (bounded in time).
func (e *testEnv) waitOrder(tb testing.TB, kind gateway.Kind, id string, within time.Duration, cond func(orderJSON) bool) orderJSON {
	tb.Helper()
	var mu sync.Mutex
	var last orderJSON
	ok := assert.Eventually(tb, func() bool {
		code, v, _, err := e.fetchOrder(kind, id)
		if err != nil || code != http.StatusOK {
			return false
		}
		mu.Lock()
		last = v
		mu.Unlock()
		return cond(v)
	}, within, 20*time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if !ok {
		b, _ := json.MarshalIndent(last, "", "  ")
		require.FailNowf(tb, "order did not reach the expected state", "%s %s after %s:\n%s", kind, id, within, b)
	}
	return last
}

// available returns the default merchant's available and reserved balance in a currency.
func (e *testEnv) available(tb testing.TB, currency string) (gateway.Money, gateway.Money) {
	tb.Helper()
	bs, err := e.Store.Balances(testMerchant)
	require.NoError(tb, err)
	for _, b := range bs {
		if b.Currency == currency {
			return b.Available, b.Reserved
		}
	}
	require.FailNow(tb, "no balance for "+currency)
	return 0, 0
}

// checkoutKey splits a p_url into the page path and its key.
func checkoutKey(tb testing.TB, pURL string) (path, key string) {
	tb.Helper()
	u, err := url.Parse(pURL)
	require.NoError(tb, err)
	return u.Path, u.Query().Get("key")
}

// noRedirect is a client that shows redirects instead of following them.
var noRedirect = &http.Client{
	Timeout:       10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

func TestCallbackBodies(t *testing.T) {
	t.Parallel()
	rc := newRecorder(t, nil)
	e := MustOpenEnv(t, withCallback(rc.URL), noAutoWithdrawal)

	t.Run("DepositCompletedAdmin", func(t *testing.T) {
		before, _ := e.available(t, "MYR")
		e.Deposit(t, "CB-DEP-1", nil)
		e.mustSettle(t, gateway.KindDeposit, "CB-DEP-1", map[string]string{"outcome": "completed", "name": "John Doe"})
		h := rc.wait(t, 1, 5*time.Second)[0]
		// Key order, number formats and types are the vendor's "callback接口" example's.
		assert.Equal(t, `{"order_id":"CB-DEP-1","amount":100.0000,"currency":"MYR","order_status":"completed","status":true,`+
			`"charge":"3.0000","token":"`+md5hex(testSecret+"CB-DEP-1")+`","name":"John Doe","type":"deposit"}`, string(h.Body))
		assert.Equal(t, "application/json", h.Header.Get("Content-Type"))
		after, _ := e.available(t, "MYR")
		assert.Equal(t, gateway.MustMoney("97"), after-before, "a completed deposit credits amount minus charge")
		v := e.waitOrder(t, gateway.KindDeposit, "CB-DEP-1", 2*time.Second, func(v orderJSON) bool {
			return len(v.Callbacks) == 1 && v.Callbacks[0].State == store.DeliveryDelivered
		})
		require.Len(t, v.Callbacks[0].AttemptLog, 1)
		a := v.Callbacks[0].AttemptLog[0]
		assert.Equal(t, http.StatusOK, a.Status)
		assert.Equal(t, "success", a.Answer)
		assert.Equal(t, rc.URL, a.URL)
		assert.Empty(t, a.Error)
		assert.Greater(t, a.LatencyMS, 0.0)
	})

	t.Run("DepositCompletedCheckout", func(t *testing.T) {
		m := e.Deposit(t, "CB-DEP-2", map[string]string{"amount": "300", "currency": "VND"})
		path, key := checkoutKey(t, m["p_url"].(string))
		resp, err := noRedirect.PostForm(e.URL+path, url.Values{"key": {key}, "action": {"pay"}, "name": {"john doe"}})
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusSeeOther, resp.StatusCode)
		assert.Contains(t, resp.Header.Get("Location"), "/checkout/order-received/")
		h := rc.wait(t, 1, 5*time.Second)[0]
		// The vendor's own example: 300 at 3% is "9.0000".
		assert.Equal(t, `{"order_id":"CB-DEP-2","amount":300.0000,"currency":"VND","order_status":"completed","status":true,`+
			`"charge":"9.0000","token":"`+md5hex(testSecret+"CB-DEP-2")+`","name":"john doe","type":"deposit"}`, string(h.Body))
	})

	t.Run("DepositFail", func(t *testing.T) {
		before, _ := e.available(t, "MYR")
		e.Deposit(t, "Example_123", map[string]string{"amount": "25"})
		e.mustSettle(t, gateway.KindDeposit, "Example_123", map[string]string{"outcome": "fail", "name": "Ali"})
		h := rc.wait(t, 1, 5*time.Second)[0]
		// The vendor's fail example: no name, token before charge, two decimals.
		assert.Equal(t, `{"order_id":"Example_123","amount":25.0000,"currency":"MYR","order_status":"fail","status":true,`+
			`"token":"`+md5hex(testSecret+"Example_123")+`","charge":"0.00","type":"deposit"}`, string(h.Body))
		after, _ := e.available(t, "MYR")
		assert.Equal(t, before, after, "a failed deposit credits nothing")
	})

	t.Run("WithdrawalCompleted", func(t *testing.T) {
		before, _ := e.available(t, "MYR")
		e.Withdraw(t, "Testpayout008", map[string]string{"amount": "1"})
		held, reserved := e.available(t, "MYR")
		assert.Equal(t, gateway.MustMoney("6"), before-held, "an accepted withdrawal reserves amount plus fee")
		assert.Equal(t, gateway.MustMoney("6"), reserved)
		e.mustSettle(t, gateway.KindWithdrawal, "Testpayout008", map[string]string{"outcome": "completed"})
		h := rc.wait(t, 1, 5*time.Second)[0]
		assert.Equal(t, `{"order_id":"Testpayout008","amount":1,"currency":"MYR","order_status":"completed","status":true,`+
			`"charge":"5.00","token":"`+md5hex(testSecret+"Testpayout008")+`","name":"John Doe","type":"withdrawal","remarks":"Success"}`, string(h.Body))
		after, reserved := e.available(t, "MYR")
		assert.Equal(t, held, after, "a completed withdrawal spends the reservation")
		assert.Equal(t, gateway.Money(0), reserved)
	})

	t.Run("WithdrawalFail", func(t *testing.T) {
		before, _ := e.available(t, "MYR")
		e.Withdraw(t, "CB-WD-FAIL", map[string]string{"amount": "50"})
		e.mustSettle(t, gateway.KindWithdrawal, "CB-WD-FAIL", map[string]string{"outcome": "fail"})
		h := rc.wait(t, 1, 5*time.Second)[0]
		assert.Equal(t, `{"order_id":"CB-WD-FAIL","amount":50,"currency":"MYR","order_status":"fail","status":true,`+
			`"charge":"0","token":"`+md5hex(testSecret+"CB-WD-FAIL")+`","name":"John Doe","type":"withdrawal","remarks":"Transaction Failed"}`, string(h.Body))
		after, reserved := e.available(t, "MYR")
		assert.Equal(t, before, after, "a failed withdrawal releases its reservation")
		assert.Equal(t, gateway.Money(0), reserved)
	})

	t.Run("NameMismatch", func(t *testing.T) {
		before, _ := e.available(t, "MYR")
		e.Withdraw(t, "CB-WD-NM", nil)
		e.mustSettle(t, gateway.KindWithdrawal, "CB-WD-NM", map[string]string{"outcome": "name_mismatch"})
		h := rc.wait(t, 1, 5*time.Second)[0]
		// The vendor's example: name is the holder_name sent, remarks put the bank's
		// record first ("MR SUK THA != SUK THAWAR").
		assert.Equal(t, `{"order_id":"CB-WD-NM","amount":100,"currency":"MYR","order_status":"fail","status":true,`+
			`"charge":"0","token":"`+md5hex(testSecret+"CB-WD-NM")+`","name":"John Doe","type":"withdrawal",`+
			`"remarks":"Account Holder Name Mismatch (MR JOHN != John Doe)"}`, string(h.Body))
		after, _ := e.available(t, "MYR")
		assert.Equal(t, before, after, "a name mismatch fails the payout and releases it")
	})

	t.Run("NameMismatchRecordName", func(t *testing.T) {
		e.Withdraw(t, "CB-WD-NM2", map[string]string{"holder_name": "SUK THAWAR"})
		e.mustSettle(t, gateway.KindWithdrawal, "CB-WD-NM2", map[string]string{"outcome": "name_mismatch"})
		var cb map[string]any
		require.NoError(t, json.Unmarshal(rc.wait(t, 1, 5*time.Second)[0].Body, &cb))
		assert.Equal(t, "Account Holder Name Mismatch (MR SUK THA != SUK THAWAR)", cb["remarks"], "the vendor's own example")
		assert.Equal(t, "SUK THAWAR", cb["name"])
	})
}

// TestCallbackRetries covers receivers that fail: each attempt is recorded, retries
// follow the schedule, and the delivery ends delivered or failed.
func TestCallbackRetries(t *testing.T) {
	t.Parallel()
	// The former fast schedule: five attempts within 1.5 s, so that the tests of a
	// delivery that ends failed stay quick (config.FastSchedule now lasts 34 s).
	sched := []time.Duration{0, 100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond}
	short := func(c *config.Config) {
		c.Callbacks.Schedule = make([]config.Duration, len(sched))
		for i, d := range sched {
			c.Callbacks.Schedule[i] = config.Duration(d)
		}
	}
	// checkSpacing asserts that attempt i+1 started at least schedule[i+1] after attempt i.
	checkSpacing := func(t *testing.T, log []attemptView) {
		for i := 1; i < len(log); i++ {
			gap := log[i].Time.Sub(log[i-1].Time)
			assert.GreaterOrEqual(t, gap, sched[i], "attempt %d came %s after attempt %d; schedule says %s", i+1, gap, i, sched[i])
		}
		for i, a := range log {
			assert.Equal(t, i+1, a.N)
		}
	}

	t.Run("Status500ThenOK", func(t *testing.T) {
		t.Parallel()
		rc := newRecorder(t, func(n int, w http.ResponseWriter, _ *http.Request, _ <-chan struct{}) {
			if n <= 2 {
				http.Error(w, "database down", http.StatusInternalServerError)
				return
			}
			_, _ = io.WriteString(w, "OK")
		})
		e := MustOpenEnv(t, withCallback(rc.URL), short)
		e.Deposit(t, "RT-500", nil)
		e.mustSettle(t, gateway.KindDeposit, "RT-500", map[string]string{"outcome": "completed"})
		hits := rc.wait(t, 3, 5*time.Second)
		assert.Equal(t, hits[0].Body, hits[2].Body, "every attempt sends the same body")
		v := e.waitOrder(t, gateway.KindDeposit, "RT-500", 3*time.Second, func(v orderJSON) bool {
			return len(v.Callbacks) == 1 && v.Callbacks[0].State == store.DeliveryDelivered
		})
		log := v.Callbacks[0].AttemptLog
		require.Len(t, log, 3)
		assert.Equal(t, []int{500, 500, 200}, []int{log[0].Status, log[1].Status, log[2].Status})
		assert.Equal(t, "database down\n", log[0].Answer)
		assert.Equal(t, "OK", log[2].Answer)
		checkSpacing(t, log)
		// Delivered is final: no attempt after the acknowledged one.
		assert.Equal(t, 3, v.Callbacks[0].Attempts)
		assert.Equal(t, 3, rc.Count())
	})

	t.Run("Status500UntilFailed", func(t *testing.T) {
		t.Parallel()
		rc := newRecorder(t, func(_ int, w http.ResponseWriter, _ *http.Request, _ <-chan struct{}) {
			w.WriteHeader(http.StatusBadGateway)
		})
		e := MustOpenEnv(t, withCallback(rc.URL), short)
		e.Deposit(t, "RT-FAIL", nil)
		e.mustSettle(t, gateway.KindDeposit, "RT-FAIL", map[string]string{"outcome": "fail"})
		rc.wait(t, len(sched), 6*time.Second)
		v := e.waitOrder(t, gateway.KindDeposit, "RT-FAIL", 3*time.Second, func(v orderJSON) bool {
			return len(v.Callbacks) == 1 && v.Callbacks[0].State == store.DeliveryFailed
		})
		assert.Len(t, v.Callbacks[0].AttemptLog, len(sched), "one attempt per schedule entry")
		assert.Equal(t, len(sched), v.Callbacks[0].Attempts)
		for _, a := range v.Callbacks[0].AttemptLog {
			assert.Equal(t, http.StatusBadGateway, a.Status)
		}
		checkSpacing(t, v.Callbacks[0].AttemptLog)
		assert.Equal(t, len(sched), rc.Count(), "failed is final: no attempt after the schedule's last")
	})

	t.Run("Timeout", func(t *testing.T) {
		t.Parallel()
		rc := newRecorder(t, func(n int, w http.ResponseWriter, r *http.Request, release <-chan struct{}) {
			if n <= 2 {
				select { // hang until the test ends (or the sandbox gives up)
				case <-release:
				case <-r.Context().Done():
				}
				return
			}
			_, _ = io.WriteString(w, "success")
		})
		e := MustOpenEnv(t, withCallback(rc.URL), short, func(c *config.Config) { c.Callbacks.Timeout = config.Duration(200 * time.Millisecond) })
		e.Deposit(t, "RT-SLOW", nil)
		e.mustSettle(t, gateway.KindDeposit, "RT-SLOW", map[string]string{"outcome": "completed"})
		rc.wait(t, 3, 5*time.Second)
		v := e.waitOrder(t, gateway.KindDeposit, "RT-SLOW", 3*time.Second, func(v orderJSON) bool {
			return len(v.Callbacks) == 1 && v.Callbacks[0].State == store.DeliveryDelivered
		})
		log := v.Callbacks[0].AttemptLog
		require.Len(t, log, 3)
		for _, a := range log[:2] {
			assert.Equal(t, 0, a.Status)
			assert.Contains(t, a.Error, "Timeout")
			assert.GreaterOrEqual(t, a.LatencyMS, 190.0, "the attempt waited for the timeout")
			assert.Less(t, a.LatencyMS, 1500.0, "and not much longer")
		}
		assert.Equal(t, http.StatusOK, log[2].Status)
		checkSpacing(t, log)
	})

	t.Run("ConnectionClosed", func(t *testing.T) {
		t.Parallel()
		rc := newRecorder(t, func(n int, w http.ResponseWriter, _ *http.Request, _ <-chan struct{}) {
			if n == 1 {
				conn, _, err := http.NewResponseController(w).Hijack()
				if err == nil {
					conn.Close() // no status line at all
				}
				return
			}
			w.WriteHeader(http.StatusNoContent) // any 2xx acknowledges, whatever the body
		})
		e := MustOpenEnv(t, withCallback(rc.URL), short)
		e.Deposit(t, "RT-HANG", nil)
		e.mustSettle(t, gateway.KindDeposit, "RT-HANG", map[string]string{"outcome": "completed"})
		rc.wait(t, 2, 5*time.Second)
		v := e.waitOrder(t, gateway.KindDeposit, "RT-HANG", 3*time.Second, func(v orderJSON) bool {
			return len(v.Callbacks) == 1 && v.Callbacks[0].State == store.DeliveryDelivered
		})
		log := v.Callbacks[0].AttemptLog
		require.Len(t, log, 2)
		assert.Equal(t, 0, log[0].Status)
		assert.NotEmpty(t, log[0].Error, "a closed connection is recorded as an error")
		assert.Equal(t, http.StatusNoContent, log[1].Status)
		assert.Empty(t, log[1].Error)
		checkSpacing(t, log)
	})

	t.Run("ConnectionRefused", func(t *testing.T) {
		t.Parallel()
		e := MustOpenEnv(t, withCallback(deadURL(t)), short)
		e.Deposit(t, "RT-DEAD", nil)
		e.mustSettle(t, gateway.KindDeposit, "RT-DEAD", map[string]string{"outcome": "completed"})
		v := e.waitOrder(t, gateway.KindDeposit, "RT-DEAD", 6*time.Second, func(v orderJSON) bool {
			return len(v.Callbacks) == 1 && v.Callbacks[0].State == store.DeliveryFailed
		})
		require.Len(t, v.Callbacks[0].AttemptLog, len(sched))
		assert.Contains(t, v.Callbacks[0].AttemptLog[0].Error, "connection refused")
	})
}

// deadURL returns a callback URL on 127.0.0.1 where nothing listens.
func deadURL(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(tb, err)
	addr := l.Addr().String()
	require.NoError(tb, l.Close())
	return "http://" + addr
}

// TestCallbackResumesAfterRestart: a callback that could not be delivered before the
// sandbox stopped is delivered by the next run over the same bbolt file.
func TestCallbackResumesAfterRestart(t *testing.T) {
	t.Parallel()
	dead := deadURL(t)
	u, err := url.Parse(dead)
	require.NoError(t, err)
	// A schedule long enough that the first run cannot use it up before it stops.
	slow := func(c *config.Config) {
		c.Callbacks.Schedule = []config.Duration{0, config.Duration(300 * time.Millisecond), config.Duration(300 * time.Millisecond), config.Duration(300 * time.Millisecond)}
	}
	path := t.TempDir() + "/restart.db"
	e := MustOpenEnvAt(t, path, withCallback(dead), slow)
	e.Deposit(t, "RESTART-1", nil)
	e.mustSettle(t, gateway.KindDeposit, "RESTART-1", map[string]string{"outcome": "completed", "name": "Siti"})
	v := e.waitOrder(t, gateway.KindDeposit, "RESTART-1", 3*time.Second, func(v orderJSON) bool {
		return len(v.Callbacks) == 1 && len(v.Callbacks[0].AttemptLog) >= 1
	})
	require.Equal(t, store.DeliveryPending, v.Callbacks[0].State)
	e.Close()

	// The merchant's endpoint comes back on the same address, then the sandbox restarts.
	rc := newRecorderAt(t, u.Host, nil)
	require.Equal(t, dead, rc.URL)
	e2 := MustOpenEnvAt(t, path, withCallback(rc.URL), slow)
	h := rc.wait(t, 1, 5*time.Second)[0]
	assert.Equal(t, `{"order_id":"RESTART-1","amount":100.0000,"currency":"MYR","order_status":"completed","status":true,`+
		`"charge":"3.0000","token":"`+md5hex(testSecret+"RESTART-1")+`","name":"Siti","type":"deposit"}`, string(h.Body))
	v = e2.waitOrder(t, gateway.KindDeposit, "RESTART-1", 3*time.Second, func(v orderJSON) bool {
		return len(v.Callbacks) == 1 && v.Callbacks[0].State == store.DeliveryDelivered
	})
	log := v.Callbacks[0].AttemptLog
	require.GreaterOrEqual(t, len(log), 2)
	assert.Contains(t, log[0].Error, "connection refused", "the first run's attempt is kept")
	assert.Equal(t, http.StatusOK, log[len(log)-1].Status)
}

// TestAdminSettleErrors: the admin settle and resend endpoints answer JSON errors and
// never change a settled order.
func TestAdminSettleErrors(t *testing.T) {
	t.Parallel()
	rc := newRecorder(t, nil)
	e := MustOpenEnv(t, withCallback(rc.URL), noAutoWithdrawal)
	e.Deposit(t, "ADM-1", nil)
	e.mustSettle(t, gateway.KindDeposit, "ADM-1", map[string]string{"outcome": "completed", "name": "Amy"})
	first := rc.wait(t, 1, 5*time.Second)[0]
	bal, _ := e.available(t, "MYR")

	isJSONError := func(t *testing.T, ct string, b []byte) {
		t.Helper()
		assert.Contains(t, ct, "application/json")
		var m map[string]any
		require.NoError(t, json.Unmarshal(b, &m), "body %s", b)
		assert.NotEmpty(t, m["error"], "body %s", b)
	}

	t.Run("SettleTwice", func(t *testing.T) {
		for _, outcome := range []string{"fail", "completed"} {
			code, ct, b := e.settle(t, gateway.KindDeposit, "ADM-1", map[string]string{"outcome": outcome, "name": "Other"})
			assert.Equal(t, http.StatusConflict, code, "body %s", b)
			isJSONError(t, ct, b)
		}
		v := e.adminOrder(t, gateway.KindDeposit, "ADM-1")
		assert.Equal(t, "completed", v.Status)
		assert.Equal(t, "Amy", v.Name)
		assert.Equal(t, gateway.MustMoney("3"), v.Charge)
		assert.Len(t, v.Callbacks, 1, "no second callback")
		now, _ := e.available(t, "MYR")
		assert.Equal(t, bal, now, "no second credit")
	})

	t.Run("UnknownOrder", func(t *testing.T) {
		code, ct, b := e.settle(t, gateway.KindDeposit, "NO-SUCH", map[string]string{"outcome": "completed"})
		assert.Equal(t, http.StatusNotFound, code)
		isJSONError(t, ct, b)
		code, ct, b = e.settle(t, gateway.KindWithdrawal, "ADM-1", map[string]string{"outcome": "completed"})
		assert.Equal(t, http.StatusNotFound, code, "deposits and withdrawals are separate namespaces")
		isJSONError(t, ct, b)
		code, _, b = e.adminGet(t, gateway.KindDeposit, "NO-SUCH")
		assert.Equal(t, http.StatusNotFound, code)
		isJSONError(t, "application/json", b)
	})

	t.Run("BadOutcome", func(t *testing.T) {
		e.Deposit(t, "ADM-2", nil)
		for _, f := range []map[string]string{
			{"outcome": "paid"},
			{},
			{"outcome": "name_mismatch"}, // withdrawals only
			{"outcome": "completed", "charge": "abc"},
		} {
			code, ct, b := e.settle(t, gateway.KindDeposit, "ADM-2", f)
			assert.Equal(t, http.StatusBadRequest, code, "fields %v: body %s", f, b)
			isJSONError(t, ct, b)
		}
		assert.Equal(t, "pending", e.adminOrder(t, gateway.KindDeposit, "ADM-2").Status, "a refused settle changes nothing")
	})

	t.Run("Resend", func(t *testing.T) {
		resp, err := http.Post(e.URL+"/sandbox/api/deposits/ADM-1/callback", "application/x-www-form-urlencoded", nil)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusAccepted, resp.StatusCode)
		again := rc.wait(t, 1, 5*time.Second)[0]
		assert.Equal(t, string(first.Body), string(again.Body), "a resend carries the same body")
		v := e.waitOrder(t, gateway.KindDeposit, "ADM-1", 2*time.Second, func(v orderJSON) bool {
			return len(v.Callbacks) == 2 && v.Callbacks[1].State == store.DeliveryDelivered
		})
		assert.Equal(t, "resend", v.Callbacks[1].Note)

		e.Deposit(t, "ADM-3", nil)
		resp, err = http.Post(e.URL+"/sandbox/api/deposits/ADM-3/callback", "application/x-www-form-urlencoded", nil)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusConflict, resp.StatusCode, "a pending order has no callback to resend")
	})
}

// TestSlowReceiverDoesNotSlowAPI: with a receiver that never answers holding its whole
// share of the workers, the vendor API and the admin API still answer at once.
func TestSlowReceiverDoesNotSlowAPI(t *testing.T) {
	t.Parallel()
	rc := newRecorder(t, func(_ int, _ http.ResponseWriter, r *http.Request, release <-chan struct{}) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	e := MustOpenEnv(t, withCallback(rc.URL), func(c *config.Config) { c.Callbacks.Timeout = config.Duration(10 * time.Second) })
	// One receiver holds at most its per-host share of the workers; fill that share
	// and queue two more.
	workers := e.Cfg.Callbacks.PerHostLimit()
	for i := 0; i < workers+2; i++ {
		id := "SLOW-" + string(rune('A'+i))
		e.Deposit(t, id, nil)
		start := time.Now()
		e.mustSettle(t, gateway.KindDeposit, id, map[string]string{"outcome": "completed"})
		assert.Less(t, time.Since(start), time.Second, "settling does not wait for the callback")
	}
	rc.wait(t, workers, 5*time.Second) // the receiver's whole share is now blocked on it

	auth := e.Auth(t)
	start := time.Now()
	m := e.Call(t, "/merchant/generate_orders", map[string]string{"username": "john", "auth": auth, "amount": "100",
		"currency": "MYR", "orderid": "SLOW-API", "email": "success@example.com", "phone_number": "601012456789"})
	took := time.Since(start)
	assert.Equal(t, true, m["status"], "%v", m)
	assert.Less(t, took, time.Second, "generate_orders (settling at once by magic email) took %s", took)
	st := e.Call(t, "/merchant/check_status", map[string]string{"username": testMerchant, "id": "SLOW-API"})
	assert.Equal(t, "completed", st["order_status"])
}

// TestCallbackOnceUnderLoad: with many deliveries due at once and every worker busy, a
// receiver that always acknowledges gets each callback exactly once. (The dispatcher
// once re-sent a stale copy from its due list when the first attempt finished while
// the loop waited for a worker.)
func TestCallbackOnceUnderLoad(t *testing.T) {
	t.Parallel()
	const n = 400
	rc := newRecorder(t, nil)
	e := MustOpenEnv(t, withCallback(rc.URL), func(c *config.Config) { c.Callbacks.Concurrency = 32 })
	auth := e.Auth(t)
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("LOAD-%04d", i)
	}
	runParallel(t, 16, ids, func(id string) error {
		resp, err := http.PostForm(e.URL+"/merchant/generate_orders", url.Values{"username": {"john"}, "auth": {auth},
			"amount": {"100"}, "currency": {"MYR"}, "orderid": {id}, "email": {"john@example.com"}, "phone_number": {"601012456789"}})
		if err != nil {
			return err
		}
		resp.Body.Close()
		return nil
	})
	runParallel(t, 16, ids, func(id string) error {
		resp, err := http.PostForm(e.URL+"/sandbox/api/deposits/"+id+"/settle", url.Values{"outcome": {"completed"}})
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("settle %s: %d", id, resp.StatusCode)
		}
		return nil
	})
	seen := map[string]int{}
	for _, h := range rc.wait(t, n, 30*time.Second) {
		var cb struct {
			OrderID string `json:"order_id"`
		}
		require.NoError(t, json.Unmarshal(h.Body, &cb))
		seen[cb.OrderID]++
	}
	assert.Len(t, seen, n)
	for id, c := range seen {
		assert.Equal(t, 1, c, "order %s delivered %d times", id, c)
	}
	// Every delivery is delivered (final) at its first attempt: none is due again, and
	// none was sent twice, which would show as a second attempt in its log.
	e.waitTotal(t, testMerchant, store.DeliveryDelivered, n, 10*time.Second)
	page, err := e.Store.ListDeliveries(store.DeliveryFilter{Merchant: testMerchant, Limit: 2 * n})
	require.NoError(t, err)
	require.Len(t, page.Deliveries, n)
	for _, d := range page.Deliveries {
		assert.Equal(t, 1, d.Attempts, "order %s: %d attempts", d.OrderID, d.Attempts)
	}
	e.Close() // waits for attempts in flight
	assert.Equal(t, n, rc.Count(), "no request beyond one per order")
}
