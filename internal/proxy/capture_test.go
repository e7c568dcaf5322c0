package proxy_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/internal/proxy"
)

const secret = "team-secret-4711"

// paths is a target that is a real sandbox and remembers every path it was asked.
type paths struct {
	mu  sync.Mutex
	got []string
}

func (ps *paths) target(t *testing.T) *httptest.Server {
	sb := MustStartTarget(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ps.mu.Lock()
		ps.got = append(ps.got, r.URL.Path)
		ps.mu.Unlock()
		sb.Server.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func (ps *paths) all() []string {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return append([]string(nil), ps.got...)
}

// callback is a completed deposit's callback as a gateway sends it, its token made
// with the given secret.
func callback(orderID, withSecret string) []byte {
	o := &gateway.Order{Kind: gateway.KindDeposit, OrderID: orderID, Amount: gateway.MustMoney("100"), Currency: "MYR",
		Status: gateway.StatusCompleted, Charge: gateway.MustMoney("3"), PayerName: "John Tan"}
	return gateway.CallbackBodyWithToken(o, gateway.Token(withSecret, orderID))
}

func postCallback(t *testing.T, base, name string, body []byte) (int, string) {
	t.Helper()
	resp, err := http.Post(base+"/sandbox/capture/"+name, "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

type captureList struct {
	Total     int    `json:"total"`
	ForwardTo string `json:"forward_to"`
	Captures  []struct {
		Name     string `json:"name"`
		Body     string `json:"body"`
		Merchant string `json:"merchant"`
		OK       bool   `json:"ok"`
		Findings []struct {
			Check string `json:"check"`
			OK    bool   `json:"ok"`
		} `json:"findings"`
		Forward *struct {
			HTTPStatus int `json:"http_status"`
		} `json:"forward"`
	} `json:"captures"`
}

func finding(t *testing.T, l captureList, i int, check string) bool {
	t.Helper()
	for _, f := range l.Captures[i].Findings {
		if f.Check == check {
			return f.OK
		}
	}
	t.Fatalf("capture %d has no %s finding", i, check)
	return false
}

// TestProxyCapture: callbacks posted to the proxy's capture route are checked by the
// shadow with the merchant's secret (a signed one verifies, a forged one does not),
// forwarded to --forward-to and listed at /sandbox/api/captures; the target hears
// none of it, and none of it counts as the integration's traffic.
func TestProxyCapture(t *testing.T) {
	var ps paths
	target := ps.target(t)
	var mu sync.Mutex
	var forwarded []string
	merchant := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		forwarded = append(forwarded, string(b))
		mu.Unlock()
		_, _ = io.WriteString(w, "success")
	}))
	t.Cleanup(merchant.Close)
	p, err := proxy.New(proxy.Options{Target: target.URL, Username: username, APIKey: apiKey, Secret: secret, ForwardTo: merchant.URL})
	require.NoError(t, err)
	front := httptest.NewServer(p)
	t.Cleanup(front.Close)
	t.Cleanup(func() { _ = p.Close() })

	signed, forged := callback("CB-1", secret), callback("CB-2", "not-the-secret")
	code, answer := postCallback(t, front.URL, "gw", signed)
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "success", answer, "the merchant's answer, relayed")
	code, _ = postCallback(t, front.URL, "gw", forged)
	assert.Equal(t, http.StatusOK, code)

	resp, err := http.Get(front.URL + "/sandbox/api/captures?" + url.Values{"name": {"gw"}}.Encode())
	require.NoError(t, err)
	var l captureList
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&l))
	resp.Body.Close()
	require.Equal(t, 2, l.Total)
	assert.Equal(t, merchant.URL, l.ForwardTo)
	// Newest first.
	assert.Equal(t, string(forged), l.Captures[0].Body)
	assert.False(t, finding(t, l, 0, "token"), "a token made with another secret does not verify")
	assert.Empty(t, l.Captures[0].Merchant)
	assert.Equal(t, string(signed), l.Captures[1].Body)
	assert.True(t, finding(t, l, 1, "token"), "md5(secret + order_id) with the shadow's merchant's secret")
	assert.Equal(t, username, l.Captures[1].Merchant)
	assert.True(t, l.Captures[1].OK, "the sandbox's own callback shape passes every check")
	require.NotNil(t, l.Captures[1].Forward)
	assert.Equal(t, http.StatusOK, l.Captures[1].Forward.HTTPStatus)
	mu.Lock()
	assert.Equal(t, []string{string(signed), string(forged)}, forwarded)
	mu.Unlock()

	for _, path := range ps.all() {
		assert.False(t, strings.HasPrefix(path, "/sandbox/"), "the target never hears the capture route: %s", path)
	}
	require.NoError(t, p.Close())
	s := p.Summary()
	assert.Zero(t, s.Exchanges, "callbacks are not the integration's exchanges")
	assert.Zero(t, s.NotShadowed)
}

// TestProxyCaptureBeforeShadow: until the proxy has learnt the credentials there is no
// shadow to check a callback with, and the route answers 503 with a JSON error (the
// gateway retries); the first auth through the proxy brings it up.
func TestProxyCaptureBeforeShadow(t *testing.T) {
	var ps paths
	target := ps.target(t)
	p, err := proxy.New(proxy.Options{Target: target.URL, Secret: secret})
	require.NoError(t, err)
	front := httptest.NewServer(p)
	t.Cleanup(front.Close)
	t.Cleanup(func() { _ = p.Close() })

	for _, try := range []func() (*http.Response, error){
		func() (*http.Response, error) {
			return http.Post(front.URL+"/sandbox/capture/gw", "application/json", bytes.NewReader(callback("CB-1", secret)))
		},
		func() (*http.Response, error) { return http.Get(front.URL + "/sandbox/api/captures") },
	} {
		resp, err := try()
		require.NoError(t, err)
		var e struct{ Error string }
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&e))
		resp.Body.Close()
		assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
		assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
		assert.NotEmpty(t, resp.Header.Get("Retry-After"))
		assert.Contains(t, e.Error, "has not started")
	}
	assert.Empty(t, ps.all(), "nothing reached the target")

	resp, err := http.PostForm(front.URL+"/merchant/auth", url.Values{"username": {username}, "api_key": {apiKey}})
	require.NoError(t, err)
	resp.Body.Close()
	mustSync(t, p)
	code, answer := postCallback(t, front.URL, "gw", callback("CB-1", secret))
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "success", answer)
	assert.Equal(t, []string{"/merchant/auth"}, ps.all())
}
