// Command chaos is the sandbox's reliability suite. It runs real vpay88-sandbox
// processes on temporary data files, on 127.0.0.1 only, and hurts them: kill -9 under
// load, crashes between settlement and callback delivery, hostile requests, a
// receiver that never answers, a journal flood, damaged and locked data files, and a
// soak at a bounded rate. It prints one table (part, what was measured, figure, goal,
// PASS/FAIL) and writes a JSON copy. bench/chaos.sh builds the binaries and runs it.
//
// Every trial is bounded in count and in time; every process it starts is stopped and
// every file it writes is removed, also on Ctrl-C. The exit status is 0 when every goal
// is met, 1 when one is not, 2 on a usage error.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
)

// Row is one line of the table.
type Row struct {
	Part     string `json:"part"`
	Measured string `json:"measured"`
	Figure   string `json:"figure"`
	Goal     string `json:"goal"`
	Result   string `json:"result"` // PASS, FAIL or info
}

// Trial is one part of the suite.
type Trial struct {
	Name   string // the -only key
	Part   string // shown in the table
	Budget time.Duration
	Quick  time.Duration
	Run    func(ctx context.Context, t *T) []Row
}

// T is what a trial gets: the environment and a place for details.
type T struct {
	Env     *Env
	Part    string
	details []string
}

// Logf prints a progress line to stderr and keeps it among the trial's details.
func (t *T) Logf(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	t.details = append(t.details, s)
	fmt.Fprintf(os.Stderr, "  [%s] %s\n", t.Part, s)
}

// Progress prints a line to stderr only.
func (t *T) Progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "  [%s] %s\n", t.Part, fmt.Sprintf(format, args...))
}

// Env is shared by all trials.
type Env struct {
	Bin   string // the sandbox binary
	Tmp   string // a scratch folder of our own
	Repo  string // the repository (config/default.yaml)
	Quick bool
	// Durability is passed to every sandbox as --durability (machine or process).
	Durability string
}

func pass(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

var trials = []Trial{
	{Name: "crash", Part: "1 kill -9 under load", Budget: 75 * time.Second, Quick: 25 * time.Second, Run: trialCrash},
	{Name: "callbacks", Part: "2 callbacks across a crash", Budget: 45 * time.Second, Quick: 25 * time.Second, Run: trialCallbacks},
	{Name: "badinput", Part: "3 hostile requests", Budget: 45 * time.Second, Quick: 30 * time.Second, Run: trialBadInput},
	{Name: "hang", Part: "4 hanging receiver", Budget: 40 * time.Second, Quick: 20 * time.Second, Run: trialHang},
	{Name: "journal", Part: "5 journal flood", Budget: 40 * time.Second, Quick: 20 * time.Second, Run: trialJournal},
	{Name: "damaged", Part: "6 damaged files", Budget: 70 * time.Second, Quick: 40 * time.Second, Run: trialDamaged},
	{Name: "soak", Part: "7 soak", Budget: 80 * time.Second, Quick: 30 * time.Second, Run: trialSoak},
	{Name: "boundsfaults", Part: "8 bounds: scenario rules and faults", Budget: 75 * time.Second, Quick: 50 * time.Second, Run: trialBoundsFaults},
	{Name: "boundsproxy", Part: "9 proxy differences, capture findings", Budget: 120 * time.Second, Quick: 60 * time.Second, Run: trialBoundsProxy},
	{Name: "clock", Part: "10 test clock", Budget: 240 * time.Second, Quick: 100 * time.Second, Run: trialClock},
	{Name: "ephemeral", Part: "11 ephemeral leftovers", Budget: 20 * time.Second, Quick: 15 * time.Second, Run: trialEphemeral},
	{Name: "merchants", Part: "12 run-time merchants", Budget: 60 * time.Second, Quick: 30 * time.Second, Run: trialMerchants},
	{Name: "boundslists", Part: "13 lists behind a busy team", Budget: 100 * time.Second, Quick: 90 * time.Second, Run: trialBoundsLists},
	{Name: "boundsmisc", Part: "14 merchants and small findings", Budget: 90 * time.Second, Quick: 75 * time.Second, Run: trialBoundsMisc},
}

func main() { os.Exit(run()) }

// args is the command line.
type args struct {
	bin, tmp, repo, jsonOut, commit, durability string
	quick, printLimit                           bool
	total                                       time.Duration
	selected                                    map[string]bool // empty: every part
}

func run() int {
	a, code := parseArgs()
	if code != 0 {
		return code
	}
	if a.printLimit {
		fmt.Println(int(runLimit(a).Seconds()))
		return 0
	}
	work, cleanup, err := workFolder(a.tmp)
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		return 2
	}
	defer cleanup()
	stopOnSignal(work, cleanup)

	limit := runLimit(a)
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()

	env := &Env{Bin: a.bin, Tmp: work, Repo: a.repo, Quick: a.quick, Durability: a.durability}
	header := append(machineHeader(a.repo, a.quick, a.commit), "sandbox durability: "+a.durability)
	fmt.Fprintln(os.Stderr, "chaos:", strings.Join(header, "; "))

	started := time.Now()
	rows, details := runTrials(ctx, env, a.selected)
	elapsed := time.Since(started)

	failed := 0
	for _, r := range rows {
		if r.Result == "FAIL" {
			failed++
		}
	}
	printTable(header, rows, details, elapsed, failed)
	if a.jsonOut != "" {
		doc := map[string]any{"header": header, "quick": a.quick, "seconds": elapsed.Seconds(), "failed": failed,
			"rows": rows, "details": details, "time": time.Now().UTC().Format(time.RFC3339)}
		writeJSON(a.jsonOut, doc)
	}
	if failed > 0 {
		return 1
	}
	return 0
}

// limitMargin is the whole run's time beyond its parts' budgets: starting, stopping
// and cleaning up between parts, and the table.
const limitMargin = 30 * time.Second

// runLimit is the hard limit for the whole run: -total, or the budgets of the selected
// parts (-quick's where -quick is given) added up, plus limitMargin. Each part is cut
// off at its own budget, so a run within its parts' budgets is never cut short as a
// whole; a fixed limit stopped fitting the parts as they were added.
func runLimit(a args) time.Duration {
	if a.total > 0 {
		return a.total
	}
	sum := limitMargin
	for _, tr := range trials {
		if len(a.selected) > 0 && !a.selected[tr.Name] {
			continue
		}
		if a.quick {
			sum += tr.Quick
		} else {
			sum += tr.Budget
		}
	}
	return sum
}

// parseArgs reads the flags; a non-zero code is the exit status of a usage error.
func parseArgs() (args, int) {
	var a args
	flag.StringVar(&a.bin, "bin", "", "the vpay88-sandbox binary to test (required)")
	flag.StringVar(&a.tmp, "tmp", "", "scratch folder (default: a new one under $TMPDIR, removed at the end)")
	flag.StringVar(&a.repo, "repo", ".", "repository root (for config/default.yaml and git)")
	only := flag.String("only", "", "comma-separated parts to run: "+trialNames())
	flag.BoolVar(&a.quick, "quick", false, "shorter run: fewer crashes, orders and seconds (each part's Quick budget)")
	flag.StringVar(&a.jsonOut, "json", "", "also write the table as JSON to this file")
	flag.StringVar(&a.commit, "commit", "", "commit shown in the header (default: git rev-parse --short HEAD in -repo)")
	flag.StringVar(&a.durability, "durability", "machine", "the sandbox's --durability: machine (fsync) or process (no fsync)")
	flag.DurationVar(&a.total, "total", 0, "hard limit for the whole run (default: the selected parts' budgets added up, plus 30s)")
	flag.BoolVar(&a.printLimit, "print-limit", false, "print the whole run's limit in seconds and exit (bench/chaos.sh sets its timeout by it)")
	flag.Parse()
	if a.durability != "machine" && a.durability != "process" {
		fmt.Fprintln(os.Stderr, "chaos: -durability must be machine or process")
		return a, 2
	}
	if a.bin == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "chaos: usage: chaos -bin PATH [-quick] [-only crash,journal] [-json FILE]")
		return a, 2
	}
	a.selected = map[string]bool{}
	if *only != "" {
		for _, n := range strings.Split(*only, ",") {
			n = strings.TrimSpace(n)
			if !isTrial(n) {
				fmt.Fprintf(os.Stderr, "chaos: unknown part %q (parts: %s)\n", n, trialNames())
				return a, 2
			}
			a.selected[n] = true
		}
	}
	if abs, err := filepath.Abs(a.bin); err == nil {
		a.bin = abs
	}
	if _, err := os.Stat(a.bin); err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		return a, 2
	}
	return a, 0
}

// workFolder makes the folder our files live in, and cleanup, which stops every
// process started and removes it (and tmp too when tmp was empty and made here).
func workFolder(tmp string) (work string, cleanup func(), err error) {
	dir := tmp
	ownTmp := dir == ""
	if ownTmp {
		if dir, err = os.MkdirTemp("", "vpay88-chaos-"); err != nil {
			return "", nil, err
		}
	}
	// Our files live in a subfolder, removed at the end whoever made the parent.
	work, err = os.MkdirTemp(dir, "chaos-")
	if err != nil {
		return "", nil, err
	}
	cleanup = func() {
		killAll()
		os.RemoveAll(work)
		if ownTmp {
			os.RemoveAll(dir)
		}
	}
	return work, cleanup, nil
}

// stopOnSignal: Ctrl-C or SIGTERM: stop the children, remove the files, exit 130.
func stopOnSignal(work string, cleanup func()) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		s := <-sigs
		fmt.Fprintf(os.Stderr, "\nchaos: %v: stopping every process started and removing %s\n", s, work)
		cleanup()
		os.Exit(130)
	}()
}

// runTrials runs the selected trials in order, each within its budget; a trial the
// overall limit leaves no time for is a FAIL row.
func runTrials(ctx context.Context, env *Env, selected map[string]bool) ([]Row, map[string][]string) {
	var rows []Row
	details := map[string][]string{}
	for _, tr := range trials {
		if len(selected) > 0 && !selected[tr.Name] {
			continue
		}
		if ctx.Err() != nil {
			rows = append(rows, Row{Part: tr.Part, Measured: "not run", Figure: "run out of time", Goal: "-", Result: "FAIL"})
			continue
		}
		got, d := runTrial(ctx, env, tr)
		rows = append(rows, got...)
		details[tr.Part] = d
	}
	return rows, details
}

// runTrial runs one trial within its budget and returns its rows and details.
func runTrial(ctx context.Context, env *Env, tr Trial) ([]Row, []string) {
	budget := tr.Budget
	if env.Quick {
		budget = tr.Quick
	}
	fmt.Fprintf(os.Stderr, "== %s (at most %s)\n", tr.Part, budget)
	tctx, tcancel := context.WithTimeout(ctx, budget)
	t := &T{Env: env, Part: tr.Name}
	t0 := time.Now()
	got := safeRun(tctx, tr, t)
	timedOut := tctx.Err() == context.DeadlineExceeded
	tcancel()
	killAll() // nothing a trial started outlives it
	for i := range got {
		got[i].Part = tr.Part
	}
	if timedOut {
		got = append(got, Row{Part: tr.Part, Measured: "finished within its time budget", Figure: fmt.Sprintf("cut off after %s", budget), Goal: "in time", Result: "FAIL"})
	}
	fmt.Fprintf(os.Stderr, "   (%.1f s)\n", time.Since(t0).Seconds())
	return got, t.details
}

// writeJSON writes the JSON copy of the table.
func writeJSON(path string, doc map[string]any) {
	b, _ := json.MarshalIndent(doc, "", "  ")
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
	} else {
		fmt.Printf("JSON copy: %s\n", path)
	}
}

// safeRun runs a trial; a panic in the suite itself becomes a FAIL row, not a crash.
func safeRun(ctx context.Context, tr Trial, t *T) (rows []Row) {
	defer func() {
		if r := recover(); r != nil {
			rows = append(rows, Row{Measured: "the trial itself", Figure: fmt.Sprintf("chaos bug: %v", r), Goal: "-", Result: "FAIL"})
		}
	}()
	return tr.Run(ctx, t)
}

func trialNames() string {
	var s []string
	for _, t := range trials {
		s = append(s, t.Name)
	}
	return strings.Join(s, ",")
}

func isTrial(n string) bool {
	for _, t := range trials {
		if t.Name == n {
			return true
		}
	}
	return false
}

func machineHeader(repo string, quick bool, commit string) []string {
	out := func(name string, args ...string) string {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Dir = repo
		b, err := cmd.Output()
		if err != nil {
			return "?"
		}
		return strings.TrimSpace(string(b))
	}
	if commit == "" {
		commit = out("git", "rev-parse", "--short", "HEAD")
		if s := out("git", "status", "--porcelain", "--untracked-files=no"); s != "" && s != "?" {
			commit += " + uncommitted changes in the working tree"
		}
	}
	mode := "full"
	if quick {
		mode = "quick"
	}
	host, _ := os.Hostname()
	return []string{
		"vpay88-sandbox chaos suite, " + mode + " run, " + time.Now().UTC().Format("2006-01-02 15:04 UTC"),
		fmt.Sprintf("machine: %s, nproc %d, %s/%s, %s", host, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, out("go", "version")),
		"commit: " + commit,
	}
}

func printTable(header []string, rows []Row, details map[string][]string, elapsed time.Duration, failed int) {
	fmt.Println()
	for _, h := range header {
		fmt.Println(h)
	}
	fmt.Println()
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "part\tmeasured\tfigure\tgoal\tresult")
	fmt.Fprintln(tw, "----\t--------\t------\t----\t------")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Part, r.Measured, r.Figure, r.Goal, r.Result)
	}
	tw.Flush()
	fmt.Printf("\n%d goal(s) missed; %.0f s in all.\n", failed, elapsed.Seconds())
	// Details that explain a FAIL: which requests gave a 5xx, what each damaged file did.
	first := true
	seen := map[string]bool{}
	for _, r := range rows {
		d := details[r.Part]
		if len(d) == 0 || seen[r.Part] {
			continue
		}
		seen[r.Part] = true
		if first {
			fmt.Println("\nDetails:")
			first = false
		}
		fmt.Printf("  %s:\n", r.Part)
		for _, line := range d {
			fmt.Printf("    %s\n", line)
		}
	}
}
