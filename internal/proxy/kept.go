package proxy

import (
	"cmp"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/vpay88/vpay88-sandbox/internal/parity"
)

// What the proxy keeps of the exchanges it compared, for GET /proxy/differences, the
// page and the report on exit (README, "Capture of a team's own traffic"). A proxy
// runs for days in front of a team's traffic, so every list is a ring: the last N
// entries and at most so many bytes, the oldest going first; what goes is still
// counted (same, different, skipped are totals). Before it is kept, a step is cut:
// each body to maxKeptBody, each difference's values to maxKeptValue, its request
// fields to maxKeptFields values of maxKeptValue, its differences to maxKeptDiffs,
// every cut marked "…[cut N bytes]" or said in a note, so a kept step never passes
// for the whole answer. The comparison itself always reads the whole answers (up to
// maxCapture).
const (
	// DefaultMaxDifferences is how many differing exchanges are kept by default.
	DefaultMaxDifferences = 1000
	// DefaultMaxSteps is how many identical exchanges are kept by default.
	DefaultMaxSteps = 10000
	// maxDifferenceBytes, maxSameBytes and maxSkippedBytes bound each ring's bytes.
	maxDifferenceBytes = 8 << 20
	maxSameBytes       = 4 << 20
	maxSkippedBytes    = 1 << 20
	// maxSkippedKept is how many exchanges not compared are kept (their reason only).
	maxSkippedKept = 1000
	maxKeptBody    = 8 << 10
	maxKeptValue   = 512
	maxKeptDiffs   = 100
	maxKeptFields  = 64
)

// keptStep is a step as a ring holds it: its exchange's number and its size.
type keptStep struct {
	seq  int64
	st   *parity.StepResult
	size int
}

// ring is the last max steps of one kind, at most maxBytes of them.
type ring struct {
	max, maxBytes int
	items         []keptStep // oldest first
	bytes         int
	// dropped counts the steps that went to make room.
	dropped int
}

func (r *ring) add(k keptStep) {
	r.items = append(r.items, k)
	r.bytes += k.size
	drop := 0
	for len(r.items)-drop > r.max || (r.bytes > r.maxBytes && len(r.items)-drop > 1) {
		r.bytes -= r.items[drop].size
		drop++
	}
	if drop > 0 {
		r.dropped += drop
		clear(r.items[:drop])
		r.items = r.items[drop:]
	}
}

// newest returns at most limit steps from offset, newest first.
func (r *ring) newest(offset, limit int) []*parity.StepResult {
	out := []*parity.StepResult{}
	for i := len(r.items) - 1 - offset; i >= 0 && len(out) < limit; i-- {
		out = append(out, r.items[i].st)
	}
	return out
}

// trimStep cuts what a step keeps to the bounds above and returns its size. The
// logged differences are the cut ones too: a 900 KB value is not a log line.
func trimStep(st *parity.StepResult) int {
	size := 256 + len(st.Name) + len(st.Endpoint) + len(st.Skipped)
	if len(st.Request) > maxKeptFields {
		keys := make([]string, 0, len(st.Request))
		for k := range st.Request {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys[maxKeptFields:] {
			delete(st.Request, k)
		}
		st.Notes = append(st.Notes, strconv.Itoa(len(keys)-maxKeptFields)+" request fields not kept (the proxy keeps "+
			strconv.Itoa(maxKeptFields)+")")
	}
	if len(st.Request) > 0 {
		kept := make(map[string]string, len(st.Request))
		for k, v := range st.Request {
			k, v = cutText(k, maxKeptValue), cutText(v, maxKeptValue)
			kept[k] = v
			size += len(k) + len(v) + 32
		}
		st.Request = kept
	}
	for _, o := range []*parity.Observation{st.Target, st.Sandbox} {
		if o != nil {
			o.Body = cutText(o.Body, maxKeptBody)
			size += len(o.Body) + len(o.ContentType) + 48
		}
	}
	if n := len(st.Diffs); n > maxKeptDiffs {
		st.Diffs = st.Diffs[:maxKeptDiffs:maxKeptDiffs]
		st.Notes = append(st.Notes, strconv.Itoa(n-maxKeptDiffs)+" more differences not kept (the proxy keeps "+
			strconv.Itoa(maxKeptDiffs)+" a step)")
	}
	for i := range st.Diffs {
		d := &st.Diffs[i]
		d.Path, d.Target, d.Sandbox = cutText(d.Path, maxKeptValue), cutText(d.Target, maxKeptValue), cutText(d.Sandbox, maxKeptValue)
		size += len(d.Path) + len(d.Kind) + len(d.Target) + len(d.Sandbox) + len(d.Profile) + 96
	}
	for i, n := range st.Notes {
		st.Notes[i] = cutText(n, maxKeptValue)
		size += len(st.Notes[i]) + 16
	}
	return size
}

// cutText shortens s to at most max bytes (at a rune boundary) and says how much it
// left out, as the sandbox's journal does.
func cutText(s string, max int) string {
	if len(s) <= max {
		return s
	}
	keep := max
	for keep > 0 && !utf8.RuneStart(s[keep]) {
		keep--
	}
	return s[:keep] + "…[cut " + strconv.Itoa(len(s)-keep) + " bytes]"
}

// mergeSteps is the kept steps of every ring in exchange order.
func mergeSteps(rings ...*ring) []*parity.StepResult {
	var all []keptStep
	for _, r := range rings {
		all = append(all, r.items...)
	}
	slices.SortFunc(all, func(a, b keptStep) int { return cmp.Compare(a.seq, b.seq) })
	out := make([]*parity.StepResult, len(all))
	for i, k := range all {
		out[i] = k.st
	}
	return out
}
