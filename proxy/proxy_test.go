package proxy_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/inproc"
	"github.com/vpay88/vpay88-sandbox/proxy"
)

// fakeGateway is a sandbox that differs in planted ways: its auth answers carry an
// extra key, and its unknown-order message is another text.
func fakeGateway(t *testing.T) *httptest.Server {
	sb, err := inproc.Start(inproc.Options{NoSync: true})
	require.NoError(t, err)
	t.Cleanup(sb.Close)
	real := sb.Server
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		real.ServeHTTP(rec, r)
		body := rec.Body.String()
		switch r.URL.Path {
		case "/merchant/auth": // planted 1: an extra key
			body = strings.Replace(body, `{"status":true,`, `{"status":true,"expires_in":1800,`, 1)
		case "/merchant/check_status": // planted 2: another message
			body = strings.Replace(body, "Order not found.", "Order not exist.", 1)
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Set("X-Gateway", "fake")
		w.Header().Del("Content-Length")
		w.WriteHeader(rec.Code)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func post(t *testing.T, base, path string, fields map[string]string) (int, http.Header, []byte) {
	t.Helper()
	v := url.Values{}
	for k, val := range fields {
		v.Set(k, val)
	}
	resp, err := http.Post(base+path, "application/x-www-form-urlencoded", strings.NewReader(v.Encode()))
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header, b
}

// TestProxyForwardsAndComparesInShadow: the integration gets the target's answers
// byte for byte; the shadow's differences are the planted ones and nothing else; a
// deposit made with the target's token succeeds in the shadow too (tokens mapped).
func TestProxyForwardsAndComparesInShadow(t *testing.T) {
	target := fakeGateway(t)
	shadow, err := inproc.Start(inproc.Options{NoSync: true})
	require.NoError(t, err)
	t.Cleanup(shadow.Close)
	var record bytes.Buffer
	p, err := proxy.New(proxy.Options{Target: target.URL, Shadow: shadow.URL, Record: &record})
	require.NoError(t, err)
	front := httptest.NewServer(p)
	t.Cleanup(front.Close)

	creds := map[string]string{"username": "vpay88-test", "api_key": "EPSOWM0eewwrwer0OfUo"}
	code, h, body := post(t, front.URL, "/merchant/auth", creds)
	require.Equal(t, 200, code)
	assert.Equal(t, "fake", h.Get("X-Gateway"), "the target's headers come back")
	assert.Contains(t, string(body), `"expires_in":1800`, "the target's body comes back unchanged")
	tok := strings.Split(strings.Split(string(body), `"auth":"`)[1], `"`)[0]

	deposit := map[string]string{"username": "john", "auth": tok, "amount": "100", "currency": "MYR", "orderid": "PX-1",
		"email": "john@example.com", "phone_number": "601012456789"}
	_, _, direct := post(t, target.URL, "/merchant/check_status", map[string]string{"username": "vpay88-test", "id": "none"})
	code, _, viaProxy := post(t, front.URL, "/merchant/check_status", map[string]string{"username": "vpay88-test", "id": "none"})
	assert.Equal(t, 200, code)
	assert.Equal(t, string(direct), string(viaProxy), "byte-identical to the target's")
	code, _, body = post(t, front.URL, "/merchant/generate_orders", deposit)
	require.Equal(t, 200, code)
	assert.Contains(t, string(body), `"status":true`)
	p.Close()

	exchanges, dropped := p.Differences()
	assert.Zero(t, dropped)
	byPath := map[string][]string{}
	for _, ex := range exchanges {
		for _, d := range ex.Diffs {
			byPath[ex.Path] = append(byPath[ex.Path], d.Path+" "+d.Kind)
		}
	}
	assert.Len(t, byPath, 2, "only the planted differences: %v", byPath)
	assert.Contains(t, strings.Join(byPath["/merchant/auth"], ";"), "expires_in")
	assert.Contains(t, strings.Join(byPath["/merchant/check_status"], ";"), "message")
	assert.Empty(t, byPath["/merchant/generate_orders"], "the target's token worked in the shadow")

	rec := record.String()
	assert.Equal(t, 3, strings.Count(rec, "\n"), "one line per exchange through the proxy")
	assert.NotContains(t, rec, tok, "tokens are masked")
	assert.NotContains(t, rec, "EPSOWM0eewwrwer0OfUo", "the api_key is masked")
}
