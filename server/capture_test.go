package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/config"
	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/internal/inproc"
	"github.com/vpay88/vpay88-sandbox/server"
)

// captureJSON decodes one entry of GET /sandbox/api/captures.
type captureJSON struct {
	ID         uint64      `json:"id"`
	Name       string      `json:"name"`
	Time       time.Time   `json:"time"`
	Method     string      `json:"method"`
	Host       string      `json:"host"`
	RemoteAddr string      `json:"remote_addr"`
	Headers    http.Header `json:"headers"`
	Body       string      `json:"body"`
	BodyBytes  int         `json:"body_bytes"`
	Truncated  bool        `json:"truncated"`
	Shape      string      `json:"shape"`
	Merchant   string      `json:"merchant"`
	OK         bool        `json:"ok"`
	// Dialect and DialectSnippet: the switches the body shows (issue 19).
	Dialect        map[string]string `json:"dialect"`
	DialectSnippet string            `json:"dialect_snippet"`
	Findings       []struct {
		Check  string `json:"check"`
		OK     bool   `json:"ok"`
		Detail string `json:"detail"`
	} `json:"findings"`
	Forward *struct {
		URL        string `json:"url"`
		HTTPStatus int    `json:"http_status"`
		Answer     string `json:"answer"`
		Error      string `json:"error"`
	} `json:"forward"`
}

// failing names the checks that did not pass.
func (c captureJSON) failing() []string {
	out := []string{}
	for _, f := range c.Findings {
		if !f.OK {
			out = append(out, f.Check)
		}
	}
	return out
}

func (c captureJSON) finding(check string) string {
	for _, f := range c.Findings {
		if f.Check == check {
			return f.Detail
		}
	}
	return ""
}

// openCaptureEnv starts a sandbox that listens "on loopback only" (so the Host check
// is on) with the given forward URL.
func openCaptureEnv(t *testing.T, forwardTo string) *testEnv {
	t.Helper()
	return openEnv(t, inproc.Options{Changes: []func(*config.Config){noAutoWithdrawal}, Server: func(o *server.Options) {
		o.LoopbackOnly = true
		o.ForwardTo = forwardTo
	}})
}

// postCapture posts body to /sandbox/capture/{name} as a real gateway would reach it:
// through a tunnel (a foreign Host), server to server (no Origin), as JSON.
func postCapture(t *testing.T, e *testEnv, name string, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.URL+"/sandbox/capture/"+name, bytes.NewReader(body))
	require.NoError(t, err)
	req.Host = "abc123.ngrok-free.app"
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "GuzzleHttp/7")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func listCaptures(t *testing.T, e *testEnv, query string) (int, []captureJSON) {
	t.Helper()
	resp, err := http.Get(e.URL + "/sandbox/api/captures?" + query)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var v struct {
		Total    int           `json:"total"`
		Captures []captureJSON `json:"captures"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&v))
	return v.Total, v.Captures
}

// settledBody settles an order and returns the callback the sandbox builds for it,
// signed with the default merchant's secret.
func settledBody(t *testing.T, e *testEnv, kind gateway.Kind, id, outcome string) []byte {
	t.Helper()
	if kind == gateway.KindDeposit {
		e.Deposit(t, id, nil)
	} else {
		e.Withdraw(t, id, nil)
	}
	e.mustSettle(t, kind, id, map[string]string{"outcome": outcome})
	o, err := e.Store.Order(kind, testMerchant, id)
	require.NoError(t, err)
	return gateway.CallbackBody(o, testSecret)
}

// TestCaptureRealCallback: the three bodies the sandbox sends, posted through a tunnel
// Host, are answered "success" and recorded with every check ok and the merchant whose
// secret verified them.
func TestCaptureRealCallback(t *testing.T) {
	e := openCaptureEnv(t, "")
	bodies := map[string][]byte{
		"deposit":      settledBody(t, e, gateway.KindDeposit, "CAP-D1", "completed"),
		"deposit_fail": settledBody(t, e, gateway.KindDeposit, "CAP-D2", "fail"),
		"withdrawal":   settledBody(t, e, gateway.KindWithdrawal, "CAP-W1", "completed"),
	}
	for _, shape := range []string{"deposit", "deposit_fail", "withdrawal"} {
		code, answer := postCapture(t, e, "uat", bodies[shape])
		require.Equal(t, http.StatusOK, code, "the Host check must not refuse a tunnel: %s", answer)
		assert.Equal(t, "success", answer)
	}
	total, caps := listCaptures(t, e, "name=uat")
	require.Equal(t, 3, total)
	for i, shape := range []string{"withdrawal", "deposit_fail", "deposit"} { // newest first
		c := caps[i]
		assert.Equal(t, shape, c.Shape)
		assert.Equal(t, string(bodies[shape]), c.Body)
		assert.Empty(t, c.failing(), "%s: %+v", shape, c.Findings)
		assert.True(t, c.OK, shape)
		assert.Equal(t, testMerchant, c.Merchant, shape)
		assert.Contains(t, c.finding("token"), testMerchant)
		assert.Equal(t, http.MethodPost, c.Method)
		assert.Equal(t, "abc123.ngrok-free.app", c.Host)
		assert.NotEmpty(t, c.RemoteAddr)
		assert.Equal(t, "GuzzleHttp/7", c.Headers.Get("User-Agent"))
		assert.Equal(t, len(bodies[shape]), c.BodyBytes)
		assert.False(t, c.Time.IsZero())
	}
	// A cross-site Origin does not stop a capture either: it changes nothing but its log.
	req, _ := http.NewRequest(http.MethodPost, e.URL+"/sandbox/capture/uat", bytes.NewReader(bodies["deposit"]))
	req.Header.Set("Origin", "https://elsewhere.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	// The admin API keeps its Host check.
	req, _ = http.NewRequest(http.MethodGet, e.URL+"/sandbox/api/captures", nil)
	req.Host = "abc123.ngrok-free.app"
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
}

// TestCaptureForgedCallback: a wrong token, an amount sent as a string, a missing key
// and an extra key are each named by a failing check; the answer is still "success".
func TestCaptureForgedCallback(t *testing.T) {
	e := openCaptureEnv(t, "")
	real := string(settledBody(t, e, gateway.KindDeposit, "CAP-F1", "completed"))
	o, err := e.Store.Order(gateway.KindDeposit, testMerchant, "CAP-F1")
	require.NoError(t, err)
	forged := strings.Replace(real, `"token":"`+md5hex(testSecret+"CAP-F1")+`"`, `"token":"`+md5hex("guess"+"CAP-F1")+`"`, 1)
	forged = strings.Replace(forged, `"amount":100.0000`, `"amount":"100.0000"`, 1)
	forged = strings.Replace(forged, `,"name":`+jsonString(o.PayerName), "", 1)
	forged = strings.TrimSuffix(forged, "}") + `,"sign":"x"}`
	require.NotEqual(t, real, forged)
	require.NotContains(t, forged, `"name"`)

	code, answer := postCapture(t, e, "forged", []byte(forged))
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "success", answer)
	_, caps := listCaptures(t, e, "name=forged")
	require.Len(t, caps, 1)
	c := caps[0]
	assert.False(t, c.OK)
	assert.Empty(t, c.Merchant, "no merchant's secret verifies it")
	assert.ElementsMatch(t, []string{"token", "keys_missing", "keys_extra"}, c.failing(), "%+v", c.Findings)
	assert.Contains(t, c.finding("keys_missing"), "name")
	assert.Contains(t, c.finding("keys_extra"), "sign")
	assert.Contains(t, c.finding("type.amount"), "callback_amount: string dialect")
	assert.Contains(t, c.finding("dialect.callback_amount"), "amount is a string: set callback_amount: string")
	assert.Contains(t, c.finding("token"), "tried vpay88-test")

	// A body that is not JSON at all, and a form-encoded one: recorded, named, answered.
	code, _ = postCapture(t, e, "forged", []byte("hello"))
	assert.Equal(t, http.StatusOK, code)
	_, caps = listCaptures(t, e, "name=forged")
	assert.Contains(t, caps[0].failing(), "json")
	assert.Empty(t, caps[0].Shape)

	form := "order_id=CAP-F1&amount=100.0000&currency=MYR&order_status=completed&status=true&charge=3.0000&token=" +
		md5hex(testSecret+"CAP-F1") + "&name=Ali&type=deposit"
	resp, err := http.Post(e.URL+"/sandbox/capture/forged", "application/x-www-form-urlencoded", strings.NewReader(form))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	_, caps = listCaptures(t, e, "name=forged")
	assert.Equal(t, "deposit", caps[0].Shape)
	assert.Equal(t, testMerchant, caps[0].Merchant, "the token verifies whatever the encoding")
	assert.ElementsMatch(t, []string{"content_type", "json", "type.amount", "type.status"}, caps[0].failing(), "%+v", caps[0].Findings)
}

// TestCaptureForward: with --forward-to the merchant receives the same body and
// headers, and the gateway gets the merchant's answer; a merchant that cannot be
// reached is a 502 (so the real gateway retries), recorded with the error.
func TestCaptureForward(t *testing.T) {
	rc := newRecorder(t, func(n int, w http.ResponseWriter, _ *http.Request, _ <-chan struct{}) {
		if n == 2 {
			w.WriteHeader(http.StatusForbidden)
			_, _ = io.WriteString(w, "bad token")
			return
		}
		_, _ = io.WriteString(w, "OK")
	})
	e := openCaptureEnv(t, rc.URL)
	body := settledBody(t, e, gateway.KindDeposit, "CAP-X1", "completed")

	code, answer := postCapture(t, e, "fw", body)
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "OK", answer, "the merchant's answer is relayed")
	got := rc.wait(t, 1, 5*time.Second)[0]
	assert.Equal(t, body, got.Body)
	assert.Equal(t, "application/json", got.ContentType)
	assert.Equal(t, "GuzzleHttp/7", got.Header.Get("User-Agent"))
	assert.NotEmpty(t, got.Header.Get("X-Forwarded-For"))

	code, answer = postCapture(t, e, "fw", body)
	assert.Equal(t, http.StatusForbidden, code)
	assert.Equal(t, "bad token", answer)

	_, caps := listCaptures(t, e, "name=fw")
	require.Len(t, caps, 2)
	require.NotNil(t, caps[0].Forward)
	assert.Equal(t, http.StatusForbidden, caps[0].Forward.HTTPStatus)
	assert.Equal(t, "bad token", caps[0].Forward.Answer)
	assert.Equal(t, http.StatusOK, caps[1].Forward.HTTPStatus)
	assert.Equal(t, rc.URL, caps[1].Forward.URL)
	assert.True(t, caps[1].OK, "%+v", caps[1].Findings)

	dead := openCaptureEnv(t, "http://127.0.0.1:1/callback")
	code, _ = postCapture(t, dead, "fw", body)
	assert.Equal(t, http.StatusBadGateway, code)
	_, caps = listCaptures(t, dead, "name=fw")
	require.Len(t, caps, 1)
	assert.NotEmpty(t, caps[0].Forward.Error)
}

// TestCaptureListNewestFirstBounded: the list is newest first, filtered by name, and
// keeps the last 500 captures, fewer when their bodies pass 8 MiB.
func TestCaptureListNewestFirstBounded(t *testing.T) {
	e := openCaptureEnv(t, "")
	for i := 1; i <= 505; i++ {
		name := "a"
		if i%5 == 0 {
			name = "b"
		}
		code, _ := postCapture(t, e, name, []byte(fmt.Sprintf(`{"n":%d}`, i)))
		require.Equal(t, http.StatusOK, code)
	}
	total, caps := listCaptures(t, e, "limit=500")
	assert.Equal(t, 500, total)
	require.Len(t, caps, 500)
	assert.Equal(t, `{"n":505}`, caps[0].Body, "newest first")
	assert.Equal(t, `{"n":6}`, caps[499].Body, "the five oldest are gone")
	total, caps = listCaptures(t, e, "name=b&limit=2")
	assert.Equal(t, 100, total)
	assert.Equal(t, `{"n":505}`, caps[0].Body)
	assert.Equal(t, `{"n":500}`, caps[1].Body)

	// 64 KiB bodies: the byte bound (8 MiB) keeps fewer than 500.
	big := bytes.Repeat([]byte("x"), 64<<10)
	for range 140 {
		code, _ := postCapture(t, e, "big", big)
		require.Equal(t, http.StatusOK, code)
	}
	total, _ = listCaptures(t, e, "name=big&limit=1")
	assert.Less(t, total, 128, "at most 8 MiB of 64 KiB bodies")
	assert.Greater(t, total, 100)
	total, _ = listCaptures(t, e, "limit=1")
	assert.Equal(t, total, func() int { n, _ := listCaptures(t, e, "name=big&limit=1"); return n }(), "the small ones went first")
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
