package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/config"
	"github.com/vpay88/vpay88-sandbox/internal/inproc"
	"github.com/vpay88/vpay88-sandbox/server"
	"github.com/vpay88/vpay88-sandbox/store"
)

// Default merchant credentials of the embedded config (the vendor's example values).
const (
	testMerchant = "vpay88-test"
	testAPIKey   = "EPSOWM0eewwrwer0OfUo"
	testSecret   = "vpay88-test-secret"
)

// testEnv is a whole sandbox over a real bbolt file: the shared in-process sandbox
// (inproc) with the vendor-API helpers the tests use.
type testEnv struct {
	URL   string
	Srv   *server.Server
	Store *store.Store
	Cfg   *config.Config
	Path  string
	// Opts are the options Srv was made with (a test may start a second server).
	Opts server.Options

	sb *inproc.Sandbox
}

// MustOpenEnv starts a sandbox on the embedded default config with the fast callback
// schedule and a 2 s callback timeout (inproc.QuickConfig), changed by the given
// functions (set a callback URL, rules…); it closes with the test.
func MustOpenEnv(tb testing.TB, changes ...func(*config.Config)) *testEnv {
	tb.Helper()
	return openEnv(tb, inproc.Options{Changes: changes})
}

// MustOpenEnvAt is MustOpenEnv over a given bbolt path (restart tests reuse one file).
func MustOpenEnvAt(tb testing.TB, path string, changes ...func(*config.Config)) *testEnv {
	tb.Helper()
	return openEnv(tb, inproc.Options{Path: path, Changes: changes})
}

// openEnv starts the in-process sandbox with the tests' seed (42) and, unless o says
// otherwise, a bbolt file in the test's temporary folder; it closes with the test.
func openEnv(tb testing.TB, o inproc.Options) *testEnv {
	tb.Helper()
	if o.Path == "" {
		o.Path = filepath.Join(tb.TempDir(), "sandbox.db")
	}
	if o.Seed == 0 {
		o.Seed = 42
	}
	// The store as the binary ships it by default: group commit, fsync at each commit.
	sb, err := inproc.Start(o)
	require.NoError(tb, err)
	e := &testEnv{URL: sb.URL, Srv: sb.Server, Store: sb.Store, Cfg: sb.Config, Path: sb.Path, Opts: sb.ServerOptions, sb: sb}
	tb.Cleanup(e.Close)
	return e
}

// Close stops the HTTP server (waiting for requests in flight), the background work
// and the store; safe to call twice.
func (e *testEnv) Close() {
	if e.sb != nil {
		e.sb.Close()
	}
}

// PostMultipart sends fields as multipart/form-data, as the vendor's PHP examples do,
// and returns the status and raw body.
func (e *testEnv) PostMultipart(tb testing.TB, path string, fields map[string]string) (int, []byte) {
	tb.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		require.NoError(tb, w.WriteField(k, v))
	}
	require.NoError(tb, w.Close())
	resp, err := http.Post(e.URL+path, w.FormDataContentType(), &buf)
	require.NoError(tb, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(tb, err)
	return resp.StatusCode, b
}

// PostForm sends fields as application/x-www-form-urlencoded.
func (e *testEnv) PostForm(tb testing.TB, path string, fields map[string]string) (int, []byte) {
	tb.Helper()
	v := url.Values{}
	for k, val := range fields {
		v.Set(k, val)
	}
	resp, err := http.Post(e.URL+path, "application/x-www-form-urlencoded", strings.NewReader(v.Encode()))
	require.NoError(tb, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(tb, err)
	return resp.StatusCode, b
}

// Call posts multipart fields and decodes the JSON answer, requiring HTTP 200.
func (e *testEnv) Call(tb testing.TB, path string, fields map[string]string) map[string]any {
	tb.Helper()
	code, b := e.PostMultipart(tb, path, fields)
	require.Equal(tb, http.StatusOK, code, "body: %s", b)
	var m map[string]any
	require.NoError(tb, json.Unmarshal(b, &m), "body: %s", b)
	return m
}

// Auth gets a fresh token for the default merchant.
func (e *testEnv) Auth(tb testing.TB) string {
	tb.Helper()
	m := e.Call(tb, "/merchant/auth", map[string]string{"username": testMerchant, "api_key": testAPIKey})
	require.Equal(tb, true, m["status"], "auth: %v", m)
	return m["auth"].(string)
}

// Deposit creates a deposit with sensible defaults; fields override them.
func (e *testEnv) Deposit(tb testing.TB, orderID string, fields map[string]string) map[string]any {
	tb.Helper()
	f := map[string]string{"username": "john", "auth": e.Auth(tb), "amount": "100", "currency": "MYR",
		"orderid": orderID, "email": "john@example.com", "phone_number": "601012456789"}
	for k, v := range fields {
		f[k] = v
	}
	return e.Call(tb, "/merchant/generate_orders", f)
}

// Withdraw creates a withdrawal with sensible defaults; fields override them.
func (e *testEnv) Withdraw(tb testing.TB, orderID string, fields map[string]string) map[string]any {
	tb.Helper()
	f := map[string]string{"auth": e.Auth(tb), "amount": "100", "currency": "MYR", "orderid": orderID,
		"bank_id": "1", "holder_name": "John Doe", "account_no": "12332343432"}
	for k, v := range fields {
		f[k] = v
	}
	return e.Call(tb, "/merchant/withdraw_orders", f)
}

// getJSON GETs url and decodes its JSON answer into v, requiring HTTP 200.
func getJSON(tb testing.TB, url string, v any) {
	tb.Helper()
	resp, err := http.Get(url)
	require.NoError(tb, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(tb, err)
	require.Equal(tb, http.StatusOK, resp.StatusCode, "GET %s: %s", url, b)
	require.NoError(tb, json.Unmarshal(b, v), "GET %s: %s", url, b)
}

// postJSON POSTs a JSON body and returns the status and raw answer.
func postJSON(tb testing.TB, url, body string) (int, []byte) {
	tb.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	require.NoError(tb, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(tb, err)
	return resp.StatusCode, b
}
