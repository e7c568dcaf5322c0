// Command vpay88-sandbox is a local, stateful stand-in for the Vpay88 payment gateway:
// the vendor's merchant API, a hosted checkout page, signed durable callbacks, and
// scenarios that force every outcome. See README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vpay88/vpay88-sandbox/clock"
	"github.com/vpay88/vpay88-sandbox/config"
	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/server"
	"github.com/vpay88/vpay88-sandbox/store"
)

// version is set at build time with -ldflags "-X main.version=…"; buildVersion falls
// back to the module's build info without it.
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches the subcommands; it returns the process exit code.
func run(args []string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return runServe(args, stdout, stderr)
	case "version":
		return runVersion(args, stdout, stderr)
	case "healthcheck":
		return runHealthcheck(args, stdout, stderr)
	case "parity":
		return runParity(args, stdout, stderr)
	case "client":
		return runClient(args, stdout, stderr)
	case "compact":
		return runCompact(args, stdout, stderr)
	case "proxy":
		return runProxy(args, stdout, stderr)
	case "config":
		return runConfig(args, stdout, stderr)
	case "help":
		return commandHelp(args, stdout, stderr)
	default:
		fmt.Fprintln(stderr, unknownCommand(cmd))
		return 2
	}
}

// runServe is `vpay88-sandbox [serve]`: it serves until a signal or a failure.
func runServe(args []string, stdout, stderr io.Writer) int {
	m := NewMain(stdout, stderr)
	if err := m.ParseFlags(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "vpay88-sandbox:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := m.Run(ctx); err != nil {
		fmt.Fprintln(stderr, "vpay88-sandbox:", err)
		return 1
	}
	// Serving ends by a signal, or by the server failing: then the process ends
	// too (exit 1) instead of waiting for a signal with nothing to serve.
	var served error
	select {
	case <-ctx.Done():
	case served = <-m.served:
	}
	code := 0
	if served != nil {
		fmt.Fprintln(stderr, "vpay88-sandbox: serve:", served)
		code = 1
	}
	if err := m.Close(); err != nil {
		fmt.Fprintln(stderr, "vpay88-sandbox: shutdown:", err)
		return 1
	}
	return code
}

// usage lists the subcommands, one line each (`help`, and before the flags of serve --help).
const usage = `Usage: vpay88-sandbox [command] [flags]

Commands:
  serve        run the sandbox (the default when no command is given)
  parity       compare a target gateway's answers with the sandbox's
  client       send one vendor API request and print the answer
  proxy        forward an integration's traffic to the real gateway, compare with a shadow sandbox
  compact      rewrite a stopped sandbox's state file to its live size (--data FILE)
  config       print the embedded default config (config default), or check a file (config check FILE)
  healthcheck  ask a local sandbox's /healthz (exit 0 when healthy; --wait 30s asks until it is)
  version      print the version
  help         print this list; "help COMMAND" prints a command's flags

Run "vpay88-sandbox COMMAND --help" for a command's flags ("vpay88-sandbox serve --help" for the server's).
`

// runCompact rewrites a state file offline (bbolt's compact): what retention and
// resets deleted is given back to the file system.
func runCompact(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("vpay88-sandbox compact", flag.ContinueOnError)
	def := "vpay88-sandbox.db"
	if v, ok := os.LookupEnv("VPAY88_DATA"); ok {
		def = v
	}
	data := fs.String("data", def, "the bbolt state file to compact; the sandbox using it must be stopped (VPAY88_DATA)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "usage: vpay88-sandbox compact [--data FILE]\n\nRewrites a stopped sandbox's state file to its live size: what retention and resets\ndeleted is given back to the file system.\n\n")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, "compact", args, stdout); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "vpay88-sandbox compact:", err)
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "vpay88-sandbox compact: unexpected arguments: %v\n", fs.Args())
		return 2
	}
	before, after, err := store.Compact(*data)
	if err != nil {
		fmt.Fprintln(stderr, "vpay88-sandbox compact:", err)
		return 1
	}
	fmt.Fprintf(stdout, "compacted %s: %d → %d bytes\n", *data, before, after)
	return 0
}

// Main is the server program: flags and VPAY88_* environment into a configuration,
// then the store, the server and the listener.
type Main struct {
	Addr        string
	DataPath    string
	ConfigPath  string
	PublicURL   string
	CallbackURL string
	Seed        int64
	AdminToken  string
	LogFormat   string
	LogLevel    string
	FastRetries bool
	// Retention overrides the config file's retention when set ("30d", "12h").
	Retention string
	// Profile overrides the config file's profile when set (document, observed).
	Profile string
	// ForwardTo is where callbacks captured at /sandbox/capture/{name} are forwarded.
	ForwardTo string
	// ClockStart (RFC 3339) starts the sandbox clock at that instant; Frozen starts it
	// stopped. Neither: the clock resumes as the data file saved it, or real time.
	ClockStart string
	Frozen     bool
	// Ephemeral keeps the state in a temporary file removed on exit, without fsync
	// (CI); Durability is "machine" (fsync every commit) or "process" (no fsync).
	Ephemeral  bool
	Durability string
	// AddrFile is where serve writes the base URL it really listens at, for
	// healthcheck and test harnesses (addrfile.go); empty: beside the state file.
	AddrFile string
	// dataSet says --data or VPAY88_DATA was given (an ephemeral run ignores it);
	// addrSet says --addr was given on the command line (healthcheck then asks it,
	// not the address file).
	dataSet, addrSet bool
	// addrWritten is the address file this run wrote, removed by Close.
	addrWritten string
	// cmd is the command whose flags these are, for the hint of a bad flag: serve, or
	// healthcheck, which reads serve's flags to find the port.
	cmd     string
	tempDir *store.TempDir // --ephemeral's directory, removed by Close

	stdout, stderr io.Writer
	store          *store.Store
	srv            *server.Server
	http           *http.Server
	ln             net.Listener
	log            *slog.Logger
	// served receives the error that ended Serve (nil after a graceful Shutdown).
	served chan error
}

// NewMain returns a Main writing to the given streams.
func NewMain(stdout, stderr io.Writer) *Main {
	return &Main{stdout: stdout, stderr: stderr, log: slog.New(slog.DiscardHandler), served: make(chan error, 1), cmd: "serve"}
}

// env reads the VPAY88_<name> environment variable that stands behind a flag, or def.
func env(name, def string) string {
	if v, ok := os.LookupEnv("VPAY88_" + name); ok {
		return v
	}
	return def
}

// ParseFlags reads flags; each flag defaults to its VPAY88_<NAME> environment variable.
func (m *Main) ParseFlags(args []string) error {
	fs := flag.NewFlagSet("vpay88-sandbox", flag.ContinueOnError)
	fs.StringVar(&m.Addr, "addr", env("ADDR", "127.0.0.1:8088"), "listen address (VPAY88_ADDR)")
	fs.StringVar(&m.DataPath, "data", env("DATA", "vpay88-sandbox.db"), "bbolt state file (VPAY88_DATA)")
	fs.StringVar(&m.AddrFile, "addr-file", env("ADDR_FILE", ""), "write the URL the server really listens at to this file, for healthcheck and test harnesses; empty: the state file's name + .addr, none under --ephemeral (VPAY88_ADDR_FILE)")
	fs.StringVar(&m.ConfigPath, "config", env("CONFIG", ""), "YAML config file; empty: the embedded default (VPAY88_CONFIG)")
	fs.StringVar(&m.PublicURL, "public-url", env("PUBLIC_URL", ""), "base URL of p_url; empty: the request's host (VPAY88_PUBLIC_URL)")
	fs.StringVar(&m.CallbackURL, "callback-url", env("CALLBACK_URL", ""), "callback URL of the first merchant (VPAY88_CALLBACK_URL)")
	seed, err := strconv.ParseInt(env("SEED", "0"), 10, 64)
	if err != nil {
		return fmt.Errorf("VPAY88_SEED: %w", err)
	}
	fs.Int64Var(&m.Seed, "seed", seed, "seed for generated payer names; 0: random (VPAY88_SEED)")
	fs.StringVar(&m.AdminToken, "admin-token", env("ADMIN_TOKEN", ""), "bearer token guarding /sandbox (VPAY88_ADMIN_TOKEN)")
	fs.StringVar(&m.LogFormat, "log-format", env("LOG_FORMAT", "text"), "text or json (VPAY88_LOG_FORMAT)")
	fs.StringVar(&m.LogLevel, "log-level", env("LOG_LEVEL", "info"), "debug, info, warn, error (VPAY88_LOG_LEVEL)")
	fs.StringVar(&m.Retention, "retention", env("RETENTION", ""), "delete orders older than this (e.g. 30d); empty: the config's retention (VPAY88_RETENTION)")
	fs.StringVar(&m.Profile, "profile", env("PROFILE", ""), "document or observed: which gateway to imitate where the vendor document and live integrations disagree; empty: the config's (document) (VPAY88_PROFILE)")
	fs.StringVar(&m.ForwardTo, "forward-to", env("FORWARD_TO", ""), "forward every callback captured at /sandbox/capture/{name} to this URL, the merchant's own, and relay its answer (VPAY88_FORWARD_TO)")
	fs.StringVar(&m.ClockStart, "clock-start", env("CLOCK_START", ""), "start the sandbox clock at this RFC 3339 time, e.g. 2026-12-01T09:00:00Z (VPAY88_CLOCK_START)")
	fs.StringVar(&m.Durability, "durability", env("DURABILITY", "machine"), "machine: every acknowledged write survives a machine crash (fsync); process: it survives the process being killed, not the machine (no fsync) (VPAY88_DURABILITY)")
	for _, b := range []struct {
		p           *bool
		name, usage string
	}{
		{&m.FastRetries, "fast-retries", "use the fast callback retry schedule, for CI"},
		{&m.Frozen, "frozen", "start the sandbox clock frozen: it moves only by POST /sandbox/api/clock"},
		{&m.Ephemeral, "ephemeral", "keep the state in a temporary file removed on exit, written without fsync: for CI"},
	} {
		if err := boolFlag(fs, b.p, b.name, b.usage); err != nil {
			return err
		}
	}
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fmt.Fprintln(fs.Output(), "\nFlags of serve (each also read from the VPAY88_ variable named):")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, m.cmd, args, m.stdout); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	_, m.dataSet = os.LookupEnv("VPAY88_DATA")
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "data":
			m.dataSet = true
		case "addr":
			m.addrSet = true
		}
	})
	return m.check()
}

// boolFlag defines a boolean flag whose default is its VPAY88_<NAME> variable.
func boolFlag(fs *flag.FlagSet, p *bool, name, usage string) error {
	envName := strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
	def, err := strconv.ParseBool(env(envName, "false"))
	if err != nil {
		return fmt.Errorf("VPAY88_%s: %w", envName, err)
	}
	fs.BoolVar(p, name, def, usage+" (VPAY88_"+envName+")")
	return nil
}

// check refuses flag values that do not parse, with the flag's name.
func (m *Main) check() error {
	if m.Durability != "machine" && m.Durability != "process" {
		return fmt.Errorf("--durability must be machine or process, not %q", m.Durability)
	}
	if m.ClockStart != "" {
		t, err := time.Parse(time.RFC3339Nano, m.ClockStart)
		if err != nil {
			return fmt.Errorf("--clock-start must be an RFC 3339 time such as 2026-12-01T09:00:00Z, not %q", m.ClockStart)
		}
		if clock.CheckRange(t) != nil {
			return fmt.Errorf("--clock-start must be an instant the sandbox clock holds, %s to %s, not %q",
				clock.Min.Format(time.RFC3339), clock.Max.Format(time.RFC3339), m.ClockStart)
		}
	}
	if m.Retention != "" {
		var d config.Duration
		if err := d.UnmarshalText([]byte(m.Retention)); err != nil {
			return fmt.Errorf("--retention: %w", err)
		}
	}
	if err := gateway.CheckCallbackURL(m.CallbackURL); err != nil {
		return fmt.Errorf("--callback-url (VPAY88_CALLBACK_URL) %w", err)
	}
	if m.ForwardTo != "" {
		if u, err := url.Parse(m.ForwardTo); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("--forward-to must be an http or https URL, not %q", m.ForwardTo)
		}
	}
	if _, err := gateway.ParseProfile(m.Profile); err != nil {
		return fmt.Errorf("--profile: %w", err)
	}
	switch m.LogFormat {
	case "text", "json":
	default:
		return fmt.Errorf("--log-format must be text or json, not %q", m.LogFormat)
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(m.LogLevel)); err != nil {
		return fmt.Errorf("--log-level must be debug, info, warn or error, not %q", m.LogLevel)
	}
	return nil
}

func (m *Main) logger() *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(m.LogLevel))
	opts := &slog.HandlerOptions{Level: lvl}
	if m.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(m.stderr, opts))
	}
	return slog.New(slog.NewTextHandler(m.stderr, opts))
}

// Run loads the config, opens the store, listens, and serves in the background.
func (m *Main) Run(ctx context.Context) error {
	m.log = m.logger()
	cfg := config.Default()
	if m.ConfigPath != "" {
		c, err := config.Load(m.ConfigPath)
		if err != nil {
			return err
		}
		cfg = c
	}
	if m.CallbackURL != "" {
		cfg.Merchants[0].CallbackURL = m.CallbackURL
	}
	if m.FastRetries {
		cfg.Callbacks.Schedule = config.FastSchedule()
	}
	if m.Retention != "" {
		_ = cfg.Retention.UnmarshalText([]byte(m.Retention)) // checked by ParseFlags
	}
	if m.Profile != "" {
		cfg.Profile, _ = gateway.ParseProfile(m.Profile) // checked by ParseFlags
	}
	st, err := m.openStore()
	if err != nil {
		return err
	}
	m.store = st
	if err := m.startClock(st); err != nil {
		st.Close()
		return err
	}
	// Listen before serving, so a busy port fails at once and :0 works.
	ln, err := net.Listen("tcp", m.Addr)
	if err != nil {
		st.Close()
		return err
	}
	m.ln = ln
	// The listener's own address decides, so "localhost:8088" counts as loopback and
	// ":8088" or "0.0.0.0:8088" (Docker) does not: there any Host is served.
	tcp, _ := ln.Addr().(*net.TCPAddr)
	srv, err := server.New(server.Options{Config: cfg, Store: st, PublicURL: m.PublicURL, Logger: m.log,
		Seed: m.Seed, AdminToken: m.AdminToken, LoopbackOnly: tcp != nil && tcp.IP.IsLoopback(), ForwardTo: m.ForwardTo})
	if err != nil {
		ln.Close()
		st.Close()
		return err
	}
	m.srv = srv
	if err := m.publishAddr(); err != nil {
		srv.Close()
		ln.Close()
		st.Close()
		return err
	}
	m.http = &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, IdleTimeout: 2 * time.Minute}
	m.http.RegisterOnShutdown(srv.CloseStreams)
	go func() {
		err := m.http.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		m.served <- err
	}()
	m.log.Info("vpay88-sandbox listening", "url", m.URL(), "dashboard", m.URL()+"/sandbox/", "data", m.DataPath, "config", orDefault(m.ConfigPath),
		"durability", m.durability(), "version", buildVersion())
	return nil
}

func orDefault(p string) string {
	if p == "" {
		return "(embedded default)"
	}
	return p
}

// URL is the base URL the server listens on.
func (m *Main) URL() string { return "http://" + m.ln.Addr().String() }

// Close stops accepting requests, lets those in flight finish, stops the background
// work and closes the store.
func (m *Main) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var errs []error
	if m.http != nil {
		errs = append(errs, m.http.Shutdown(ctx))
	}
	if m.srv != nil {
		errs = append(errs, m.srv.Close())
	}
	errs = append(errs, m.unpublishAddr())
	if m.store != nil {
		errs = append(errs, m.store.Close())
	}
	if m.tempDir != nil {
		errs = append(errs, m.tempDir.Remove())
	}
	m.log.Info("vpay88-sandbox stopped")
	return errors.Join(errs...)
}

// runHealthcheck asks the local server's /healthz; the Docker image's HEALTHCHECK uses
// it because the image has no shell and no curl. With --wait D it asks again until the
// server answers 200 or D has passed, so a CI script can start the sandbox in the
// background and wait for it with the binary it already has.
func runHealthcheck(args []string, stdout, stderr io.Writer) int {
	wait, u, args, err := healthcheckFlags(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, healthcheckHelp)
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "healthcheck:", err)
		return 2
	}
	m := NewMain(io.Discard, stderr)
	m.cmd = "healthcheck"
	if err := m.ParseFlags(args); err != nil {
		fmt.Fprintln(stderr, "healthcheck:", err)
		return 2
	}
	target := func() string { return u }
	if u == "" {
		if _, err := m.healthTarget(); err != nil {
			fmt.Fprintln(stderr, "healthcheck:", err)
			return 2
		}
		target = func() string { t, _ := m.healthTarget(); return t }
	}
	if wait == 0 {
		if err := checkHealth(target(), healthcheckTimeout); err != nil {
			fmt.Fprintln(stderr, "healthcheck:", err)
			return 1
		}
		return 0
	}
	if err := waitHealthy(target, wait); err != nil {
		fmt.Fprintln(stderr, "healthcheck:", err)
		return 1
	}
	return 0
}

const (
	// healthcheckTimeout bounds one request: a server that is up answers /healthz at
	// once, and Docker's HEALTHCHECK --timeout is 3s.
	healthcheckTimeout = 2 * time.Second
	// healthcheckInterval is the pause between two attempts of --wait: short beside a
	// sandbox's start (tens of milliseconds), long enough not to spin.
	healthcheckInterval = 200 * time.Millisecond
)

// healthcheckHelp is `healthcheck --help`: its own flags, not the server's.
const healthcheckHelp = `usage: vpay88-sandbox healthcheck [--wait 30s] [--url http://vpay88:8088] [--addr HOST:PORT]

Asks a sandbox's /healthz. Exit status: 0 when it answers 200, 1 when it does not (one
line naming the URL and the last error), 2 on a usage error. The Docker image's
HEALTHCHECK runs it; a CI script starts the sandbox in the background and waits with
--wait.

  --wait duration
    	ask every 200ms until the sandbox answers 200 or this long has passed, e.g. 30s
    	(default 0: ask once)
  --url URL
    	the sandbox's base URL (http://vpay88:8088 for a service container) or its
    	/healthz; default: http://127.0.0.1 at the port of --addr
  --addr HOST:PORT
    	the address the sandbox was started with (VPAY88_ADDR; default 127.0.0.1:8088)

The server's other flags and VPAY88_* variables are accepted and ignored, so the
command line and environment that start the sandbox find its port here too.
`

// healthcheckFlags takes healthcheck's own flags out of args: --wait D and --url U (or
// -wait, -url, or =V). The other flags are serve's, which ParseFlags reads, so that
// healthcheck finds the port as serve does. -h or --help is flag.ErrHelp.
func healthcheckFlags(args []string) (wait time.Duration, target string, rest []string, err error) {
	rest = make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			rest = append(rest, args[i:]...)
			break
		}
		if a == "-h" || a == "-help" || a == "--help" {
			return 0, "", nil, flag.ErrHelp
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || (name != "wait" && name != "url") {
			rest = append(rest, a)
			continue
		}
		if !hasVal {
			if i+1 == len(args) {
				return 0, "", nil, fmt.Errorf("--%s needs a value, e.g. --wait 30s or --url http://vpay88:8088", name)
			}
			i++
			val = args[i]
		}
		if name == "url" {
			if target, err = healthURL(val); err != nil {
				return 0, "", nil, err
			}
			continue
		}
		d, err := time.ParseDuration(val)
		if err != nil || d < 0 {
			return 0, "", nil, fmt.Errorf("--wait must be a duration such as 30s, not %q", val)
		}
		wait = d
	}
	return wait, target, rest, nil
}

// healthURL is the /healthz of a sandbox's base URL (a service container's
// http://vpay88:8088); a URL with a path is taken as it is.
func healthURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("--url must be an http or https URL such as http://vpay88:8088, not %q", raw)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/healthz"
	}
	return u.String(), nil
}

// checkHealth sends one GET to u; any answer but 200 is an error.
func checkHealth(u string, timeout time.Duration) error {
	c := http.Client{Timeout: timeout}
	resp, err := c.Get(u)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// waitHealthy asks target() every healthcheckInterval until it answers 200 or wait
// has passed; the error names the URL and the last failure, on one line.
func waitHealthy(target func() string, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	var last error
	var asked string // the URL of the last attempt, which last is about
	for {
		left := time.Until(deadline)
		if left <= 0 { // never a zero Client.Timeout: that would wait for ever
			return fmt.Errorf("%s not healthy after %s: %v", asked, wait, last)
		}
		asked = target()
		err := checkHealth(asked, min(healthcheckTimeout, left))
		if err == nil {
			return nil
		}
		// An attempt cut short by the deadline says only "deadline exceeded": the
		// failure before it (connection refused, status 503) is the one worth telling.
		var ue *url.Error
		cut := errors.As(err, &ue) && ue.Timeout() && left < healthcheckTimeout
		if ue != nil {
			err = ue.Err // the URL leads the message already
		}
		if last == nil || !cut {
			last = err
		}
		time.Sleep(min(healthcheckInterval, time.Until(deadline)))
	}
}

// startClock sets the sandbox clock: --clock-start and --frozen, else the state the
// data file saved (QA's moves survive a restart), else real time. A start before the
// file's own time is refused: time never goes backwards over stored orders.
func (m *Main) startClock(st *store.Store) error {
	saved, ok, err := st.SavedClock()
	if err != nil {
		return err
	}
	clk := st.Clock()
	if ok {
		if err := clk.Restore(saved); err != nil {
			if !errors.Is(err, clock.ErrRange) {
				return err
			}
			// A clock an older version let wrap (issue 18): not resumed. A
			// --clock-start replaces it; without one the sandbox does not start.
			if m.ClockStart == "" {
				return fmt.Errorf("the clock %s holds cannot be resumed (%v): start with --clock-start, or on a fresh --data", m.DataPath, err)
			}
			ok = false
		}
	}
	if m.ClockStart == "" && !m.Frozen {
		if ok && clk.Offset() != 0 {
			m.log.Info("sandbox clock resumed", "now", clk.Now().UTC(), "frozen", clk.IsFrozen())
		}
		return nil
	}
	at := clk.Now()
	if m.ClockStart != "" {
		start, _ := time.Parse(time.RFC3339Nano, m.ClockStart) // checked by ParseFlags
		if ok && start.Before(at) {
			return fmt.Errorf("--clock-start %s is before the time %s holds (%s): time never goes backwards; start on a fresh --data", m.ClockStart, m.DataPath, at.UTC().Format(time.RFC3339))
		}
		at = start
	}
	next := clock.State{Offset: time.Until(at)}
	if m.Frozen {
		next = clock.State{Frozen: true, At: at}
	}
	if err := clk.Restore(next); err != nil {
		return err
	}
	m.log.Info("sandbox clock set", "now", clk.Now().UTC(), "frozen", clk.IsFrozen())
	return st.SaveClock()
}

// ephemeralGOGC is the collector's target under --ephemeral (GOGC overrides it): at
// 400, one connection's deposit cost 400 µs of CPU instead of 500 (bench/profile).
const ephemeralGOGC = 400

// openStore opens the state file: --data, or under --ephemeral a fresh temporary one
// (removed by Close); without fsync under --ephemeral or --durability process.
func (m *Main) openStore() (*store.Store, error) {
	opts := []store.Option{store.WithLogger(m.log)}
	switch {
	case m.Ephemeral:
		// The state dies with the process: the same group commit, without fsync
		// (store.Ephemeral).
		opts = append(opts, store.Ephemeral())
	case m.Durability == "process":
		// Writes still reach the OS at each commit, so a killed process loses nothing
		// acknowledged; only a machine crash or power loss can.
		opts = append(opts, store.WithoutSync())
	}
	if m.Ephemeral {
		if _, set := os.LookupEnv("GOGC"); !set {
			// CI mode trades memory for CPU: a deposit's garbage (multipart parts, the
			// commit's page buffers) made the collector a fifth of its CPU at GOGC 100.
			debug.SetGCPercent(ephemeralGOGC)
		}
		// Named and locked, so that the next start removes it should this process
		// be killed before it can (store.MakeTempDir).
		dir, err := store.MakeTempDir("vpay88-sandbox-ephemeral-")
		if err != nil {
			return nil, err
		}
		if m.dataSet {
			m.log.Warn("--ephemeral: --data is ignored; the state lives in a temporary file removed on exit", "data", m.DataPath)
		}
		m.tempDir, m.DataPath = dir, filepath.Join(dir.Path, "sandbox.db")
	}
	st, err := store.Open(m.DataPath, opts...)
	if err != nil && m.tempDir != nil {
		m.tempDir.Remove()
		m.tempDir = nil
	}
	return st, err
}

// durability names what an acknowledged write survives, for the start-up line.
func (m *Main) durability() string {
	switch {
	case m.Ephemeral:
		return "ephemeral"
	case m.Durability == "process":
		return "process"
	}
	return "machine"
}
