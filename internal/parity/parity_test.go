package parity_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/client"
	"github.com/vpay88/vpay88-sandbox/config"
	"github.com/vpay88/vpay88-sandbox/internal/parity"
	"github.com/vpay88/vpay88-sandbox/sandboxtest"
)

const (
	fakeUser   = "acme-merchant"
	fakeKey    = "acme-api-key-0001"
	fakeSecret = "acme-secret-key-0001"
)

// MustStartSandbox starts the in-process parity sandbox with the fake's credentials.
func MustStartSandbox(tb testing.TB) *parity.Sandbox {
	tb.Helper()
	sb, err := parity.StartSandbox(fakeUser, fakeKey, fakeSecret)
	require.NoError(tb, err)
	tb.Cleanup(func() { require.NoError(tb, sb.Close()) })
	return sb
}

func sandboxClient(sb *parity.Sandbox) *client.Client {
	return client.New(sb.URL, client.WithCredentials(sb.Username, sb.APIKey), client.WithTimeout(5*time.Second))
}

// flagged lists "step path kind" for every difference in the report, sorted.
func flagged(rep *parity.Report) []string {
	var out []string
	for _, s := range rep.Steps {
		for _, d := range s.Diffs {
			out = append(out, s.Name+" "+d.Path+" "+d.Kind)
		}
	}
	sort.Strings(out)
	return out
}

// planted is what the fake vendor differs in, step by step, and nothing else.
var planted = []string{
	"auth expires_in key_only_in_target",                  // 4: extra key
	"bank_list data[].id type",                            // 2: number instead of string
	"check_status amount number_format",                   // 5: 100.00 vs 100.0000
	"check_status/customer-username amount number_format", // 5, same handler
	"check_status/unknown-order message value",            // 1: message text
	"check_withdraw_status/unknown-order message value",   // 1, same handler
	"currency rate[].max key_only_in_sandbox",             // 3: missing key
}

func runAgainstFake(t *testing.T, f *fakeVendor, url string) *parity.Report {
	t.Helper()
	sb := MustStartSandbox(t)
	rep, err := parity.Run(context.Background(), parity.Options{
		Target:       client.New(url, client.WithCredentials(fakeUser, fakeKey)),
		TargetAPIKey: fakeKey, Sandbox: sandboxClient(sb), SandboxAPIKey: sb.APIKey,
		Secrets: []string{fakeSecret},
	})
	require.NoError(t, err)
	return rep
}

func TestRun_FlagsEachPlantedDifferenceAndNothingElse(t *testing.T) {
	f, url := newFakeVendor(t, fakeUser, fakeKey)
	rep := runAgainstFake(t, f, url)
	var table bytes.Buffer
	require.NoError(t, rep.WriteTable(&table))
	t.Log("\n" + table.String())

	assert.Equal(t, planted, flagged(rep))
	assert.False(t, rep.OK())
	assert.Equal(t, 7, rep.Different)
	assert.Equal(t, len(rep.Steps)-7, rep.Same)
	assert.Equal(t, "420", rep.Amount, "the amount is the target's minimum")

	// The differences read as a person needs them.
	out := table.String()
	assert.Contains(t, out, `✗  check_status/unknown-order`)
	assert.Contains(t, out, `message: value: target "Order not exist.", sandbox "Order not found."`)
	assert.Contains(t, out, `amount: number format: target number 420.00 (2 decimals), sandbox number 420.0000 (4 decimals)`)
	assert.Contains(t, out, `data[].id: type: target number integer, sandbox string`)
	assert.Contains(t, out, `rate[].max: key only in sandbox: target (absent), sandbox number 4 decimals`)
	assert.Contains(t, out, `expires_in: key only in target: target number 1800 (integer), sandbox (absent)`)
	assert.Contains(t, out, `✓  generate_orders `)
	// The vendor's quirks are noted, not failed.
	assert.Contains(t, out, "note: target JSON has trailing commas")
	assert.Contains(t, out, "note: content type parameters")
}

func TestRun_JSON(t *testing.T) {
	f, url := newFakeVendor(t, fakeUser, fakeKey)
	rep := runAgainstFake(t, f, url)
	var buf bytes.Buffer
	require.NoError(t, rep.WriteJSON(&buf))
	var got struct {
		Different int `json:"different"`
		Steps     []struct {
			Name  string `json:"name"`
			Diffs []struct{ Path, Kind, Target, Sandbox string }
		} `json:"steps"`
	}
	require.NoError(t, json.Unmarshal(buf.Bytes(), &got))
	assert.Equal(t, 7, got.Different)
	for _, s := range got.Steps {
		if s.Name == "auth" {
			require.Len(t, s.Diffs, 1)
			assert.Equal(t, "expires_in", s.Diffs[0].Path)
			assert.Equal(t, "key_only_in_target", s.Diffs[0].Kind)
		}
	}
	assertNoSecrets(t, buf.String(), f)
}

func TestRun_RecordThenReplay(t *testing.T) {
	f, url := newFakeVendor(t, fakeUser, fakeKey)
	live := runAgainstFake(t, f, url)
	require.NotNil(t, live.Recording)
	path := filepath.Join(t.TempDir(), "rec.json")
	require.NoError(t, live.Recording.WriteFile(path))
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())

	rec, err := parity.ReadRecording(path)
	require.NoError(t, err)
	assert.Equal(t, parity.RecordingFormat, rec.Format)
	assert.Equal(t, url, rec.Target)
	assert.Equal(t, "420", rec.Amount)
	assert.Len(t, rec.Steps, len(live.Steps))

	// Offline: the target is the recording; a fresh sandbox answers.
	sb := MustStartSandbox(t)
	replay, err := parity.Run(context.Background(), parity.Options{Replay: rec, Sandbox: sandboxClient(sb), SandboxAPIKey: sb.APIKey})
	require.NoError(t, err)
	assert.Equal(t, planted, flagged(replay), "the masked recording compares as the live target did")
	assert.Equal(t, "420", replay.Amount)
	assert.Contains(t, replay.Target, "recording of "+url)
	assert.Nil(t, replay.Recording)

	// Steps the recording lacks are skipped, not failed.
	replay, err = parity.Run(context.Background(), parity.Options{Replay: rec, Sandbox: sandboxClient(sb),
		SandboxAPIKey: sb.APIKey, AllowPayouts: true, OrderPrefix: "again"})
	require.NoError(t, err)
	assert.Equal(t, 3, replay.Skipped)
	assert.Equal(t, planted, flagged(replay))
}

func TestRecording_Redaction(t *testing.T) {
	f, url := newFakeVendor(t, fakeUser, fakeKey)
	rep := runAgainstFake(t, f, url)
	var buf bytes.Buffer
	require.NoError(t, json.NewEncoder(&buf).Encode(rep.Recording))
	text := buf.String()
	assertNoSecrets(t, text, f)
	assert.Contains(t, text, `"api_key":"[redacted]"`)

	for _, s := range rep.Recording.Steps {
		switch s.Name {
		case "auth":
			// The token is masked, keeping its shape for the replay.
			var v struct{ Auth string }
			require.NoError(t, client.Unmarshal([]byte(s.Body), &v))
			assert.Regexp(t, `^[0aAxX]{20}$`, v.Auth)
		case "generate_orders/bad-auth":
			assert.Equal(t, "xaxxxxAaaAxxxXxxax00", s.Request["auth"], "masked like a token: never-issued values are masked too")
		case "generate_orders":
			assert.Regexp(t, `[0aAxX]{20}`, s.Request["auth"])
			assert.Contains(t, s.Body, `order-pay\/`)
			assert.Regexp(t, `key=[0aAxX]{16}"`, s.Body)
		}
	}
}

func assertNoSecrets(t *testing.T, text string, f *fakeVendor) {
	t.Helper()
	for _, s := range append(f.secrets(), fakeKey, fakeSecret) {
		assert.NotContains(t, text, s)
	}
	assert.NotEmpty(t, f.secrets())
}

func TestRun_SandboxAgainstItself(t *testing.T) {
	// The sandbox compared with a second sandbox (sandboxtest) differs nowhere, payouts
	// included: nothing in the comparison is noise.
	// a's payouts stay pending for the run, as b's do (2 s default delay), so
	// check_withdraw_status cannot race a settlement.
	a := sandboxtest.New(t, sandboxtest.WithConfig(func(c *config.Config) { c.WithdrawalDelay = config.Duration(time.Minute) }))
	b, err := parity.StartSandbox("", "", "")
	require.NoError(t, err)
	defer b.Close()
	rep, err := parity.Run(context.Background(), parity.Options{Target: a.Client, TargetAPIKey: a.APIKey,
		Sandbox: sandboxClient(b), SandboxAPIKey: b.APIKey, AllowPayouts: true, Currency: "THB"})
	require.NoError(t, err)
	assert.Empty(t, flagged(rep))
	assert.True(t, rep.OK())
	assert.Equal(t, len(rep.Steps), rep.Same)
	var names []string
	for _, s := range rep.Steps {
		names = append(names, s.Name)
	}
	assert.Contains(t, names, "generate_orders/bad-bank-id", "THB deposits name a bank")
	assert.NotContains(t, names, "generate_orders/bad-mode", "mode is MYR only")
	assert.Contains(t, names, "withdraw_orders")
	assert.Equal(t, "THB", rep.Currency)
}

func TestRun_NetworkError(t *testing.T) {
	sb := MustStartSandbox(t)
	rep, err := parity.Run(context.Background(), parity.Options{
		Target:  client.New("http://127.0.0.1:1", client.WithTimeout(time.Second)),
		Sandbox: sandboxClient(sb),
	})
	var ne *parity.NetworkError
	require.ErrorAs(t, err, &ne)
	assert.Equal(t, "target", ne.Side)
	assert.Equal(t, "currency", ne.Step)
	require.NotNil(t, rep)
	assert.True(t, strings.HasPrefix(rep.Sandbox, "http://127.0.0.1:"))
}
