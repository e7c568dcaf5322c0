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

// runClient is `vpay88-sandbox client <endpoint|path> --base-url URL --field k=v …`: it
// posts the fields as the vendor's PHP does and prints the raw answer, status line
// then body, for QA. Any path is posted as given, so QA can probe what a live gateway
// answers off the vendor document. Exit status: 0 on a 2xx answer (a vendor refusal,
// HTTP 200 with "status":false, is an answer too), 1 on any other HTTP status (the
// answer is printed all the same: a script's `set -e` stops at a 404 or a 502), 2 on
// a usage or network error.
func runClient(args []string, stdout, stderr io.Writer) int {
	a, code, ok := parseClientArgs(args, stdout, stderr)
	if !ok {
		return code
	}
	opts := []client.Option{client.WithTimeout(a.timeout)}
	if a.urlEncoded {
		opts = append(opts, client.WithURLEncodedForms())
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	resp, err := client.New(a.baseURL, opts...).DoPath(ctx, a.path, a.fields.v)
	if err != nil {
		fmt.Fprintln(stderr, "vpay88-sandbox client:", err)
		return 2
	}
	printResponse(stdout, resp, a.headers)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		fmt.Fprintf(stderr, "vpay88-sandbox client: %s answered %s\n", a.path, resp.Status)
		return 1
	}
	return 0
}

// clientArgs is the client subcommand's command line.
type clientArgs struct {
	// path is where the fields are posted: an endpoint's own path, or the path given.
	path                string
	baseURL             string
	fields              *fieldFlag
	urlEncoded, headers bool
	timeout             time.Duration
}

// clientFlags defines the client subcommand's flags on a, with defaults from the
// VPAY88_CLIENT_ environment variables.
func clientFlags(a *clientArgs) (*flag.FlagSet, error) {
	const p = "CLIENT_" // VPAY88_CLIENT_<NAME>
	a.fields = &fieldFlag{v: url.Values{}}
	fs := flag.NewFlagSet("vpay88-sandbox client", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: vpay88-sandbox client <endpoint or path> --base-url URL [--field name=value]...\n\nendpoints: %s\n(or any path, posted as given: /merchant/auth, /merchant/refund, wallet/x)\n\n"+
			"Prints the status line and the body. Exit status: 0 on a 2xx answer (a refusal with \"status\":false too),\n1 on any other HTTP status, 2 on a usage or network error.\n\n", strings.Join(endpointNames(), ", "))
		fs.PrintDefaults()
	}
	fs.StringVar(&a.baseURL, "base-url", env(p+"BASE_URL", "http://127.0.0.1:8088"), "gateway or sandbox base URL (VPAY88_CLIENT_BASE_URL)")
	fs.Var(a.fields, "field", "a form field name=value; repeat for each field")
	fs.BoolVar(&a.urlEncoded, "urlencoded", false, "send application/x-www-form-urlencoded instead of multipart/form-data")
	fs.BoolVar(&a.headers, "headers", false, "print the response headers after the status line")
	timeout, err := time.ParseDuration(env(p+"TIMEOUT", "30s"))
	if err != nil {
		return nil, fmt.Errorf("VPAY88_CLIENT_TIMEOUT: %w", err)
	}
	fs.DurationVar(&a.timeout, "timeout", timeout, "bound on the request (VPAY88_CLIENT_TIMEOUT)")
	return fs, nil
}

// parseClientArgs reads the command line; when it is not ok, code is the exit status
// (0 for --help) and the reason is already written to stderr.
func parseClientArgs(args []string, stdout, stderr io.Writer) (a clientArgs, code int, ok bool) {
	fs, err := clientFlags(&a)
	if err != nil {
		fmt.Fprintln(stderr, "vpay88-sandbox client:", err)
		return a, 2, false
	}
	// The endpoint may come before or after the flags.
	var name string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	usage := func(msg string) (clientArgs, int, bool) {
		fmt.Fprintln(stderr, "vpay88-sandbox client:", msg)
		return a, 2, false
	}
	if err := parseFlags(fs, "client", args, stdout); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return a, 0, false
		}
		return usage(err.Error())
	}
	rest := fs.Args()
	if name == "" && len(rest) > 0 {
		// Flags, the endpoint, then more flags: flag parsing stops at the endpoint.
		name = rest[0]
		if err := parseFlags(fs, "client", rest[1:], stdout); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return a, 0, false
			}
			return usage(err.Error())
		}
		rest = fs.Args()
	}
	if len(rest) > 0 {
		return usage(fmt.Sprintf("unexpected arguments: %v", rest))
	}
	if name == "" {
		return usage("which endpoint? (" + strings.Join(endpointNames(), ", ") + ")")
	}
	path, err := clientPath(name)
	if err != nil {
		return usage(err.Error())
	}
	a.path = path
	return a, 0, true
}

// clientPath turns the command line's endpoint into the path to post to: an
// endpoint's name gives its path (get_balance: /wallet/get_balance), and anything
// with a slash is a path, posted as given. A bare name that is no endpoint is refused
// rather than guessed at: "chek_status" is a typo, not a request to /chek_status.
func clientPath(name string) (string, error) {
	if e, ok := client.ParseEndpoint(name); ok {
		return e.Path(), nil
	}
	if !strings.Contains(name, "/") {
		return "", fmt.Errorf("unknown endpoint %q (%s; or a path such as /merchant/%s)", name, strings.Join(endpointNames(), ", "), name)
	}
	if strings.Contains(name, "://") {
		return "", fmt.Errorf("%q is a URL: give its host with --base-url and its path here", name)
	}
	if !strings.HasPrefix(name, "/") {
		name = "/" + name
	}
	return name, nil
}

// printResponse prints the status line, the headers when asked, and the body ending
// in a newline.
func printResponse(stdout io.Writer, resp *client.Response, headers bool) {
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
}

func endpointNames() []string {
	var names []string
	for _, e := range client.Endpoints() {
		names = append(names, string(e))
	}
	return names
}
