package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/config"
)

// cli runs the command line in process and returns its exit code and outputs.
func cli(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// TestCommandHelp: each command's --help prints its own flags to stdout and exits 0
// (issue 21: healthcheck --help printed the server's flags, not --wait and --url);
// "help COMMAND" prints the same.
func TestCommandHelp(t *testing.T) {
	for _, tc := range []struct {
		cmd       string
		want, not []string
	}{
		{"serve", []string{"-ephemeral", "-callback-url", "VPAY88_ADDR"}, nil},
		{"healthcheck", []string{"--wait", "--url", "--addr", "exit status"}, []string{"-ephemeral", "-log-level"}},
		{"parity", []string{"-target", "-replay", "VPAY88_PARITY_TARGET"}, []string{"-ephemeral"}},
		{"client", []string{"-base-url", "-field", "1 on any other HTTP status"}, []string{"-ephemeral"}},
		{"proxy", []string{"-target", "-record", "VPAY88_PROXY_ADDR"}, []string{"-ephemeral"}},
		{"compact", []string{"-data", "VPAY88_DATA"}, []string{"-ephemeral"}},
		{"config", []string{"config default", "config check FILE"}, nil},
		{"version", []string{"usage: vpay88-sandbox version"}, nil},
	} {
		t.Run(tc.cmd, func(t *testing.T) {
			for _, flag := range []string{"--help", "-h", "-help"} {
				code, out, errOut := cli(tc.cmd, flag)
				require.Equal(t, 0, code, "%s %s: %s", tc.cmd, flag, errOut)
				assert.Empty(t, errOut, "%s %s", tc.cmd, flag)
				for _, w := range tc.want {
					assert.Contains(t, strings.ToLower(out), strings.ToLower(w), "%s %s", tc.cmd, flag)
				}
				for _, n := range tc.not {
					assert.NotContains(t, out, n, "%s %s: another command's flags", tc.cmd, flag)
				}
			}
			code, viaHelp, _ := cli("help", tc.cmd)
			require.Equal(t, 0, code)
			_, direct, _ := cli(tc.cmd, "--help")
			assert.Equal(t, direct, viaHelp, "help %s", tc.cmd)
		})
	}
}

// TestBadFlagIsOneLine: an unknown flag or a bad value is one line on stderr, naming
// the flag and where the flags are listed, exit 2: not the whole usage with the error
// twice (issue 21).
func TestBadFlagIsOneLine(t *testing.T) {
	for _, args := range [][]string{
		{"--nope"},
		{"serve", "--nope"},
		{"serve", "--seed", "x"},
		{"healthcheck", "--nope"},
		{"healthcheck", "--wait", "5s", "--nope"},
		{"parity", "--nope"},
		{"client", "auth", "--nope"},
		{"client", "--nope", "auth"},
		{"proxy", "--nope"},
		{"compact", "--nope"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, out, errOut := cli(args...)
			assert.Equal(t, 2, code)
			assert.Empty(t, out)
			lines := strings.Split(strings.TrimSuffix(errOut, "\n"), "\n")
			require.Len(t, lines, 1, "one line, got:\n%s", errOut)
			bad := args[len(args)-1]
			if bad == "auth" {
				bad = "--nope"
			}
			if bad == "x" {
				bad = "-seed"
			}
			assert.Contains(t, lines[0], strings.TrimLeft(bad, "-"))
			cmd := args[0]
			if strings.HasPrefix(cmd, "-") {
				cmd = "serve"
			}
			assert.Contains(t, lines[0], `"vpay88-sandbox `+cmd+` --help"`)
			assert.Equal(t, 1, strings.Count(errOut, "not defined")+strings.Count(errOut, "invalid value"), "the error once")
		})
	}
	t.Run("UnknownCommand", func(t *testing.T) {
		for _, args := range [][]string{{"launch"}, {"help", "launch"}} {
			code, out, errOut := cli(args...)
			assert.Equal(t, 2, code)
			assert.Empty(t, out)
			assert.Equal(t, `vpay88-sandbox: unknown command "launch" ("vpay88-sandbox help" lists the commands)`+"\n", errOut)
		}
	})
}

// TestConfigCommand: `config default` prints the embedded default, which parses; `config
// check` reads a file as --config does, merged over the default.
func TestConfigCommand(t *testing.T) {
	code, out, errOut := cli("config", "default")
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, string(config.DefaultYAML()), out)
	_, err := config.Parse("printed", []byte(out))
	require.NoError(t, err)

	dir := t.TempDir()
	partial := filepath.Join(dir, "rules.yaml")
	require.NoError(t, os.WriteFile(partial, []byte("scenarios:\n  - name: fail-F\n    match: {orderid: '^F-'}\n    effect: {outcome: fail}\n"), 0o600))
	code, out, errOut = cli("config", "check", partial)
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, "config "+partial+": ok (1 merchant, 1 scenario rule)\n", out)

	bad := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("# shop\nmerchants:\n  - username: shop\n    api_key: k\n    secret_key: s\n    callback_url: app:8080/cb\n    currencies: [{code: MYR, min: 1, max: 10}]\n"), 0o600))
	code, _, errOut = cli("config", "check", bad)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, bad+":6: merchants[0].callback_url: must be an http or https URL")

	for _, args := range [][]string{{"config"}, {"config", "print"}, {"config", "check"}} {
		code, _, errOut := cli(args...)
		assert.Equal(t, 2, code, "%v", args)
		assert.Contains(t, errOut, "config --help", "%v", args)
	}
}

// TestPartialConfigFileStarts: a config file holding only `scenarios:` starts the
// binary (issue 21: it was refused with "token_lifetime: must be a positive duration"),
// with the default merchant and the file's rule.
func TestPartialConfigFileStarts(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "rules.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte("scenarios:\n  - name: fail-F\n    match: {orderid: '^F-'}\n    effect: {outcome: fail}\n"), 0o600))
	p := startSandbox(t, filepath.Join(dir, "s.db"), "--config", cfg)
	p.Auth(t) // the default merchant and its example credentials

	resp, err := http.Get(p.URL + "/sandbox/api/scenarios")
	require.NoError(t, err)
	defer resp.Body.Close()
	var got struct {
		Rules []struct {
			Name string `json:"name"`
		} `json:"rules"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&got))
	require.Len(t, got.Rules, 1)
	assert.Equal(t, "fail-F", got.Rules[0].Name)
}

// TestCallbackURLCheckedAtStart: a callback URL given at start follows the merchants
// API's rule; "localhost:9000/cb" is refused before anything is opened, on one line,
// instead of every callback failing for the whole retry schedule (issue 21).
func TestCallbackURLCheckedAtStart(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "cb.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte("merchants:\n  - username: shop\n    api_key: k\n    secret_key: s\n    callback_url: app:8080/cb\n"+
		"    currencies: [{code: MYR, min: 1, max: 10}]\n"), 0o600))
	for _, tc := range []struct {
		name string
		args []string
		env  []string
		code int
		want string
	}{
		{"Flag", []string{"--callback-url", "localhost:9000/cb"}, nil, 2, `vpay88-sandbox: --callback-url (VPAY88_CALLBACK_URL) must be an http or https URL such as http://127.0.0.1:9000/callback, not "localhost:9000/cb"`},
		{"Environment", nil, []string{"VPAY88_CALLBACK_URL=app:8080/cb"}, 2, `not "app:8080/cb"`},
		{"NoHost", []string{"--callback-url", "http:///cb"}, nil, 2, `not "http:///cb"`},
		{"ConfigFile", []string{"--config", cfg}, nil, 1, cfg + `:5: merchants[0].callback_url: must be an http or https URL such as http://127.0.0.1:9000/callback, not "app:8080/cb"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := filepath.Join(t.TempDir(), "s.db")
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, sandboxBinary(t), append([]string{"--addr", "127.0.0.1:0", "--data", data}, tc.args...)...)
			cmd.Env = cleanEnv(tc.env...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			var ee *exec.ExitError
			require.True(t, errors.As(err, &ee), "want a failed exit: %v\n%s", err, stderr.String())
			assert.Equal(t, tc.code, ee.ExitCode())
			lines := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n")
			require.Len(t, lines, 1, "one line:\n%s", stderr.String())
			assert.Contains(t, lines[0], tc.want)
			_, statErr := os.Stat(data)
			assert.True(t, os.IsNotExist(statErr), "a refused start must not create the data file")
		})
	}
	// A good URL starts.
	startSandbox(t, filepath.Join(dir, "ok.db"), "--callback-url", "http://127.0.0.1:9/cb")
}

// TestClientExitStatus: the client exits 1 on an answer outside 2xx (issue 21: a 404
// printed "HTTP/1.1 404" and exited 0), still printing it; a vendor refusal (HTTP 200,
// "status":false) is an answer, exit 0.
func TestClientExitStatus(t *testing.T) {
	p := startSandbox(t, filepath.Join(t.TempDir(), "s.db"))
	code, out, errOut := cli("client", "/merchant/refund", "--base-url", p.URL, "--field", "username=vpay88-test")
	assert.Equal(t, 1, code)
	assert.True(t, strings.HasPrefix(out, "HTTP/1.1 404 Not Found\n"), out)
	assert.Equal(t, "vpay88-sandbox client: /merchant/refund answered 404 Not Found\n", errOut)

	code, out, errOut = cli("client", "check_status", "--base-url", p.URL, "--field", "username=vpay88-test")
	assert.Equal(t, 0, code, errOut)
	assert.Contains(t, out, `"status":false`)
}

// TestQuickStartRepeatable runs the README's quick start as written, twice, each time
// on a fresh start of the binary with the flags the README gives: the second run must
// be answered as the first (issue 21: it answered "Order ID Exist.").
func TestQuickStartRepeatable(t *testing.T) {
	for _, tool := range []string{"sh", "curl", "sed"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the README's quick start needs %s", tool)
		}
	}
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	doc := string(readme)
	start := strings.Index(doc, "## Quick start")
	require.GreaterOrEqual(t, start, 0)
	blocks := regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(doc[start:], 2)
	require.Len(t, blocks, 2, "the quick start's two sh blocks")
	// The first block starts the sandbox: `go run . FLAGS   # comment`.
	m := regexp.MustCompile(`(?m)^go run \.([^#\n]*)`).FindStringSubmatch(blocks[0][1])
	require.NotNil(t, m, "the quick start starts the sandbox with go run .")
	flags := strings.Fields(m[1])
	assert.Contains(t, flags, "--ephemeral", "the quick start must be repeatable")
	script := blocks[1][1]
	require.Contains(t, script, "B=http://127.0.0.1:8088\n")
	data := filepath.Join(t.TempDir(), "s.db")
	for i := range 2 {
		p := startSandbox(t, data, flags...)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		cmd := exec.CommandContext(ctx, "sh", "-e")
		cmd.Stdin = strings.NewReader(strings.Replace(script, "B=http://127.0.0.1:8088\n", "B="+p.URL+"\n", 1))
		cmd.Stderr = io.Discard
		out, err := cmd.Output()
		cancel()
		require.NoError(t, err, "run %d", i+1)
		assert.Regexp(t, `^\{"status":true,"p_url":"`+regexp.QuoteMeta(p.URL)+`/checkout/order-pay/1/\?pay_for_order=true&key=[^"]+"\}$`, strings.TrimSpace(string(out)), "run %d", i+1)
		assert.Equal(t, 0, p.Terminate(t))
	}
}
