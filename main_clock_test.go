package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/clock"
	"github.com/vpay88/vpay88-sandbox/store"
)

// clockOf reads GET /sandbox/api/clock.
func (p *sandboxProc) clockOf(t *testing.T) (now time.Time, frozen bool) {
	t.Helper()
	resp, err := http.Get(p.URL + "/sandbox/api/clock")
	require.NoError(t, err)
	defer resp.Body.Close()
	var v struct {
		Now    time.Time `json:"now"`
		Frozen bool      `json:"frozen"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&v))
	return v.Now, v.Frozen
}

// TestClockStartFrozenAndResumed: --clock-start with --frozen starts the clock
// stopped at that instant, for repeatable runs; QA's moves survive a restart (the data
// file keeps the clock), and a --clock-start before the file's time is refused.
func TestClockStartFrozenAndResumed(t *testing.T) {
	data := filepath.Join(t.TempDir(), "sandbox.db")
	start := time.Date(2027, 3, 1, 8, 30, 0, 0, time.UTC)
	p := startSandbox(t, data, "--clock-start", start.Format(time.RFC3339), "--frozen")
	now, frozen := p.clockOf(t)
	assert.Equal(t, start, now)
	assert.True(t, frozen)
	tok := p.Auth(t)
	require.Equal(t, true, p.Post(t, "/merchant/generate_orders", depositFields(tok, "clk-dep"))["status"])
	assert.Equal(t, start.In(time.Local).Format("2006-01-02 15:04:05"), p.status(t, "deposit", "clk-dep")["order_datetime"])

	resp, err := http.PostForm(p.URL+"/sandbox/api/clock", url.Values{"advance": {"1h"}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, 0, p.Terminate(t))

	p2 := startSandbox(t, data)
	now, frozen = p2.clockOf(t)
	assert.Equal(t, start.Add(time.Hour), now, "the moved clock resumes")
	assert.True(t, frozen)
	assert.Equal(t, 0, p2.Terminate(t))

	assert.Contains(t, runFails(t, "--data", data, "--clock-start", start.Format(time.RFC3339)), "time never goes backwards")
}

// TestEphemeral: --ephemeral serves from a temporary file, says it ignores --data,
// and leaves no file behind once stopped.
func TestEphemeral(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "never.db")
	p := startSandbox(t, data, "--ephemeral")
	tok := p.Auth(t)
	require.Equal(t, true, p.Post(t, "/merchant/generate_orders", depositFields(tok, "eph-1"))["status"])
	assert.Contains(t, p.Log(), "--data is ignored")
	assert.Contains(t, p.Log(), `"durability":"ephemeral"`)
	var tmp string
	for _, line := range strings.Split(p.Log(), "\n") {
		var rec struct {
			Msg  string `json:"msg"`
			Data string `json:"data"`
		}
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "vpay88-sandbox listening" {
			tmp = rec.Data
		}
	}
	require.NotEmpty(t, tmp)
	_, err := os.Stat(tmp)
	require.NoError(t, err, "the state is in its temporary file while it runs")
	assert.Equal(t, 0, p.Terminate(t))
	_, err = os.Stat(filepath.Dir(tmp))
	assert.True(t, os.IsNotExist(err), "the temporary folder is gone: %v", err)
	_, err = os.Stat(data)
	assert.True(t, os.IsNotExist(err), "--data was not created")
}

// runFails runs the binary with args and returns its output, requiring a failed exit.
func runFails(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, sandboxBinary(t), append([]string{"--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = cleanEnv()
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	require.True(t, errors.As(err, &ee), "want a failed exit: %v\n%s", err, out)
	assert.False(t, strings.Contains(string(out), "listening"))
	return string(out)
}

// TestClockWrappedStateIsNotResumed: a state file whose clock an older version let
// wrap (issue 18: 2226 → 1742) does not start without --clock-start, and starts with
// one; a --clock-start past the clock's range is refused before anything opens.
func TestClockWrappedStateIsNotResumed(t *testing.T) {
	data := filepath.Join(t.TempDir(), "sandbox.db")
	st, err := store.Open(data, store.WithClock(clock.Frozen(time.Date(1742, 3, 1, 0, 0, 0, 0, time.UTC))))
	require.NoError(t, err)
	require.NoError(t, st.SaveClock())
	require.NoError(t, st.Close())

	out := runFails(t, "--data", data)
	assert.Contains(t, out, "cannot be resumed")
	assert.Contains(t, out, "1742-03-01T00:00:00Z is before the earliest instant")
	assert.Contains(t, out, "--clock-start")

	out = runFails(t, "--data", data, "--clock-start", "2300-01-01T00:00:00Z")
	assert.Contains(t, out, "--clock-start must be an instant the sandbox clock holds, 1970-01-01T00:00:00Z to 2200-01-01T00:00:00Z")

	start := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	p := startSandbox(t, data, "--clock-start", start.Format(time.RFC3339), "--frozen")
	now, frozen := p.clockOf(t)
	assert.Equal(t, start, now)
	assert.True(t, frozen)
	assert.Equal(t, 0, p.Terminate(t))
}
