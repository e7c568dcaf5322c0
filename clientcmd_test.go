package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/sandboxtest"
)

func clientCLI(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := run(append([]string{"client"}, args...), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestClientCLI(t *testing.T) {
	sb := sandboxtest.New(t)

	t.Run("OK", func(t *testing.T) {
		code, out, errOut := clientCLI("auth", "--base-url", sb.URL, "--field", "username="+sb.Username, "--field", "api_key="+sb.APIKey)
		assert.Equal(t, 0, code, errOut)
		assert.Regexp(t, `^HTTP/1\.1 200 OK\n\{"status":true,"auth":"[A-Za-z0-9]{20}","order_id":"[A-Za-z0-9]{16}"\}\n$`, out)
	})
	t.Run("PathFlagsFirstAndHeaders", func(t *testing.T) {
		code, out, _ := clientCLI("--base-url", sb.URL+"/merchant", "--headers", "--urlencoded", "/wallet/withdraw_bank_list",
			"--field", "username=vpay88_test", "--field", "currency=MYR")
		assert.Equal(t, 0, code)
		assert.Contains(t, out, "HTTP/1.1 200 OK\n")
		assert.Contains(t, out, "Content-Type: application/json\n")
		assert.Contains(t, out, `"bank_name":"Malayan Banking Berhad","id":"1"`)
	})
	t.Run("RefusalIsStillAnAnswer", func(t *testing.T) {
		t.Setenv("VPAY88_CLIENT_BASE_URL", sb.URL)
		code, out, _ := clientCLI("generate_orders", "--field", "username=john")
		assert.Equal(t, 0, code)
		assert.Equal(t, "HTTP/1.1 200 OK\n{\"status\":false,\"message\":\"Params missing.\"}\n", out)
	})
	for name, args := range map[string][]string{
		"NoEndpoint":      {"--base-url", sb.URL},
		"UnknownEndpoint": {"refund", "--base-url", sb.URL},
		"URLNotPath":      {"http://127.0.0.1:1/merchant/auth", "--base-url", sb.URL},
		"BadField":        {"auth", "--base-url", sb.URL, "--field", "novalue"},
		"ExtraArgument":   {"auth", "--base-url", sb.URL, "more"},
		"Unreachable":     {"auth", "--base-url", "http://127.0.0.1:1", "--timeout", "2s"},
	} {
		t.Run(name, func(t *testing.T) {
			code, _, errOut := clientCLI(args...)
			assert.Equal(t, 2, code)
			assert.NotEmpty(t, errOut)
		})
	}
}

// TestClientCLIAnyPath: an endpoint's name posts to its path, and any path (with or
// without its leading slash) is posted as given, so QA can see what a gateway answers
// off the vendor document.
func TestClientCLIAnyPath(t *testing.T) {
	var mu sync.Mutex
	var got []string
	rec := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Method+" "+r.URL.Path+" "+r.FormValue("username"))
		mu.Unlock()
		w.Write([]byte(`{"status":true}`))
	}))
	t.Cleanup(rec.Close)
	for arg, want := range map[string]string{
		"get_balance":        "POST /wallet/get_balance u",
		"check_status":       "POST /merchant/check_status u",
		"/merchant/anything": "POST /merchant/anything u",
		"wallet/x":           "POST /wallet/x u",
		"/a/b/c":             "POST /a/b/c u",
	} {
		mu.Lock()
		got = nil
		mu.Unlock()
		code, out, errOut := clientCLI(arg, "--base-url", rec.URL+"/merchant", "--field", "username=u")
		require.Equal(t, 0, code, "%s: %s", arg, errOut)
		assert.Equal(t, "HTTP/1.1 200 OK\n{\"status\":true}\n", out, arg)
		mu.Lock()
		assert.Equal(t, []string{want}, got, arg)
		mu.Unlock()
	}

	t.Run("SandboxAnswersUnknownPath", func(t *testing.T) {
		sb := sandboxtest.New(t)
		code, out, errOut := clientCLI("/merchant/anything", "--base-url", sb.URL, "--field", "username="+sb.Username)
		assert.Equal(t, 1, code, "a 404 is no success: %s", errOut)
		assert.Regexp(t, `^HTTP/1\.1 404 `, out, "an answer, printed as any other")
		code, out, errOut = clientCLI("get_balance", "--base-url", sb.URL, "--field", "username="+sb.Username, "--field", "api_key="+sb.APIKey)
		assert.Equal(t, 0, code, errOut)
		assert.Contains(t, out, "HTTP/1.1 200 OK\n")
	})
}
