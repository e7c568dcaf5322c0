package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vpay88/vpay88-sandbox/client"
	"github.com/vpay88/vpay88-sandbox/config"
	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/internal/parity"
	"github.com/vpay88/vpay88-sandbox/internal/proxy"
)

// parityFlags is the `parity` command line; each flag defaults to its
// VPAY88_PARITY_<NAME> environment variable, so CI can keep credentials out of argv.
type parityFlags struct {
	Target, Username, APIKey, Secret string
	Against, AgainstUser, AgainstKey string
	Currency                         string
	JSON, AllowPayouts               bool
	Record, Replay                   string
	Timeout                          time.Duration
	// Values compares list elements by value; Profile is the sandbox's profile.
	Values  bool
	Profile gateway.Profile
}

// envBool reads a boolean VPAY88_<name>; anything but a boolean is false.
func envBool(name string) bool {
	b, _ := strconv.ParseBool(env(name, "false"))
	return b
}

func parseParityFlags(args []string, stdout io.Writer) (*parityFlags, error) {
	const p = "PARITY_" // VPAY88_PARITY_<NAME>
	f := &parityFlags{}
	fs := flag.NewFlagSet("vpay88-sandbox parity", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `usage: vpay88-sandbox parity --target URL --username U --api-key K [flags]
       vpay88-sandbox parity --replay FILE [flags]

Runs one scripted conversation (happy paths and each documented error) against the
target and against the sandbox (in process, or --against URL) and reports per step
where they differ. Exit status: 0 no difference, 1 differences, 2 usage or network error.

`)
		fs.PrintDefaults()
	}
	fs.StringVar(&f.Target, "target", env(p+"TARGET", ""), "base URL of the gateway to check, e.g. Vpay88's test environment (VPAY88_PARITY_TARGET)")
	fs.StringVar(&f.Username, "username", env(p+"USERNAME", ""), "the target merchant's username (VPAY88_PARITY_USERNAME)")
	fs.StringVar(&f.APIKey, "api-key", env(p+"API_KEY", ""), "the target merchant's api_key (VPAY88_PARITY_API_KEY)")
	fs.StringVar(&f.Secret, "secret", env(p+"SECRET", ""), "the merchant's secret key: given to the in-process sandbox and masked in the output (VPAY88_PARITY_SECRET)")
	fs.StringVar(&f.Against, "against", env(p+"AGAINST", ""), "base URL of a running sandbox; empty: one in process on a temporary bbolt file (VPAY88_PARITY_AGAINST)")
	fs.StringVar(&f.AgainstUser, "against-username", env(p+"AGAINST_USERNAME", ""), "merchant username at --against; default --username (VPAY88_PARITY_AGAINST_USERNAME)")
	fs.StringVar(&f.AgainstKey, "against-api-key", env(p+"AGAINST_API_KEY", ""), "api_key at --against; default --api-key, else the sandbox's default (VPAY88_PARITY_AGAINST_API_KEY)")
	fs.StringVar(&f.Currency, "currency", env(p+"CURRENCY", "MYR"), "currency of the orders the conversation creates (VPAY88_PARITY_CURRENCY)")
	fs.BoolVar(&f.JSON, "json", envBool(p+"JSON"), "write the report as JSON (VPAY88_PARITY_JSON)")
	fs.StringVar(&f.Record, "record", env(p+"RECORD", ""), "save the target's answers, secrets masked, to FILE (VPAY88_PARITY_RECORD)")
	fs.StringVar(&f.Replay, "replay", env(p+"REPLAY", ""), "compare the sandbox with the answers recorded in FILE, offline: a parity --record file, or a proxy --record file, whose exchanges a fresh shadow answers again in order (VPAY88_PARITY_REPLAY)")
	fs.BoolVar(&f.AllowPayouts, "allow-payouts", envBool(p+"ALLOW_PAYOUTS"), "also send a real withdrawal: it moves money on the target (VPAY88_PARITY_ALLOW_PAYOUTS)")
	fs.BoolVar(&f.Values, "values", envBool(p+"VALUES"), "also compare list elements by value: rates' min and max per currency, banks per currency and id (VPAY88_PARITY_VALUES)")
	var profile string
	fs.StringVar(&profile, "profile", env(p+"PROFILE", string(gateway.ProfileDocument)), "profile of the in-process sandbox, document or observed; with --against, the profile that sandbox runs (VPAY88_PARITY_PROFILE)")
	timeout, err := time.ParseDuration(env(p+"TIMEOUT", "30s"))
	if err != nil {
		return nil, fmt.Errorf("VPAY88_PARITY_TIMEOUT: %w", err)
	}
	fs.DurationVar(&f.Timeout, "timeout", timeout, "bound on each request (VPAY88_PARITY_TIMEOUT)")
	if err := parseFlags(fs, "parity", args, stdout); err != nil {
		return nil, err
	}
	switch {
	case fs.NArg() > 0:
		return nil, fmt.Errorf("unexpected arguments: %v", fs.Args())
	case f.Record != "" && f.Replay != "":
		return nil, errors.New("--record and --replay exclude each other")
	case f.Replay != "" && f.Target != "":
		return nil, errors.New("--replay compares a recording: --target is not used with it")
	case f.Replay == "" && f.Target == "":
		return nil, errors.New("--target (or --replay) is required")
	case f.Replay == "" && (f.Username == "" || f.APIKey == ""):
		return nil, errors.New("--username and --api-key are required with --target")
	case f.Timeout <= 0:
		return nil, errors.New("--timeout must be positive")
	}
	if f.Profile, err = gateway.ParseProfile(profile); err != nil {
		return nil, fmt.Errorf("--profile: %w", err)
	}
	f.Currency = strings.ToUpper(f.Currency)
	return f, nil
}

// runParity is `vpay88-sandbox parity`.
func runParity(args []string, stdout, stderr io.Writer) int {
	f, err := parseParityFlags(args, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "vpay88-sandbox parity:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return parityMain(ctx, f, stdout, stderr)
}

func parityMain(ctx context.Context, f *parityFlags, stdout, stderr io.Writer) int {
	fail := func(err error) int {
		fmt.Fprintln(stderr, "vpay88-sandbox parity:", err)
		return 2
	}
	if f.Replay != "" {
		ok, err := proxy.IsRecording(f.Replay)
		if err != nil {
			return fail(err)
		}
		if ok {
			return proxyReplayMain(ctx, f, stdout, stderr)
		}
	}
	opts := parity.Options{Currency: f.Currency, AllowPayouts: f.AllowPayouts, Secrets: []string{f.Secret},
		Values: f.Values, Profile: f.Profile}
	username, err := parityTarget(f, &opts)
	if err != nil {
		return fail(err)
	}
	closeSandbox, err := paritySandbox(f, username, &opts)
	if err != nil {
		return fail(err)
	}
	defer closeSandbox()

	rep, runErr := parity.Run(ctx, opts)
	if rep != nil {
		if err := writeParityReport(rep, f, opts, stdout); err != nil {
			return fail(err)
		}
	}
	if runErr != nil {
		if f.Record != "" {
			runErr = fmt.Errorf("%w (no recording written)", runErr)
		}
		return fail(runErr)
	}
	if f.Record != "" {
		if err := rep.Recording.WriteFile(f.Record); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stderr, "vpay88-sandbox parity: recorded %d answers to %s\n", len(rep.Recording.Steps), f.Record)
	}
	if !rep.OK() {
		return 1
	}
	return 0
}

// proxyReplayMain is `parity --replay` of a proxy recording: its exchanges answered
// again, in order, by a fresh shadow (proxy.Replay), and the report the proxy prints
// on exit. Exit status as parity's: 0 no difference, 1 differences, 2 errors.
func proxyReplayMain(ctx context.Context, f *parityFlags, stdout, stderr io.Writer) int {
	fail := func(err error) int {
		fmt.Fprintln(stderr, "vpay88-sandbox parity:", err)
		return 2
	}
	switch {
	case f.Against != "":
		return fail(errors.New("--against: a proxy recording is answered again by an in-process shadow only"))
	case f.Values:
		return fail(errors.New("--values: the proxy compares list elements by shape only"))
	}
	rep, err := proxy.Replay(ctx, f.Replay, proxy.ReplayOptions{Username: f.Username, APIKey: f.APIKey,
		Secret: f.Secret, Profile: f.Profile, ShadowTimeout: f.Timeout})
	if rep != nil {
		write := rep.WriteTable
		if f.JSON {
			write = rep.WriteJSON
		}
		if werr := write(stdout); werr != nil {
			return fail(werr)
		}
	}
	if err != nil {
		return fail(err)
	}
	if !rep.OK() {
		return 1
	}
	return 0
}

// parityTarget sets the target side of opts: the recording to replay, or the live
// gateway. It returns the target merchant's username (from the recording when the
// flags do not give one).
func parityTarget(f *parityFlags, opts *parity.Options) (string, error) {
	username := f.Username
	if f.Replay != "" {
		rec, err := parity.ReadRecording(f.Replay)
		if err != nil {
			return "", err
		}
		opts.Replay = rec
		if username == "" {
			username = rec.Username
		}
		return username, nil
	}
	opts.Target = client.New(f.Target, client.WithCredentials(f.Username, f.APIKey), client.WithTimeout(f.Timeout))
	opts.TargetAPIKey = f.APIKey
	return username, nil
}

// paritySandbox sets the sandbox side of opts: the one at --against, or one started
// in process. It returns what stops it.
func paritySandbox(f *parityFlags, username string, opts *parity.Options) (func(), error) {
	if f.Against != "" {
		user, key := firstOf(f.AgainstUser, username), firstOf(f.AgainstKey, f.APIKey)
		if user == "" || key == "" {
			def := config.Default().Merchants[0]
			user, key = firstOf(user, def.Username), firstOf(key, def.APIKey)
		}
		opts.Sandbox = client.New(f.Against, client.WithCredentials(user, key), client.WithTimeout(f.Timeout))
		opts.SandboxAPIKey = key
		return func() {}, nil
	}
	// The in-process sandbox's merchant gets the target's credentials, so both
	// sides hear the same conversation.
	sb, err := parity.StartSandbox(username, f.APIKey, f.Secret, func(cfg *config.Config) { cfg.Profile = f.Profile })
	if err != nil {
		return nil, fmt.Errorf("in-process sandbox: %w", err)
	}
	opts.Sandbox = client.New(sb.URL, client.WithCredentials(sb.Username, sb.APIKey), client.WithTimeout(f.Timeout))
	opts.SandboxAPIKey = sb.APIKey
	return func() { sb.Close() }, nil
}

// writeParityReport prints the report as a table, or as JSON with --json.
func writeParityReport(rep *parity.Report, f *parityFlags, opts parity.Options, stdout io.Writer) error {
	if rep.Sandbox == opts.Sandbox.BaseURL() && f.Against == "" {
		rep.Sandbox = "in process (" + rep.Sandbox + ", temporary bbolt file)"
	}
	if f.JSON {
		return rep.WriteJSON(stdout)
	}
	return rep.WriteTable(stdout)
}

func firstOf(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
