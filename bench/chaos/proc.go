package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Sandbox is one running vpay88-sandbox process.
type Sandbox struct {
	URL  string
	Data string
	cmd  *exec.Cmd
	done chan struct{}
	log  *os.File
	mu   sync.Mutex
	code int // exit code once done; -1 killed by a signal
}

// Opts are the flags a sandbox starts with.
type Opts struct {
	Data        string
	Config      string
	CallbackURL string
	FastRetries bool
	LogLevel    string   // default warn: a log line per request would cost CPU we measure
	Args        []string // more flags, e.g. --ephemeral or --frozen
	Env         []string // more environment, e.g. TMPDIR=…
}

var (
	procMu sync.Mutex
	procs  = map[*Sandbox]bool{}
)

// killAll SIGKILLs every process this program started and still running.
func killAll() {
	procMu.Lock()
	list := make([]*Sandbox, 0, len(procs))
	for p := range procs {
		list = append(list, p)
	}
	procMu.Unlock()
	for _, p := range list {
		p.Kill9()
	}
}

// freePort asks the kernel for a free loopback port.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// command builds the sandbox command line; stderr goes to w.
func command(env *Env, o Opts, addr string, w io.Writer) *exec.Cmd {
	args := []string{"--addr", addr, "--data", o.Data, "--seed", "1", "--durability", env.Durability}
	lvl := o.LogLevel
	if lvl == "" {
		lvl = "warn"
	}
	args = append(args, "--log-level", lvl)
	if o.Config != "" {
		args = append(args, "--config", o.Config)
	}
	if o.CallbackURL != "" {
		args = append(args, "--callback-url", o.CallbackURL)
	}
	if o.FastRetries {
		args = append(args, "--fast-retries")
	}
	args = append(args, o.Args...)
	cmd := childCmd(env, args, w)
	cmd.Env = append(cmd.Env, o.Env...)
	return cmd
}

// childCmd runs the binary with args in the scratch folder, stderr to w, as every
// process of the suite is run (a sandbox, a proxy).
func childCmd(env *Env, args []string, w io.Writer) *exec.Cmd {
	cmd := exec.Command(env.Bin, args...)
	cmd.Dir = env.Tmp
	cmd.Stdout = io.Discard
	cmd.Stderr = w
	// The environment must not change the flags' defaults behind our back.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "VPAY88_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	// If this program dies without cleaning up, the kernel kills the child.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return cmd
}

// Start runs a sandbox and waits (at most 10 s) for its /healthz.
func Start(ctx context.Context, env *Env, o Opts) (*Sandbox, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	lf, err := os.CreateTemp(env.Tmp, "sandbox-*.log")
	if err != nil {
		return nil, err
	}
	cmd := command(env, o, addr, lf)
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, err
	}
	s := track(cmd, "http://"+addr, lf)
	s.Data = o.Data
	deadline := time.Now().Add(10 * time.Second)
	c := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) && ctx.Err() == nil {
		select {
		case <-s.done:
			return nil, fmt.Errorf("sandbox exited (code %d) before answering: %s", s.ExitCode(), s.Stderr(300))
		default:
		}
		resp, err := c.Get(s.URL + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s, nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.Kill9()
	return nil, fmt.Errorf("sandbox did not answer /healthz within 10 s: %s", s.Stderr(300))
}

// track wraps a started command: it is listed for killAll until it exits, and its
// exit code is kept. log is the file its stderr goes to.
func track(cmd *exec.Cmd, url string, log *os.File) *Sandbox {
	s := &Sandbox{URL: url, cmd: cmd, done: make(chan struct{}), log: log}
	procMu.Lock()
	procs[s] = true
	procMu.Unlock()
	go func() {
		err := cmd.Wait()
		s.mu.Lock()
		s.code = exitCode(err)
		s.mu.Unlock()
		procMu.Lock()
		delete(procs, s)
		procMu.Unlock()
		close(s.done)
	}()
	return s
}

// startAuthed starts a sandbox and fetches a token for the default merchant. When it
// cannot, rows says why and nothing is left running.
func startAuthed(ctx context.Context, env *Env, o Opts) (sb *Sandbox, token string, rows []Row) {
	sb, err := Start(ctx, env, o)
	if err != nil {
		return nil, "", startFailed(err)
	}
	token, err = auth(ctx, sb.URL, defaultMerchant)
	if err != nil {
		sb.Stop()
		return nil, "", failed("auth", err)
	}
	return sb, token, nil
}

// startFailed is the one row of a trial whose sandbox did not start.
func startFailed(err error) []Row {
	return []Row{{Measured: "server start", Figure: err.Error(), Goal: "starts", Result: "FAIL"}}
}

// failed is the one row of a trial that could not get as far as measuring.
func failed(measured string, err error) []Row {
	return []Row{{Measured: measured, Figure: err.Error(), Goal: "-", Result: "FAIL"}}
}

// waitUntil checks done every pause until it is true, limit passes or ctx ends; it
// reports whether done became true.
func waitUntil(ctx context.Context, limit, pause time.Duration, done func() bool) bool {
	for end := time.Now().Add(limit); time.Now().Before(end) && ctx.Err() == nil; {
		if done() {
			return true
		}
		time.Sleep(pause)
	}
	return false
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return -int(ws.Signal())
		}
		return ee.ExitCode()
	}
	return -1000
}

// PID of the process.
func (s *Sandbox) PID() int { return s.cmd.Process.Pid }

// Alive reports whether the process is still running.
func (s *Sandbox) Alive() bool {
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// ExitCode once exited (negative: the signal that killed it).
func (s *Sandbox) ExitCode() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.code
}

// Kill9 sends SIGKILL and waits for the process to be gone.
func (s *Sandbox) Kill9() {
	if s.Alive() {
		_ = s.cmd.Process.Signal(syscall.SIGKILL)
	}
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
	}
	s.log.Close()
}

// Stop sends SIGTERM and waits up to 10 s, then SIGKILL. It returns the exit code.
func (s *Sandbox) Stop() int {
	if s.Alive() {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
	}
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		s.Kill9()
	}
	s.log.Close()
	return s.ExitCode()
}

// Stderr returns the last n bytes of the process's stderr, on one line.
func (s *Sandbox) Stderr(n int) string {
	b, _ := os.ReadFile(s.log.Name())
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return strings.ReplaceAll(strings.TrimSpace(string(b)), "\n", " | ")
}

// RSS returns VmRSS of the process in bytes (0 if unknown).
func (s *Sandbox) RSS() int64 { return procStatus(s.PID(), "VmRSS") }

func procStatus(pid int, key string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && k == key {
			f := strings.Fields(v)
			if len(f) > 0 {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				return n * 1024
			}
		}
	}
	return 0
}

// --- HTTP ---------------------------------------------------------------------------

// httpc is shared by the trials: at most 16 connections to any one sandbox.
var httpc = &http.Client{
	Timeout: 10 * time.Second,
	Transport: &http.Transport{MaxConnsPerHost: 16, MaxIdleConnsPerHost: 16, IdleConnTimeout: 5 * time.Second,
		DialContext: (&net.Dialer{Timeout: 2 * time.Second}).DialContext},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// post sends an urlencoded form; it returns the status and at most 1 MiB of the body.
func post(ctx context.Context, u string, f url.Values) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(f.Encode()))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return do(req)
}

func get(ctx context.Context, u string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, nil, err
	}
	return do(req)
}

func do(req *http.Request) (int, []byte, error) {
	resp, err := httpc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	return resp.StatusCode, b, err
}

// okAnswer: HTTP 200 and "status":true, the vendor API's success.
func okAnswer(code int, body []byte, err error) bool {
	return err == nil && code == 200 && bytes.Contains(body, []byte(`"status":true`))
}

// Merchant credentials.
type Merchant struct {
	User, APIKey, Secret string
}

var defaultMerchant = Merchant{"vpay88-test", "EPSOWM0eewwrwer0OfUo", "vpay88-test-secret"}

// auth fetches a token, retrying briefly.
func auth(ctx context.Context, base string, m Merchant) (string, error) {
	var last error
	for i := 0; i < 5 && ctx.Err() == nil; i++ {
		code, b, err := post(ctx, base+"/merchant/auth", url.Values{"username": {m.User}, "api_key": {m.APIKey}})
		if okAnswer(code, b, err) {
			var v struct{ Auth string }
			if jsonUnmarshal(b, &v) == nil && v.Auth != "" {
				return v.Auth, nil
			}
		}
		last = fmt.Errorf("auth: HTTP %d %.200s %v", code, b, err)
		time.Sleep(100 * time.Millisecond)
	}
	return "", last
}

func deposit(ctx context.Context, base, token, id, email string) (bool, error) {
	code, b, err := post(ctx, base+"/merchant/generate_orders", url.Values{"username": {"john"}, "auth": {token},
		"amount": {"100"}, "currency": {"MYR"}, "orderid": {id}, "email": {email}, "phone_number": {"0123456789"}})
	if err != nil {
		return false, err
	}
	return okAnswer(code, b, nil), nil
}

func withdraw(ctx context.Context, base, token, id, amount, account string) (bool, error) {
	code, b, err := post(ctx, base+"/merchant/withdraw_orders", url.Values{"auth": {token}, "amount": {amount},
		"currency": {"MYR"}, "orderid": {id}, "bank_id": {"1"}, "holder_name": {"Chaos Test"}, "account_no": {account}})
	if err != nil {
		return false, err
	}
	return okAnswer(code, b, nil), nil
}

// status asks check_status (deposit) or check_withdraw_status; found is "status":true,
// st the order_status.
func status(ctx context.Context, base, merchant, kind, id string) (found bool, st string, err error) {
	path := "/merchant/check_status"
	if kind == "withdrawal" {
		path = "/merchant/check_withdraw_status"
	}
	code, b, err := post(ctx, base+path, url.Values{"username": {merchant}, "id": {id}})
	if err != nil {
		return false, "", err
	}
	if code != 200 {
		return false, "", fmt.Errorf("HTTP %d", code)
	}
	var v struct {
		Status      bool   `json:"status"`
		OrderStatus string `json:"order_status"`
		Message     string `json:"message"`
	}
	if err := jsonUnmarshal(b, &v); err != nil {
		return false, "", err
	}
	if !v.Status && v.Message != "Order not found." {
		return false, "", fmt.Errorf("answer %q", v.Message)
	}
	return v.Status, v.OrderStatus, nil
}

// parallel runs f(i) for i in [0, n) on w workers; it stops early when ctx ends.
func parallel(ctx context.Context, n, w int, f func(i int)) {
	var next int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range w {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= n {
					return
				}
				f(i)
			}
		}()
	}
	wg.Wait()
}

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/(1<<20)) }
