package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/vpay88/vpay88-sandbox/config"
	"github.com/vpay88/vpay88-sandbox/inproc"
	"github.com/vpay88/vpay88-sandbox/proxy"
)

// proxyFlags are the proxy subcommand's settings.
type proxyFlags struct {
	target, addr, record     string
	username, apiKey, secret string
}

func parseProxyFlags(args []string, stderr io.Writer) (*proxyFlags, error) {
	const p = "PROXY_" // VPAY88_PROXY_<NAME>
	f := &proxyFlags{}
	fs := flag.NewFlagSet("vpay88-sandbox proxy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.target, "target", env(p+"TARGET", ""), "base URL of the real gateway (VPAY88_PROXY_TARGET)")
	fs.StringVar(&f.addr, "addr", env(p+"ADDR", "127.0.0.1:8089"), "where the integration reaches the proxy (VPAY88_PROXY_ADDR)")
	fs.StringVar(&f.record, "record", env(p+"RECORD", ""), "write every exchange, secrets masked, as JSON lines to this file (VPAY88_PROXY_RECORD)")
	fs.StringVar(&f.username, "username", env(p+"USERNAME", ""), "the traffic's merchant username, for the shadow sandbox; default vpay88-test (VPAY88_PROXY_USERNAME)")
	fs.StringVar(&f.apiKey, "api-key", env(p+"API_KEY", ""), "the traffic's api_key, for the shadow sandbox (VPAY88_PROXY_API_KEY)")
	fs.StringVar(&f.secret, "secret", env(p+"SECRET", ""), "the traffic's secret key, for the shadow's callbacks (VPAY88_PROXY_SECRET)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if f.target == "" {
		return nil, errors.New("--target is required: the real gateway's base URL")
	}
	return f, nil
}

// runProxy serves the capture proxy until SIGINT or SIGTERM, then prints the
// differences as JSON.
func runProxy(args []string, stdout, stderr io.Writer) int {
	f, err := parseProxyFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "vpay88-sandbox proxy:", err)
		return 2
	}
	shadow, err := inproc.Start(inproc.Options{Changes: []func(*config.Config){func(c *config.Config) {
		m := &c.Merchants[0]
		for _, kv := range []struct {
			to *string
			v  string
		}{{&m.Username, f.username}, {&m.APIKey, f.apiKey}, {&m.SecretKey, f.secret}} {
			if kv.v != "" {
				*kv.to = kv.v
			}
		}
	}}})
	if err != nil {
		fmt.Fprintln(stderr, "vpay88-sandbox proxy: shadow sandbox:", err)
		return 1
	}
	defer shadow.Close()
	code := serveProxy(f, shadow.URL, stdout, stderr)
	return code
}

func serveProxy(f *proxyFlags, shadowURL string, stdout, stderr io.Writer) int {
	var record io.Writer
	if f.record != "" {
		file, err := os.Create(f.record)
		if err != nil {
			fmt.Fprintln(stderr, "vpay88-sandbox proxy:", err)
			return 1
		}
		defer file.Close()
		record = file
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	p, err := proxy.New(proxy.Options{Target: f.target, Shadow: shadowURL, Record: record, Logger: log})
	if err != nil {
		fmt.Fprintln(stderr, "vpay88-sandbox proxy:", err)
		return 2
	}
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		fmt.Fprintln(stderr, "vpay88-sandbox proxy:", err)
		return 1
	}
	srv := &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	log.Info("proxy listening", "url", "http://"+ln.Addr().String(), "target", f.target, "differences", "http://"+ln.Addr().String()+"/proxy/differences")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	p.Close()
	ex, dropped := p.Differences()
	if ex == nil {
		ex = []proxy.Exchange{}
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	_ = enc.Encode(map[string]any{"target": f.target, "count": len(ex), "dropped": dropped, "exchanges": ex})
	return 0
}
