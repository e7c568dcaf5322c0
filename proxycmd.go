package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/internal/proxy"
)

// proxyFlags are the proxy subcommand's settings; each defaults to its
// VPAY88_PROXY_<NAME> environment variable.
type proxyFlags struct {
	target, addr, record, report string
	username, apiKey, secret     string
	forwardTo                    string
	json, attribute              bool
	profile                      gateway.Profile
	// readTimeout and targetTimeout are proxy.Options' ReadTimeout and TargetTimeout;
	// maxDifferences its MaxDifferences.
	readTimeout, targetTimeout time.Duration
	maxDifferences             int
}

func parseProxyFlags(args []string, stdout io.Writer) (*proxyFlags, error) {
	const p = "PROXY_" // VPAY88_PROXY_<NAME>
	f := &proxyFlags{}
	fs := flag.NewFlagSet("vpay88-sandbox proxy", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `usage: vpay88-sandbox proxy --target URL [--addr 127.0.0.1:8089] [--record FILE] [--username U --api-key K --secret S]

A reverse proxy to point the integration at instead of the gateway: requests go to the
target unchanged, answers come back unchanged. Off the integration's path each exchange
is recorded (secrets masked) and answered again by an in-process sandbox, and the two
answers are compared as parity compares them; a second sandbox under the other profile
says which profile answers as the target does. Differences: logged, at
http://ADDR/proxy/differences (JSON) and http://ADDR/proxy/ (page), and printed as a
parity report on SIGINT or SIGTERM. Callbacks posted to http://ADDR/sandbox/capture/NAME
are checked by the shadow sandbox (listed at /sandbox/api/captures), never sent to the
target. "vpay88-sandbox parity --replay FILE" answers a recording again, offline.

`)
		fs.PrintDefaults()
	}
	fs.StringVar(&f.target, "target", env(p+"TARGET", ""), "base URL of the real gateway (VPAY88_PROXY_TARGET)")
	fs.StringVar(&f.addr, "addr", env(p+"ADDR", "127.0.0.1:8089"), "where the integration reaches the proxy (VPAY88_PROXY_ADDR)")
	fs.StringVar(&f.record, "record", env(p+"RECORD", ""), "write every exchange, secrets masked, as JSON lines to FILE (VPAY88_PROXY_RECORD)")
	fs.StringVar(&f.report, "report", env(p+"REPORT", ""), "on exit, also write the report as JSON to FILE (VPAY88_PROXY_REPORT)")
	fs.BoolVar(&f.json, "json", envBool(p+"JSON"), "print the report on exit as JSON instead of a table (VPAY88_PROXY_JSON)")
	fs.StringVar(&f.username, "username", env(p+"USERNAME", ""), "the traffic's merchant username; default: learnt from the first /merchant/auth (VPAY88_PROXY_USERNAME)")
	fs.StringVar(&f.apiKey, "api-key", env(p+"API_KEY", ""), "the traffic's api_key; default: learnt from the first /merchant/auth (VPAY88_PROXY_API_KEY)")
	fs.StringVar(&f.secret, "secret", env(p+"SECRET", ""), "the merchant's secret key: the shadow signs with it, and it is masked (VPAY88_PROXY_SECRET)")
	fs.StringVar(&f.forwardTo, "forward-to", env(p+"FORWARD_TO", ""), "forward every callback captured at /sandbox/capture/{name} to this URL, the merchant's own, and relay its answer (VPAY88_PROXY_FORWARD_TO)")
	attribute, err := strconv.ParseBool(env(p+"ATTRIBUTE", "true"))
	if err != nil {
		return nil, fmt.Errorf("VPAY88_PROXY_ATTRIBUTE: %w", err)
	}
	fs.BoolVar(&f.attribute, "attribute", attribute, "run a second shadow under the other profile, to say which profile answers as the target does (VPAY88_PROXY_ATTRIBUTE)")
	for _, d := range []struct {
		v          *time.Duration
		name, desc string
		def        time.Duration
	}{
		{&f.readTimeout, "read-timeout", "the longest a request may take to arrive, body included: past it 408 (VPAY88_PROXY_READ_TIMEOUT)", 30 * time.Second},
		{&f.targetTimeout, "target-timeout", "the longest an exchange with the target may take, its answer included: 504 when no answer began, a cut connection mid-answer (VPAY88_PROXY_TARGET_TIMEOUT)", 60 * time.Second},
	} {
		def, err := time.ParseDuration(env(p+strings.ToUpper(strings.ReplaceAll(d.name, "-", "_")), d.def.String()))
		if err != nil || def <= 0 {
			return nil, fmt.Errorf("VPAY88_PROXY_%s must be a positive duration such as 30s", strings.ToUpper(strings.ReplaceAll(d.name, "-", "_")))
		}
		fs.DurationVar(d.v, d.name, def, d.desc)
	}
	maxDiffs, err := strconv.Atoi(env(p+"MAX_DIFFERENCES", strconv.Itoa(proxy.DefaultMaxDifferences)))
	if err != nil || maxDiffs < 1 {
		return nil, errors.New("VPAY88_PROXY_MAX_DIFFERENCES must be a positive integer")
	}
	fs.IntVar(&f.maxDifferences, "max-differences", maxDiffs, "how many differing exchanges are kept (the last ones, at most 8 MiB); older ones are only counted (VPAY88_PROXY_MAX_DIFFERENCES)")
	var profile string
	fs.StringVar(&profile, "profile", env(p+"PROFILE", string(gateway.ProfileDocument)), "profile of the shadow sandbox, document or observed (VPAY88_PROXY_PROFILE)")
	if err := parseFlags(fs, "proxy", args, stdout); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if f.target == "" {
		return nil, errors.New("--target is required: the real gateway's base URL")
	}
	if f.forwardTo != "" {
		if u, err := url.Parse(f.forwardTo); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("--forward-to must be an http or https URL, not %q", f.forwardTo)
		}
	}
	if f.readTimeout <= 0 || f.targetTimeout <= 0 {
		return nil, errors.New("--read-timeout and --target-timeout must be positive")
	}
	if f.maxDifferences < 1 {
		return nil, errors.New("--max-differences must be at least 1")
	}
	if f.profile, err = gateway.ParseProfile(profile); err != nil {
		return nil, fmt.Errorf("--profile: %w", err)
	}
	return f, nil
}

// runProxy serves the capture proxy until SIGINT or SIGTERM, then prints the report.
// Exit status: 0 after a signal, 1 when serving failed, 2 on usage errors.
func runProxy(args []string, stdout, stderr io.Writer) int {
	f, err := parseProxyFlags(args, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "vpay88-sandbox proxy:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return proxyMain(ctx, f, stdout, stderr)
}

func proxyMain(ctx context.Context, f *proxyFlags, stdout, stderr io.Writer) int {
	log := slog.New(slog.NewTextHandler(stderr, nil))
	p, err := proxy.New(proxy.Options{Target: f.target, Username: f.username, APIKey: f.apiKey, Secret: f.secret,
		Profile: f.profile, Record: f.record, Log: log, ForwardTo: f.forwardTo, NoAttribution: !f.attribute,
		ReadTimeout: f.readTimeout, TargetTimeout: f.targetTimeout, TargetHeaderTimeout: min(30*time.Second, f.targetTimeout),
		MaxDifferences: f.maxDifferences})
	if err != nil {
		fmt.Fprintln(stderr, "vpay88-sandbox proxy:", err)
		return 1
	}
	serveErr := p.ListenAndServe(ctx, f.addr, func(a net.Addr) {
		base := "http://" + a.String()
		log.Info("proxy listening", "url", base, "target", f.target, "differences", base+"/proxy/differences", "page", base+"/proxy/",
			"callbacks", base+"/sandbox/capture/NAME")
	})
	code := 0
	if serveErr != nil {
		fmt.Fprintln(stderr, "vpay88-sandbox proxy:", serveErr)
		code = 1
	}
	if err := p.Close(); err != nil {
		fmt.Fprintln(stderr, "vpay88-sandbox proxy: recording:", err)
		code = 1
	}
	rep := p.Report()
	if f.json {
		err = rep.WriteJSON(stdout)
	} else {
		err = rep.WriteTable(stdout)
	}
	if err == nil && f.report != "" {
		var file *os.File
		if file, err = os.OpenFile(f.report, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600); err == nil {
			err = errors.Join(rep.WriteJSON(file), file.Close())
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "vpay88-sandbox proxy: report:", err)
		code = 1
	}
	s := p.Summary()
	fmt.Fprintf(stderr, "vpay88-sandbox proxy: %d exchanges, %d not shadowed, %d dropped (shadow queue full)\n", s.Exchanges, s.NotShadowed, s.Dropped)
	return code
}
