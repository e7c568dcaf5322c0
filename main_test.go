package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/config"
	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/store"
)

// The binary under test is built once per test run, on first use, into binDir.
var (
	binDir    string
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// sandboxBinary builds the vpay88-sandbox binary (once) and returns its path.
func sandboxBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "vpay88-sandbox-test-")
		if buildErr != nil {
			return
		}
		goTool, err := exec.LookPath("go")
		if err != nil {
			// Not on PATH (a CI shell without it): where this machine installs Go.
			goTool = "/usr/local/go/bin/go"
			if root := os.Getenv("GOROOT"); root != "" {
				goTool = filepath.Join(root, "bin", "go")
			}
		}
		binPath = filepath.Join(binDir, "vpay88-sandbox")
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, goTool, "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	require.NoError(t, buildErr)
	return binPath
}

// cleanEnv is the test's environment without VPAY88_* variables, so a developer's own
// settings cannot change what the binary under test does.
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "VPAY88_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// sandboxProc is a running vpay88-sandbox process.
type sandboxProc struct {
	cmd  *exec.Cmd
	URL  string
	done chan struct{} // closed once the process has exited and been waited for

	mu     sync.Mutex
	stderr bytes.Buffer
}

// Log returns what the process wrote to stderr so far.
func (p *sandboxProc) Log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// startSandbox runs the binary on a free port of 127.0.0.1 (--addr 127.0.0.1:0; the
// URL comes from its "listening" log line) with the given data file, and stops it when
// the test ends.
func startSandbox(t *testing.T, dataPath string, args ...string) *sandboxProc {
	t.Helper()
	bin := sandboxBinary(t)
	all := append([]string{"--addr", "127.0.0.1:0", "--data", dataPath, "--log-format", "json", "--seed", "7"}, args...)
	cmd := exec.Command(bin, all...)
	cmd.Env = cleanEnv()
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	p := &sandboxProc{cmd: cmd, done: make(chan struct{})}
	listening := make(chan string, 1)
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.stderr.WriteString(line + "\n")
			p.mu.Unlock()
			var rec struct {
				Msg string `json:"msg"`
				URL string `json:"url"`
			}
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "vpay88-sandbox listening" {
				select {
				case listening <- rec.URL:
				default:
				}
			}
		}
		_ = cmd.Wait() // after every read of the pipe, as os/exec requires
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill()
			select {
			case <-p.done:
			case <-time.After(10 * time.Second):
				t.Errorf("pid %d did not exit after kill", cmd.Process.Pid)
			}
		}
	})
	select {
	case p.URL = <-listening:
	case <-p.done:
		t.Fatalf("vpay88-sandbox exited before listening (%v):\n%s", cmd.ProcessState, p.Log())
	case <-time.After(20 * time.Second):
		t.Fatalf("vpay88-sandbox did not listen within 20s:\n%s", p.Log())
	}
	require.Regexp(t, `^http://127\.0\.0\.1:\d+$`, p.URL)
	return p
}

// Kill ends the process with SIGKILL, as a crash or `kill -9` would: no shutdown code
// runs.
func (p *sandboxProc) Kill(t *testing.T) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Kill())
	p.wait(t)
}

// Terminate sends SIGTERM and returns the exit code.
func (p *sandboxProc) Terminate(t *testing.T) int {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	p.wait(t)
	return p.cmd.ProcessState.ExitCode()
}

func (p *sandboxProc) wait(t *testing.T) {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		t.Fatalf("pid %d did not exit within 15s:\n%s", p.cmd.Process.Pid, p.Log())
	}
}

// Post sends form fields to the process and decodes its JSON answer.
func (p *sandboxProc) Post(t *testing.T, path string, fields map[string]string) map[string]any {
	t.Helper()
	m, err := p.post(path, fields)
	require.NoError(t, err)
	return m
}

// post is Post for any goroutine: it returns errors instead of failing the test.
func (p *sandboxProc) post(path string, fields map[string]string) (map[string]any, error) {
	v := url.Values{}
	for k, val := range fields {
		v.Set(k, val)
	}
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.PostForm(p.URL+path, v)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: HTTP %d", path, resp.StatusCode)
	}
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// Auth gets a token for the default merchant.
func (p *sandboxProc) Auth(t *testing.T) string {
	t.Helper()
	m := p.Post(t, "/merchant/auth", map[string]string{"username": "vpay88-test", "api_key": "EPSOWM0eewwrwer0OfUo"})
	require.Equal(t, true, m["status"], "%v", m)
	return m["auth"].(string)
}

// Balances reads the balances through the admin API.
func (p *sandboxProc) Balances(t *testing.T) []store.Balance {
	t.Helper()
	resp, err := http.Get(p.URL + "/sandbox/api/balances")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var out struct {
		Balances []store.Balance `json:"balances"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return out.Balances
}

// orderRef names an acknowledged order and what check_status said about it.
type orderRef struct {
	kind   gateway.Kind
	id     string
	status string
	amount float64
}

func depositFields(tok, id string) map[string]string {
	return map[string]string{"username": "john", "auth": tok, "amount": "100", "currency": "MYR", "orderid": id,
		"email": "john@example.com", "phone_number": "601012456789"}
}

func withdrawFields(tok, id string) map[string]string {
	return map[string]string{"auth": tok, "amount": "100", "currency": "MYR", "orderid": id, "bank_id": "12",
		"holder_name": "John Doe", "account_no": "12332343432"}
}

func with(base map[string]string, changes map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range changes {
		out[k] = v
	}
	return out
}

// status asks check_status or check_withdraw_status about an order.
func (p *sandboxProc) status(t *testing.T, kind gateway.Kind, id string) map[string]any {
	t.Helper()
	path := "/merchant/check_status"
	if kind == gateway.KindWithdrawal {
		path = "/merchant/check_withdraw_status"
	}
	return p.Post(t, path, map[string]string{"username": "vpay88-test", "id": id})
}

// TestCrashKeepsAcknowledgedOrders kills the sandbox with SIGKILL right after it
// acknowledged a burst of orders, and checks that every acknowledged order, its status
// and the balances are in the file and served again after a restart.
func TestCrashKeepsAcknowledgedOrders(t *testing.T) {
	// machine durability fsyncs every commit; process durability (--durability
	// process, as --ephemeral) writes without fsync: the OS still holds the pages of a
	// killed process, so both keep every acknowledged order.
	for _, mode := range []string{"machine", "process"} {
		t.Run(mode, func(t *testing.T) { crashKeepsAcknowledgedOrders(t, "--durability", mode) })
	}
}

func crashKeepsAcknowledgedOrders(t *testing.T, args ...string) {
	data := filepath.Join(t.TempDir(), "sandbox.db")
	p := startSandbox(t, data, args...)
	tok := p.Auth(t)

	var acked []orderRef
	create := func(kind gateway.Kind, id string, fields map[string]string) {
		path := "/merchant/generate_orders"
		if kind == gateway.KindWithdrawal {
			path = "/merchant/withdraw_orders"
		}
		m := p.Post(t, path, fields)
		require.Equal(t, true, m["status"], "%s %s: %v", kind, id, m)
		acked = append(acked, orderRef{kind: kind, id: id})
	}
	// Every outcome a crash must keep: pending, completed and failed deposits (magic
	// emails settle at once), completed, failed and pending payouts (magic accounts).
	create(gateway.KindDeposit, "crash-dep-pending", depositFields(tok, "crash-dep-pending"))
	create(gateway.KindDeposit, "crash-dep-completed", with(depositFields(tok, "crash-dep-completed"), map[string]string{"amount": "300", "email": "success@example.com"}))
	create(gateway.KindDeposit, "crash-dep-fail", with(depositFields(tok, "crash-dep-fail"), map[string]string{"currency": "VND", "amount": "25", "email": "fail@example.com"}))
	create(gateway.KindDeposit, "crash-dep-thb", with(depositFields(tok, "crash-dep-thb"), map[string]string{"currency": "THB", "bank_id": "3"}))
	create(gateway.KindWithdrawal, "crash-wd-completed", with(withdrawFields(tok, "crash-wd-completed"), map[string]string{"account_no": "4000000001"}))
	create(gateway.KindWithdrawal, "crash-wd-fail", with(withdrawFields(tok, "crash-wd-fail"), map[string]string{"account_no": "4000000002", "amount": "1"}))
	create(gateway.KindWithdrawal, "crash-wd-pending", with(withdrawFields(tok, "crash-wd-pending"), map[string]string{"account_no": "4000000009", "currency": "IDR", "bank_id": "5"}))

	for i := range acked {
		m := p.status(t, acked[i].kind, acked[i].id)
		require.Equal(t, true, m["status"], "%v", m)
		acked[i].status, acked[i].amount = m["order_status"].(string), m["amount"].(float64)
	}
	assert.Equal(t, []string{"pending", "completed", "fail", "pending", "completed", "fail", "pending"},
		[]string{acked[0].status, acked[1].status, acked[2].status, acked[3].status, acked[4].status, acked[5].status, acked[6].status})
	balancesBefore := p.Balances(t)
	require.Len(t, balancesBefore, 5, "one balance per currency")

	// A burst of concurrent deposits; the process is killed the moment the last answer
	// arrives. Every deposit acknowledged must survive.
	const burst = 40
	var mu sync.Mutex
	var wg sync.WaitGroup
	var burstAcked []string
	for i := 0; i < burst; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			id := fmt.Sprintf("crash-burst-%02d", i)
			m, err := p.post("/merchant/generate_orders", depositFields(tok, id))
			if err == nil && m["status"] == true {
				mu.Lock()
				burstAcked = append(burstAcked, id)
				mu.Unlock()
			}
		}(i)
	}
	wg.Wait()
	require.Len(t, burstAcked, burst)
	p.Kill(t)

	// The file, read directly while no process holds it.
	st, err := store.Open(data)
	require.NoError(t, err)
	for _, o := range acked {
		got, err := st.Order(o.kind, "vpay88-test", o.id)
		require.NoError(t, err, "%s %s lost in the crash", o.kind, o.id)
		assert.Equal(t, o.status, string(got.Status), o.id)
	}
	for _, id := range burstAcked {
		_, err := st.Order(gateway.KindDeposit, "vpay88-test", id)
		assert.NoError(t, err, "acknowledged deposit %s lost in the crash", id)
	}
	fileBalances, err := st.Balances("vpay88-test")
	require.NoError(t, err)
	assert.ElementsMatch(t, balancesBefore, fileBalances)
	require.NoError(t, st.Close())

	// Restarted on the same file, the sandbox serves the same state.
	p2 := startSandbox(t, data, args...)
	for _, o := range acked {
		m := p2.status(t, o.kind, o.id)
		require.Equal(t, true, m["status"], "%s %s after restart: %v", o.kind, o.id, m)
		assert.Equal(t, o.status, m["order_status"], o.id)
		assert.Equal(t, o.amount, m["amount"], o.id)
	}
	for _, id := range burstAcked {
		m := p2.status(t, gateway.KindDeposit, id)
		assert.Equal(t, "pending", m["order_status"], "%s after restart: %v", id, m)
	}
	assert.ElementsMatch(t, balancesBefore, p2.Balances(t))

	// Ids stay taken, the token issued before the crash still works, and the gateway's
	// order numbers carry on instead of starting again.
	assert.Equal(t, gateway.MsgOrderIDExist, p2.Post(t, "/merchant/generate_orders", depositFields(tok, "crash-dep-pending"))["message"])
	assert.Equal(t, gateway.MsgOrderIDExistWithdrawal, p2.Post(t, "/merchant/withdraw_orders", withdrawFields(tok, "crash-wd-pending"))["message"])
	m := p2.Post(t, "/merchant/generate_orders", depositFields(tok, "crash-after"))
	require.Equal(t, true, m["status"], "%v", m)
	num := regexp.MustCompile(`/checkout/order-pay/(\d+)/`).FindStringSubmatch(m["p_url"].(string))
	require.NotNil(t, num)
	n, _ := strconv.Atoi(num[1])
	assert.Greater(t, n, len(acked)+burst, "order numbers are not reused after a crash")
}

// TestCrashResumesScheduledSettlement kills the sandbox while a payout waits for its
// default completion (withdrawal_delay, 2 s): the timer lives in the file, so the
// restarted sandbox completes it, and its reserve is paid out exactly once.
func TestCrashResumesScheduledSettlement(t *testing.T) {
	data := filepath.Join(t.TempDir(), "sandbox.db")
	p := startSandbox(t, data)
	tok := p.Auth(t)
	m := p.Post(t, "/merchant/withdraw_orders", withdrawFields(tok, "timer-wd"))
	require.Equal(t, true, m["status"], "%v", m)
	p.Kill(t)

	p2 := startSandbox(t, data)
	require.Eventually(t, func() bool {
		m, err := p2.post("/merchant/check_withdraw_status", map[string]string{"username": "vpay88-test", "id": "timer-wd"})
		return err == nil && m["order_status"] == "completed"
	}, 15*time.Second, 100*time.Millisecond, "the payout's timer did not survive the crash")
	for _, b := range p2.Balances(t) {
		if b.Merchant == "vpay88-test" && b.Currency == "MYR" {
			assert.Equal(t, "999895.0000", b.Available.String(), "1,000,000 - 100 - 5")
			assert.Equal(t, "0.0000", b.Reserved.String())
		}
	}
}

// TestGracefulShutdown stops the sandbox with SIGTERM: it exits 0, says so in its log,
// and a restart on the same file finds everything.
func TestGracefulShutdown(t *testing.T) {
	data := filepath.Join(t.TempDir(), "sandbox.db")
	p := startSandbox(t, data)
	tok := p.Auth(t)
	require.Equal(t, true, p.Post(t, "/merchant/generate_orders", depositFields(tok, "term-dep"))["status"])
	require.Equal(t, true, p.Post(t, "/merchant/withdraw_orders", with(withdrawFields(tok, "term-wd"), map[string]string{"account_no": "4000000009"}))["status"])
	before := p.Balances(t)

	assert.Equal(t, 0, p.Terminate(t), "exit code after SIGTERM; log:\n%s", p.Log())
	assert.Contains(t, p.Log(), "vpay88-sandbox stopped")

	p2 := startSandbox(t, data)
	assert.Equal(t, "pending", p2.status(t, gateway.KindDeposit, "term-dep")["order_status"])
	assert.Equal(t, "pending", p2.status(t, gateway.KindWithdrawal, "term-wd")["order_status"])
	assert.ElementsMatch(t, before, p2.Balances(t))
	// The token issued before the stop is still good.
	assert.Equal(t, true, p2.Post(t, "/merchant/generate_orders", depositFields(tok, "term-dep-2"))["status"])
	assert.Equal(t, 0, p2.Terminate(t))
}

// TestSecondInstanceRefused starts a second sandbox on a file the first one holds: it
// must give up with an error, not share the file.
func TestSecondInstanceRefused(t *testing.T) {
	data := filepath.Join(t.TempDir(), "sandbox.db")
	startSandbox(t, data)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, sandboxBinary(t), "--addr", "127.0.0.1:0", "--data", data)
	cmd.Env = cleanEnv()
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	require.True(t, errors.As(err, &ee), "second instance: %v\n%s", err, out)
	assert.Equal(t, 1, ee.ExitCode())
	assert.Contains(t, string(out), data)
	assert.Contains(t, string(out), "in use by another process")
}

// TestDamagedFileRefused: the binary on a state file cut short or overwritten exits 1
// with one line that names the file and what to do, never a stack trace.
func TestDamagedFileRefused(t *testing.T) {
	data := filepath.Join(t.TempDir(), "sandbox.db")
	p := startSandbox(t, data)
	tok := p.Auth(t)
	for i := 0; i < 300; i++ {
		require.Equal(t, true, p.Post(t, "/merchant/generate_orders", depositFields(tok, fmt.Sprintf("dmg-%d", i)))["status"])
	}
	require.Equal(t, 0, p.Terminate(t))
	good, err := os.ReadFile(data)
	require.NoError(t, err)
	junk := make([]byte, 256<<10)
	for i := range junk {
		junk[i] = byte(i*7 + 3)
	}
	for name, content := range map[string][]byte{"8KiB": good[:8<<10], "half": good[:len(good)/2], "junk": junk} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "damaged.db")
			require.NoError(t, os.WriteFile(path, content, 0o600))
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, sandboxBinary(t), "--addr", "127.0.0.1:0", "--data", path)
			cmd.Env = cleanEnv()
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			require.True(t, errors.As(err, &ee), "damaged file: %v\n%s", err, out)
			assert.Equal(t, 1, ee.ExitCode())
			text := strings.TrimSpace(string(out))
			assert.NotContains(t, text, "\n", "one line")
			assert.NotContains(t, text, "goroutine")
			assert.Contains(t, text, path)
			assert.Contains(t, text, "restore a copy")
		})
	}
}

// TestCompactCommand: `compact` rewrites a stopped sandbox's file, which then starts
// with every order.
func TestCompactCommand(t *testing.T) {
	data := filepath.Join(t.TempDir(), "sandbox.db")
	p := startSandbox(t, data)
	tok := p.Auth(t)
	require.Equal(t, true, p.Post(t, "/merchant/generate_orders", depositFields(tok, "kept"))["status"])
	require.Equal(t, 0, p.Terminate(t))
	var stdout, stderr strings.Builder
	require.Equal(t, 0, run([]string{"compact", "--data", data}, &stdout, &stderr), stderr.String())
	assert.Contains(t, stdout.String(), "compacted "+data)
	p2 := startSandbox(t, data)
	assert.Equal(t, "pending", p2.status(t, gateway.KindDeposit, "kept")["order_status"])
}

func TestVersion(t *testing.T) {
	t.Run("Binary", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, sandboxBinary(t), "version")
		cmd.Env = cleanEnv()
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		require.NoError(t, cmd.Run(), "stderr: %s", stderr.String())
		// A build from a checkout: "dev", or where the go command stamps VCS
		// information (GOFLAGS without -buildvcs=false), the module's pseudo-version,
		// which buildVersion falls back to.
		assert.Regexp(t, `^vpay88-sandbox (dev|v0\.0\.0-\d{14}-[0-9a-f]{12}(\+dirty)?)\n$`, stdout.String())
		assert.Empty(t, stderr.String())
	})
	t.Run("InProcess", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		assert.Equal(t, 0, run([]string{"version"}, &stdout, &stderr))
		assert.Equal(t, "vpay88-sandbox "+buildVersion()+"\n", stdout.String())
	})
	t.Run("UnknownCommand", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		assert.Equal(t, 2, run([]string{"launch"}, &stdout, &stderr))
		assert.Contains(t, stderr.String(), `unknown command "launch"`)
	})
	t.Run("BadFlag", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		assert.Equal(t, 2, run([]string{"--no-such-flag"}, &stdout, &stderr))
		assert.Contains(t, stderr.String(), "no-such-flag")
	})
}

// TestBadConfigRefused starts the binary with broken config files: it must exit 1
// before listening, with the file, the line and the field in its message.
func TestBadConfigRefused(t *testing.T) {
	base := string(config.DefaultYAML())
	tests := []struct {
		name, old, new, at, field string
		viaEnv                    bool
	}{
		{"UnknownField", "withdrawal_delay: 2s", "withdrawal_delay: 2s\nwithdrawl_delay: 1s", "withdrawl_delay:", "withdrawl_delay", false},
		{"MinAboveMax", "{code: SGD, min: 1, max: 15000", "{code: SGD, min: 20000, max: 15000", "code: SGD", "merchants[0].currencies[1].max", false},
		{"BadDuration", "token_lifetime: 30m", "token_lifetime: half an hour", "token_lifetime:", "token_lifetime", false},
		{"ViaEnvironment", "concurrency: 16", "concurrency: 0", "concurrency: 0", "callbacks.concurrency", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Contains(t, base, tc.old)
			doc := strings.Replace(base, tc.old, tc.new, 1)
			dir := t.TempDir()
			cfgPath := filepath.Join(dir, "bad.yaml")
			require.NoError(t, os.WriteFile(cfgPath, []byte(doc), 0o600))
			line := strings.Count(doc[:strings.Index(doc, tc.at)], "\n") + 1

			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			args := []string{"--addr", "127.0.0.1:0", "--data", filepath.Join(dir, "sandbox.db")}
			env := cleanEnv()
			if tc.viaEnv {
				env = cleanEnv("VPAY88_CONFIG=" + cfgPath)
			} else {
				args = append(args, "--config", cfgPath)
			}
			cmd := exec.CommandContext(ctx, sandboxBinary(t), args...)
			cmd.Env = env
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			require.True(t, errors.As(err, &ee), "want a failed exit: %v\n%s", err, out)
			assert.Equal(t, 1, ee.ExitCode())
			msg := string(out)
			assert.Contains(t, msg, cfgPath+":"+strconv.Itoa(line)+":", "file:line")
			assert.Contains(t, msg, tc.field)
			assert.NotContains(t, msg, "listening")
			_, statErr := os.Stat(filepath.Join(dir, "sandbox.db"))
			assert.True(t, os.IsNotExist(statErr), "a refused config must not create the data file")
		})
	}
}

// TestHelpListsCommands: `help` and `--help` list the subcommands, one line each.
func TestHelpListsCommands(t *testing.T) {
	var out, errOut strings.Builder
	require.Equal(t, 0, run([]string{"help"}, &out, &errOut))
	for _, cmd := range []string{"serve", "parity", "client", "compact", "healthcheck", "version", "help"} {
		assert.Regexp(t, `(?m)^  `+cmd+` +\S`, out.String())
	}
	out.Reset()
	require.Equal(t, 0, run([]string{"--help"}, &out, &errOut))
	assert.Contains(t, out.String(), "compact")
	assert.Contains(t, out.String(), "-log-level")
	assert.Empty(t, errOut.String(), "a help asked for is output, not an error")
}

// TestBadLogSettingsRefused: a bad --log-level or --log-format is refused at start.
func TestBadLogSettingsRefused(t *testing.T) {
	for _, args := range [][]string{{"--log-level", "loud"}, {"--log-format", "xml"}} {
		var out, errOut strings.Builder
		assert.Equal(t, 2, run(args, &out, &errOut), "%v", args)
		assert.Contains(t, errOut.String(), args[0])
	}
}

// TestServeFailureEndsRun: when serving fails, the error reaches Run's caller instead
// of the process waiting for a signal with no server.
func TestServeFailureEndsRun(t *testing.T) {
	m := NewMain(io.Discard, io.Discard)
	require.NoError(t, m.ParseFlags([]string{"--addr", "127.0.0.1:0", "--data", filepath.Join(t.TempDir(), "s.db")}))
	require.NoError(t, m.Run(context.Background()))
	require.NoError(t, m.ln.Close()) // Serve now fails: its listener is gone
	select {
	case err := <-m.served:
		assert.Error(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not report its failure")
	}
	assert.NoError(t, m.Close())
}
