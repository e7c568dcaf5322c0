// Package verify_test runs the callback verification snippets of this folder (PHP,
// Node.js, Python, Go) as the merchant's callback receiver of a real sandbox: each
// must acknowledge the sandbox's genuine callbacks (deposit and withdrawal) and refuse
// one sent with a wrong token by a scenario rule. A language that is not installed is
// skipped, and says so. check.sh runs this test verbosely.
package verify_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/config"
	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/internal/skipreport"
	"github.com/vpay88/vpay88-sandbox/scenarios"
	"github.com/vpay88/vpay88-sandbox/server"
	"github.com/vpay88/vpay88-sandbox/store"
)

const secret = "vpay88-test-secret" // the default merchant's, config/default.yaml

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
}

// start runs a snippet's receiver and waits until it accepts connections.
func start(t *testing.T, port string, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "PORT="+port, "VPAY88_SECRET="+secret)
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("%s output:\n%s", name, out)
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			require.FailNowf(t, "receiver did not start", "%s %v: %v\n%s", name, args, err, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sandbox starts a sandbox whose merchant calls back to callbackURL, with one attempt
// per callback and a rule that forges the token of orders named FORGED-*.
func sandbox(t *testing.T, callbackURL string) (*httptest.Server, *store.Store) {
	t.Helper()
	cfg := config.Default()
	cfg.Merchants[0].CallbackURL = callbackURL
	cfg.Callbacks.Schedule = []config.Duration{0}
	cfg.Callbacks.Timeout = config.Duration(5 * time.Second)
	cfg.Scenarios = []scenarios.Rule{{Name: "forged", Match: scenarios.Match{OrderID: "^FORGED-"},
		Effect: scenarios.Effect{Outcome: "completed", Callback: scenarios.Faults{WrongToken: true}}}}
	require.NoError(t, scenarios.Validate(cfg.Scenarios))
	st, err := store.Open(filepath.Join(t.TempDir(), "verify.db"))
	require.NoError(t, err)
	srv, err := server.New(server.Options{Config: cfg, Store: st, Seed: 7})
	require.NoError(t, err)
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		hs.Close()
		srv.Close()
		st.Close()
	})
	return hs, st
}

func post(t *testing.T, base, path string, v url.Values) map[string]any {
	t.Helper()
	resp, err := http.PostForm(base+path, v)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m), "%s", b)
	require.Equal(t, true, m["status"], "%s: %s", path, b)
	return m
}

// firstAttempt waits for the first attempt at an order's callback.
func firstAttempt(t *testing.T, st *store.Store, kind gateway.Kind, id string) store.Attempt {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		dels, err := st.Deliveries(kind, "vpay88-test", id)
		require.NoError(t, err)
		if len(dels) > 0 {
			as, err := st.Attempts(dels[0].ID)
			require.NoError(t, err)
			if len(as) > 0 {
				return as[0]
			}
		}
		if time.Now().After(deadline) {
			require.FailNowf(t, "no callback attempt", "%s %s", kind, id)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func TestSnippets(t *testing.T) {
	dir, err := os.Getwd()
	require.NoError(t, err)
	for _, lang := range []struct {
		name, bin string
		args      func(port string) []string
		install   string // how to get bin, for the skip report
	}{
		{"php", "php", func(port string) []string {
			return []string{"-S", "127.0.0.1:" + port, filepath.Join(dir, "verify.php")}
		}, "apt-get install php-cli php-curl"},
		{"node", "node", func(string) []string { return []string{filepath.Join(dir, "verify.js")} }, "apt-get install nodejs"},
		{"python", "python3", func(string) []string { return []string{filepath.Join(dir, "verify.py")} }, "apt-get install python3"},
		{"go", "", nil, ""},
	} {
		t.Run(lang.name, func(t *testing.T) {
			port := freePort(t)
			if lang.name == "go" {
				// Build first: killing `go run` would leave its child running.
				exe := filepath.Join(t.TempDir(), "verify")
				out, err := exec.Command("go", "build", "-o", exe, "./go").CombinedOutput()
				require.NoError(t, err, "%s", out)
				start(t, port, exe)
			} else {
				if _, err := exec.LookPath(lang.bin); err != nil {
					skipreport.Skip(t, lang.bin, "the "+lang.name+" snippet", lang.bin+" is not installed ("+lang.install+")",
						fmt.Sprintf("%s snippet not run: %s is not installed", lang.name, lang.bin))
				}
				start(t, port, lang.bin, lang.args(port)...)
			}
			hs, st := sandbox(t, "http://127.0.0.1:"+port+"/vpay88/callback")
			auth := post(t, hs.URL, "/merchant/auth", url.Values{"username": {"vpay88-test"}, "api_key": {"EPSOWM0eewwrwer0OfUo"}})["auth"].(string)
			deposit := func(id string) {
				post(t, hs.URL, "/merchant/generate_orders", url.Values{"username": {"john"}, "auth": {auth}, "amount": {"300"},
					"currency": {"MYR"}, "orderid": {id}, "email": {"success@example.com"}, "phone_number": {"601012456789"}})
			}
			deposit("20073")
			post(t, hs.URL, "/merchant/withdraw_orders", url.Values{"auth": {auth}, "amount": {"1"}, "currency": {"MYR"},
				"orderid": {"Testpayout008"}, "bank_id": {"12"}, "holder_name": {"SUK THAWAR"}, "account_no": {scenarios.MagicAccountNameMismatch}})
			deposit("FORGED-1")

			for _, c := range []struct {
				kind gateway.Kind
				id   string
				code int
			}{
				{gateway.KindDeposit, "20073", http.StatusOK},
				{gateway.KindWithdrawal, "Testpayout008", http.StatusOK},
				{gateway.KindDeposit, "FORGED-1", http.StatusForbidden},
			} {
				a := firstAttempt(t, st, c.kind, c.id)
				t.Logf("%s receiver, %s %s: %s -> %d %q", lang.name, c.kind, c.id, a.Body, a.Status, a.Answer)
				assert.Equal(t, c.code, a.Status, "%s %s: %s (error %q)", c.kind, c.id, a.Answer, a.Error)
				if c.code == http.StatusOK {
					assert.Equal(t, "success", strings.TrimSpace(a.Answer))
				}
			}
		})
	}
}
