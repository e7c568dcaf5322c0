// Package skipreport says, once per package run, which tests skipped for want of a
// tool (Chromium, PHP…) and how to get it. A t.Skip message shows only under -v, so
// a `go test ./...` that skipped every browser test looked the same as one that ran
// them; the line this package prints names what did not run.
//
// A test calls Skip instead of t.Skip; the package's TestMain calls Main:
//
//	func TestMain(m *testing.M) { skipreport.Main(m) }
//
// `go test ./...` hides a passing package's output, stdout and stderr alike, so in CI
// the line alone still said nothing (issue 21). Two settings carry it there:
// VPAY88_REQUIRE lists the tools a run must have (VPAY88_REQUIRE=chromium,php,phpunit,
// or "all"), and a test that would skip for want of one of them fails instead, naming
// it; VPAY88_SKIP_REPORT names a file each package appends its line to, which the CI
// script prints after the run (.ci/run does both).
package skipreport

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
)

// RequireEnv is the variable listing the tools whose absence fails a test.
const RequireEnv = "VPAY88_REQUIRE"

// ReportEnv is the variable naming the file the summary line is appended to.
const ReportEnv = "VPAY88_SKIP_REPORT"

// A Report gathers the reasons tests of one package skipped. Its methods are safe for
// concurrent use by parallel tests.
type Report struct {
	mu      sync.Mutex
	reasons []reason // in the order first seen, so the line reads as the run went
}

type reason struct {
	what, why string
	n         int
}

// std is the package run's report: one test binary is one package, and Skip is called
// from helpers that have no Report of their own to pass around.
var std Report

// Skip records that a test of the group what ("the browser tests") skipped because of
// why ("no Chromium (set VPAY88_CHROMIUM or apt-get install chromium)"), then skips t
// with msg, the test's own message. tool names what is missing ("chromium", "php"):
// when VPAY88_REQUIRE lists it (or is "all"), the test fails instead.
func Skip(t testing.TB, tool, what, why, msg string) {
	t.Helper()
	if Required(tool) {
		t.Fatalf("%s: %s, and %s=%s requires %s", msg, why, RequireEnv, os.Getenv(RequireEnv), tool)
	}
	std.Add(what, why)
	t.Skip(msg)
}

// Required says whether VPAY88_REQUIRE lists tool, or is "all".
func Required(tool string) bool {
	list := strings.FieldsFunc(os.Getenv(RequireEnv), func(r rune) bool { return r == ',' || r == ' ' })
	return slices.Contains(list, "all") || slices.Contains(list, tool)
}

// Add records one test of the group what skipped because of why.
func (r *Report) Add(what, why string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range r.reasons {
		if r.reasons[i].what == what && r.reasons[i].why == why {
			r.reasons[i].n++
			return
		}
	}
	r.reasons = append(r.reasons, reason{what: what, why: why, n: 1})
}

// Line is the one-line summary, e.g. "vpay88-sandbox: skipped the browser tests (14):
// no Chromium (…)", or "" when nothing skipped.
func (r *Report) Line() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.reasons) == 0 {
		return ""
	}
	parts := make([]string, len(r.reasons))
	for i, s := range r.reasons {
		parts[i] = fmt.Sprintf("%s (%d): %s", s.what, s.n, s.why)
	}
	return "vpay88-sandbox: skipped " + strings.Join(parts, "; ")
}

// Main runs the package's tests, prints the summary line and exits with their status.
func Main(m *testing.M) {
	code := m.Run()
	std.print(code)
	os.Exit(code)
}

// print writes the line to stderr. `go test ./...` keeps a passing package's output
// to itself unless -v is given, so at a terminal the line also goes to /dev/tty: that
// is the run a developer reads. Not when the output will be shown anyway (-v, -json,
// a failed package, a test binary writing to the terminal itself), which would say it
// twice; without a terminal (CI) there is no /dev/tty and stderr alone remains.
func (r *Report) print(code int) {
	line := r.Line()
	if line == "" {
		return
	}
	fmt.Fprintln(os.Stderr, line)
	if path := os.Getenv(ReportEnv); path != "" {
		// One short write in append mode: packages run in parallel append whole lines.
		if f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644); err == nil {
			fmt.Fprintln(f, line)
			f.Close()
		}
	}
	if testing.Verbose() || code != 0 || isTerminal(os.Stderr) {
		return
	}
	if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
		fmt.Fprintln(tty, line)
		tty.Close()
	}
}

// isTerminal reports whether f is a character device: a terminal (or /dev/null, where
// nobody reads either way).
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
