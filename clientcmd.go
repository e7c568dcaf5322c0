package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/vpay88/vpay88-sandbox/client"
)

// fieldFlag collects repeated --field k=v.
type fieldFlag struct{ v url.Values }

func (f *fieldFlag) String() string { return f.v.Encode() }

func (f *fieldFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("%q is not name=value", s)
	}
	f.v.Add(k, v)
	return nil
}

// runClient is `vpay88-sandbox client <endpoint> --base-url URL --field k=v …`: it
// posts the fields as the vendor's PHP does and prints the raw answer, status line
// then body, for QA. Exit status: 0 on any HTTP answer, 2 on usage or network error.
func runClient(args []string, stdout, stderr io.Writer) int {
	const p = "VPAY88_CLIENT_"
	fields := &fieldFlag{v: url.Values{}}
	var baseURL string
	var urlEncoded, headers bool
	fs := flag.NewFlagSet("vpay88-sandbox client", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: vpay88-sandbox client <endpoint> --base-url URL [--field name=value]...\n\nendpoints: %s\n(or a path such as /merchant/auth)\n\n", strings.Join(endpointNames(), ", "))
		fs.PrintDefaults()
	}
	fs.StringVar(&baseURL, "base-url", envFlag(p, "BASE_URL", "http://127.0.0.1:8088"), "gateway or sandbox base URL (VPAY88_CLIENT_BASE_URL)")
	fs.Var(fields, "field", "a form field name=value; repeat for each field")
	fs.BoolVar(&urlEncoded, "urlencoded", false, "send application/x-www-form-urlencoded instead of multipart/form-data")
	fs.BoolVar(&headers, "headers", false, "print the response headers after the status line")
	timeout, err := time.ParseDuration(envFlag(p, "TIMEOUT", "30s"))
	if err != nil {
		fmt.Fprintln(stderr, "vpay88-sandbox client: VPAY88_CLIENT_TIMEOUT:", err)
		return 2
	}
	fs.DurationVar(&timeout, "timeout", timeout, "bound on the request (VPAY88_CLIENT_TIMEOUT)")

	// The endpoint may come before or after the flags.
	var name string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	rest := fs.Args()
	if name == "" && len(rest) > 0 {
		// Flags, the endpoint, then more flags: flag parsing stops at the endpoint.
		name = rest[0]
		if err := fs.Parse(rest[1:]); err != nil {
			return 2
		}
		rest = fs.Args()
	}
	usage := func(msg string) int {
		fmt.Fprintln(stderr, "vpay88-sandbox client:", msg)
		return 2
	}
	if len(rest) > 0 {
		return usage(fmt.Sprintf("unexpected arguments: %v", rest))
	}
	if name == "" {
		return usage("which endpoint? (" + strings.Join(endpointNames(), ", ") + ")")
	}
	e, ok := client.ParseEndpoint(name)
	if !ok {
		return usage(fmt.Sprintf("unknown endpoint %q (%s)", name, strings.Join(endpointNames(), ", ")))
	}
	opts := []client.Option{client.WithTimeout(timeout)}
	if urlEncoded {
		opts = append(opts, client.WithURLEncodedForms())
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	resp, err := client.New(baseURL, opts...).Do(ctx, e, fields.v)
	if err != nil {
		fmt.Fprintln(stderr, "vpay88-sandbox client:", err)
		return 2
	}
	fmt.Fprintf(stdout, "%s %s\n", resp.Proto, resp.Status)
	if headers {
		keys := make([]string, 0, len(resp.Header))
		for k := range resp.Header {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			for _, v := range resp.Header[k] {
				fmt.Fprintf(stdout, "%s: %s\n", k, v)
			}
		}
		fmt.Fprintln(stdout)
	}
	stdout.Write(resp.Body)
	if len(resp.Body) > 0 && resp.Body[len(resp.Body)-1] != '\n' {
		fmt.Fprintln(stdout)
	}
	return 0
}

func endpointNames() []string {
	var names []string
	for _, e := range client.Endpoints() {
		names = append(names, string(e))
	}
	return names
}
