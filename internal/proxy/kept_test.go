package proxy

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/vpay88/vpay88-sandbox/internal/parity"
)

// TestRing: a ring keeps the last max steps and at most maxBytes of them (always the
// newest one), counting what went.
func TestRing(t *testing.T) {
	r := ring{max: 3, maxBytes: 100}
	for i := int64(1); i <= 5; i++ {
		r.add(keptStep{seq: i, st: &parity.StepResult{}, size: 10})
	}
	assert.Len(t, r.items, 3)
	assert.Equal(t, 2, r.dropped)
	assert.EqualValues(t, 3, r.items[0].seq)
	r.add(keptStep{seq: 6, st: &parity.StepResult{}, size: 85})
	assert.Len(t, r.items, 2, "bytes: 10 + 85 fit, not 10 + 10 + 85")
	assert.Equal(t, 95, r.bytes)
	r.add(keptStep{seq: 7, st: &parity.StepResult{}, size: 500})
	assert.Len(t, r.items, 1, "a step over the bound alone is still kept, by itself")
	assert.Equal(t, 6, r.dropped)
}

// TestTrimStep: each kept piece is cut to its bound and says so.
func TestTrimStep(t *testing.T) {
	long := strings.Repeat("é", 10_000) // 20,000 bytes, cut at a rune boundary
	req := map[string]string{strings.Repeat("k", 600): "v"}
	for i := range 70 {
		req[string(rune('a'+i%26))+strings.Repeat("f", i)] = long
	}
	diffs := make([]parity.Diff, 150)
	for i := range diffs {
		diffs[i] = parity.Diff{Path: "message", Kind: "value", Target: long, Sandbox: "x"}
	}
	st := &parity.StepResult{Name: "#1 check_status", Request: req, Target: &parity.Observation{Body: long},
		Sandbox: &parity.Observation{Body: "{}"}, Diffs: diffs}
	size := trimStep(st)
	assert.Len(t, st.Request, maxKeptFields)
	for k, v := range st.Request {
		assert.LessOrEqual(t, len(k), maxKeptValue+30)
		assert.LessOrEqual(t, len(v), maxKeptValue+30)
	}
	assert.Contains(t, st.Target.Body, "…[cut ")
	assert.LessOrEqual(t, len(st.Target.Body), maxKeptBody+30)
	assert.Equal(t, "{}", st.Sandbox.Body)
	assert.Len(t, st.Diffs, maxKeptDiffs)
	assert.LessOrEqual(t, len(st.Diffs[0].Target), maxKeptValue+30)
	assert.Contains(t, strings.Join(st.Notes, "\n"), "50 more differences not kept")
	assert.Contains(t, strings.Join(st.Notes, "\n"), "7 request fields not kept")
	assert.Less(t, size, 150<<10)
	assert.Greater(t, size, maxKeptBody)
}
