package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// damage makes a damaged copy of src at dst.
type damage struct {
	name string
	make func(src []byte) []byte
}

var crashWords = regexp.MustCompile(`panic|goroutine |SIGSEGV|SIGBUS|fatal error`)

// startOutcome is what one start on a damaged file did.
type startOutcome struct {
	exited bool
	code   int
	stderr string
	took   time.Duration
	probed string // when it kept running: what the probes did
}

// startOn starts the binary on path and waits at most wait for it to exit. If it is
// still running, it is asked for some data (which may make it fault on a damaged
// mmap) and then killed.
func startOn(ctx context.Context, env *Env, path string, wait time.Duration) startOutcome {
	port, _ := freePort()
	addr := "127.0.0.1:" + strconv.Itoa(port)
	var errBuf bytes.Buffer
	cmd := command(env, Opts{Data: path}, addr, &errBuf)
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return startOutcome{exited: true, code: -1000, stderr: err.Error()}
	}
	devNull, _ := os.Open(os.DevNull)
	sb := track(cmd, "http://"+addr, devNull)
	out := startOutcome{}
	select {
	case <-sb.done:
		out.exited, out.code = true, sb.ExitCode()
	case <-time.After(wait):
	case <-ctx.Done():
	}
	if !out.exited {
		// It started on a damaged file. Read through it, as a tester would.
		probes := probe(ctx, sb.URL)
		select {
		case <-sb.done:
			out.exited, out.code = true, sb.ExitCode()
			out.probed = "died while serving (probes " + strings.Join(probes, ", ") + ")"
		case <-time.After(300 * time.Millisecond):
			out.probed = "kept serving (probes " + strings.Join(probes, ", ") + ")"
			sb.Kill9()
		}
	}
	out.took = time.Since(t0)
	out.stderr = errBuf.String()
	return out
}

// probe reads the admin lists, creates an order and looks one up; it returns what
// each of the first five did.
func probe(ctx context.Context, base string) []string {
	var probes []string
	for _, p := range []string{"/sandbox/api/orders?limit=500", "/sandbox/api/balances", "/sandbox/api/ledger?limit=500", "/sandbox/api/callbacks?limit=500"} {
		code, _, err := get(ctx, base+p)
		if err != nil {
			probes = append(probes, "no answer")
		} else {
			probes = append(probes, strconv.Itoa(code))
		}
	}
	tok, err := auth(ctx, base, defaultMerchant)
	if err == nil {
		ok, err := deposit(ctx, base, tok, "DAMAGED-1", "x@example.com")
		probes = append(probes, fmt.Sprintf("new order ok=%v err=%v", ok, err != nil))
	}
	_, _, _ = post(ctx, base+"/merchant/check_status", url.Values{"username": {"vpay88-test"}, "id": {"D-1"}})
	return probes
}

// clean: exit 1, one line naming the file, no trace of a crash.
func (o startOutcome) clean(path string) (bool, string) {
	s := strings.TrimRight(o.stderr, "\n")
	lines := 0
	if s != "" {
		lines = strings.Count(s, "\n") + 1
	}
	var why []string
	if !o.exited || o.probed != "" {
		if o.probed != "" {
			why = append(why, o.probed)
		} else {
			why = append(why, "kept running")
		}
	}
	if o.exited && o.code != 1 {
		why = append(why, fmt.Sprintf("exit %d", o.code))
	}
	if lines != 1 {
		why = append(why, fmt.Sprintf("%d stderr lines", lines))
	}
	if !strings.Contains(s, path) && !strings.Contains(s, filepath.Base(path)) {
		why = append(why, "file not named")
	}
	if crashWords.MatchString(s) {
		why = append(why, "crash trace ("+crashWords.FindString(s)+")")
	}
	return len(why) == 0, strings.Join(why, ", ")
}

// trialDamaged builds a real state file, then starts the binary on damaged copies.
func trialDamaged(ctx context.Context, t *T) []Row {
	orders := 3000
	if t.Env.Quick {
		orders = 1500
	}
	src, code, rows := stateFile(ctx, t, orders)
	if rows != nil {
		return rows
	}
	hwm := highWater(src)
	t.Logf("state file: %d orders, %d bytes (data up to byte %d), SIGTERM exit %d", orders, len(src), hwm, code)
	if hwm < 16384 || hwm > int64(len(src)) {
		hwm = int64(len(src))
	}
	damages := damagesOf(hwm)
	cleanN := 0
	for i, d := range damages {
		if ctx.Err() != nil {
			break
		}
		if startOnDamaged(ctx, t, i, d, src) {
			cleanN++
		}
	}
	rows = []Row{{Measured: "starts on a damaged file that exit 1 with one line naming it",
		Figure: fmt.Sprintf("%d of %d", cleanN, len(damages)), Goal: fmt.Sprintf("%d of %d", len(damages), len(damages)), Result: pass(cleanN == len(damages))}}
	return append(rows, secondInstance(ctx, t, src)...)
}

// stateFile fills a sandbox with orders, stops it and returns its data file and the
// exit code of the stop; rows says why when it could not.
func stateFile(ctx context.Context, t *T, orders int) (src []byte, code int, rows []Row) {
	good := filepath.Join(t.Env.Tmp, "damaged-src.db")
	sb, token, rows := startAuthed(ctx, t.Env, Opts{Data: good})
	if rows != nil {
		return nil, 0, rows
	}
	parallel(ctx, orders, 12, func(i int) {
		if i%10 == 0 {
			withdraw(ctx, sb.URL, token, fmt.Sprintf("DW-%05d", i), "3", "4000000001")
			return
		}
		email := "d@example.com"
		if i%3 == 0 {
			email = "success@example.com"
		}
		deposit(ctx, sb.URL, token, fmt.Sprintf("D-%05d", i), email)
	})
	code = sb.Stop()
	src, err := os.ReadFile(good)
	if err != nil || len(src) < 16384 {
		return nil, 0, []Row{{Measured: "state file", Figure: fmt.Sprintf("%d bytes, %v", len(src), err), Goal: "-", Result: "FAIL"}}
	}
	return src, code, nil
}

// damagesOf lists the damages tried; hwm is the end of the data in use.
func damagesOf(hwm int64) []damage {
	rnd := rand.New(rand.NewPCG(6, 6))
	random := func(n int) func([]byte) []byte {
		return func([]byte) []byte {
			b := make([]byte, n)
			for i := range b {
				b[i] = byte(rnd.UintN(256))
			}
			return b
		}
	}
	return []damage{
		{"truncated to 8 KiB", func(s []byte) []byte { return s[:8192] }},
		{"truncated to 1 MB", func(s []byte) []byte { return s[:min(len(s)-4096, 1<<20)] }},
		{"truncated to half", func(s []byte) []byte { return s[:len(s)/2] }},
		// bbolt grows its file ahead of the data: cutting the file's last page may cut
		// nothing in use, and a sound build may then start. The page cut here is the
		// last one in use (the meta page's high-water mark).
		{fmt.Sprintf("all but the last page in use (%d - 4096)", hwm), func(s []byte) []byte { return s[:hwm-4096] }},
		{"both meta pages zeroed", func(s []byte) []byte {
			b := bytes.Clone(s)
			clear(b[:8192])
			return b
		}},
		{"random bytes, 4 KiB", random(4096)},
		{"random bytes, 64 KiB", random(65536)},
		{"random bytes, 1 MiB", random(1 << 20)},
		{"random bytes, 100 bytes", random(100)},
	}
}

// startOnDamaged writes the i-th damaged copy of src, starts the binary on it and
// reports whether it exited cleanly.
func startOnDamaged(ctx context.Context, t *T, i int, d damage, src []byte) bool {
	p := filepath.Join(t.Env.Tmp, fmt.Sprintf("damaged-%d.db", i))
	if err := os.WriteFile(p, d.make(src), 0o600); err != nil {
		t.Logf("%s: %v", d.name, err)
		return false
	}
	defer os.Remove(p)
	o := startOn(ctx, t.Env, p, 4*time.Second)
	ok, why := o.clean(p)
	first := strings.SplitN(strings.TrimSpace(o.stderr), "\n", 2)[0]
	if ok {
		t.Logf("ok   %-36s exit 1 in %d ms: %s", d.name, o.took.Milliseconds(), trunc(first, 160))
	} else {
		t.Logf("FAIL %-36s %s; stderr: %s", d.name, why, trunc(strings.ReplaceAll(strings.TrimSpace(o.stderr), "\n", " | "), 160))
	}
	return ok
}

var inUseWords = regexp.MustCompile(`(?i)in use|locked|another (process|instance)|already (open|running)`)

// secondInstance starts a second instance on a file the first one holds; no row
// when the file cannot be written.
func secondInstance(ctx context.Context, t *T, src []byte) []Row {
	held := filepath.Join(t.Env.Tmp, "held.db")
	if err := os.WriteFile(held, src, 0o600); err != nil {
		return nil
	}
	first, err := Start(ctx, t.Env, Opts{Data: held})
	if err != nil {
		return []Row{{Measured: "second instance on a file in use", Figure: "first instance: " + err.Error(), Goal: "exit 1, says in use", Result: "FAIL"}}
	}
	o := startOn(ctx, t.Env, held, 8*time.Second)
	first.Stop()
	_, why := o.clean(held)
	msg := strings.TrimSpace(o.stderr)
	inUse := inUseWords.MatchString(msg)
	okLock := o.exited && o.code == 1 && inUse && !crashWords.MatchString(msg) && strings.Count(msg, "\n") == 0 && msg != ""
	if !inUse {
		if why != "" {
			why += ", "
		}
		why += "does not say the file is in use"
	}
	t.Logf("second instance: exited %v code %d after %d ms: %q", o.exited, o.code, o.took.Milliseconds(), trunc(msg, 200))
	fig := fmt.Sprintf("exit %d after %.1f s: %q", o.code, o.took.Seconds(), trunc(strings.ReplaceAll(msg, "\n", " | "), 90))
	if !o.exited {
		fig = "kept running: " + o.probed
	}
	if !okLock {
		t.Logf("second instance: %s", why)
	}
	return []Row{{Measured: "second instance on a file in use", Figure: fig, Goal: "exit 1, one line, says in use", Result: pass(okLock)}}
}

// highWater reads bbolt's meta pages and returns the end of the data in use
// (high-water page id times page size) by the newer valid meta, or 0.
func highWater(b []byte) int64 {
	le := binary.LittleEndian
	var best, txid uint64
	for _, off := range []int{0, 4096} {
		if len(b) < off+80 {
			continue
		}
		m := b[off+16:]
		if le.Uint32(m[0:]) != 0xED0CDAED {
			continue
		}
		psize := uint64(le.Uint32(m[8:]))
		pgid := le.Uint64(m[40:])
		tx := le.Uint64(m[48:])
		if psize == 0 || tx < txid {
			continue
		}
		best, txid = pgid*psize, tx
	}
	return int64(best)
}
