package parity_test

import (
	"bytes"
	"context"
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/client"
	"github.com/vpay88/vpay88-sandbox/config"
	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/internal/parity"
	"github.com/vpay88/vpay88-sandbox/sandboxtest"
)

// valuesPlanted is what the fake differs in by value only: its limits (MYR min 420,
// SGD 134, no VND, THB or IDR), its own deposit banks, and the live MYR payout banks.
var valuesPlanted = []string{
	"bank_list data[currency=MYR,id=1].bank_name value",
	"bank_list data[currency=MYR,id=2].bank_name value",
	"bank_list data[currency=MYR,id=3].bank_name value",
	"bank_list data[currency=MYR] elements_only_in_sandbox",
	"currency rate[currency=MYR].min value",
	"currency rate[currency=SGD].min value",
	"currency rate[] elements_only_in_sandbox",
	"withdraw_bank_list data[currency=MYR] elements_only_in_sandbox",
	"withdraw_bank_list data[currency=MYR] elements_only_in_target",
	"withdraw_bank_list/all-currencies data[currency=IDR] elements_only_in_sandbox",
	"withdraw_bank_list/all-currencies data[currency=MYR] elements_only_in_sandbox",
	"withdraw_bank_list/all-currencies data[currency=MYR] elements_only_in_target",
	"withdraw_bank_list/all-currencies data[currency=SGD,id=1].bank_name value",
	"withdraw_bank_list/all-currencies data[currency=SGD] elements_only_in_sandbox",
	"withdraw_bank_list/all-currencies data[currency=THB] elements_only_in_sandbox",
	"withdraw_bank_list/all-currencies data[currency=VND] elements_only_in_sandbox",
}

// profiles maps "step path kind" to the profile each difference names.
func profiles(rep *parity.Report) map[string]string {
	out := map[string]string{}
	for _, s := range rep.Steps {
		for _, d := range s.Diffs {
			out[s.Name+" "+d.Path+" "+d.Kind] = d.Profile
		}
	}
	return out
}

func findDiff(t *testing.T, rep *parity.Report, step, path, kind string) parity.Diff {
	t.Helper()
	for _, s := range rep.Steps {
		if s.Name != step {
			continue
		}
		for _, d := range s.Diffs {
			if d.Path == path && d.Kind == kind {
				return d
			}
		}
	}
	t.Fatalf("no %s %s %s in the report", step, path, kind)
	return parity.Diff{}
}

func runFake(t *testing.T, url string, values bool) *parity.Report {
	t.Helper()
	sb := MustStartSandbox(t)
	rep, err := parity.Run(context.Background(), parity.Options{
		Target:       client.New(url, client.WithCredentials(fakeUser, fakeKey)),
		TargetAPIKey: fakeKey, Sandbox: sandboxClient(sb), SandboxAPIKey: sb.APIKey,
		Secrets: []string{fakeSecret}, Values: values,
	})
	require.NoError(t, err)
	return rep
}

func TestRun_ValuesOnlyWhenAsked(t *testing.T) {
	f, url := newFakeVendor(t, fakeUser, fakeKey)

	// By shape, the fake's limits and banks are like the sandbox's: nothing new.
	rep := runFake(t, url, false)
	assert.Equal(t, planted, flagged(rep))
	assert.False(t, rep.Values)

	rep = runFake(t, url, true)
	want := append(append([]string{}, planted...), valuesPlanted...)
	sort.Strings(want)
	assert.Equal(t, want, flagged(rep))
	assert.True(t, rep.Values)
	assert.Equal(t, gateway.ProfileDocument, rep.Profile)

	min := findDiff(t, rep, "currency", "rate[currency=MYR].min", parity.KindValue)
	assert.Equal(t, "420.0000", min.Target)
	assert.Equal(t, "1.0000", min.Sandbox)
	assert.Equal(t, parity.MatchNeither, min.Profile, "no profile changes the limits")

	only := findDiff(t, rep, "withdraw_bank_list", "data[currency=MYR]", parity.KindElementsOnlyTarget)
	assert.True(t, strings.HasPrefix(only.Target, `18 elements: 246 "MAYBANK", 261 "CIMB"`), only.Target)
	assert.Contains(t, findDiff(t, rep, "bank_list", "data[currency=MYR,id=1].bank_name", parity.KindValue).Target, `"Maybank"`)

	// The live MYR payout list is the observed profile's; nothing else is explained
	// by a profile.
	for d, p := range profiles(rep) {
		if strings.HasPrefix(d, "withdraw_bank_list") && strings.Contains(d, "data[currency=MYR]") {
			assert.Equal(t, parity.MatchObserved, p, d)
		} else {
			assert.Equal(t, parity.MatchNeither, p, d)
		}
	}

	var table bytes.Buffer
	require.NoError(t, rep.WriteTable(&table))
	out := table.String()
	assert.Contains(t, out, "sandbox profile document, lists compared by value")
	assert.Contains(t, out, "rate[currency=MYR].min: value: target 420.0000, sandbox 1.0000 (matches neither profile)\n")
	assert.Regexp(t, `data\[currency=MYR\]: elements only in target: target 18 elements: .*GXBANK", sandbox \(absent\) \(matches the observed profile\) \(dialect: set myr_payout_banks: live\)\n`, out)

	var buf bytes.Buffer
	require.NoError(t, rep.WriteJSON(&buf))
	var got struct {
		Profile string `json:"profile"`
		Values  bool   `json:"values"`
		Steps   []struct {
			Name  string `json:"name"`
			Diffs []struct{ Path, Kind, Profile string }
		} `json:"steps"`
	}
	require.NoError(t, json.Unmarshal(buf.Bytes(), &got))
	assert.Equal(t, "document", got.Profile)
	assert.True(t, got.Values)
	var observed int
	for _, s := range got.Steps {
		for _, d := range s.Diffs {
			assert.Contains(t, []string{"document", "observed", "both", "neither"}, d.Profile)
			if d.Profile == "observed" {
				observed++
			}
		}
	}
	assert.Equal(t, 4, observed, "MYR only in target and only in sandbox, in both withdraw_bank_list steps")
	assertNoSecrets(t, buf.String(), f)
}

func TestRun_ValuesAndReplay(t *testing.T) {
	// A recording keeps the values: a replay with --values finds the same.
	_, url := newFakeVendor(t, fakeUser, fakeKey)
	live := runFake(t, url, true)
	sb := MustStartSandbox(t)
	replay, err := parity.Run(context.Background(), parity.Options{Replay: live.Recording,
		Sandbox: sandboxClient(sb), SandboxAPIKey: sb.APIKey, Values: true})
	require.NoError(t, err)
	assert.Equal(t, flagged(live), flagged(replay))
	assert.Equal(t, profiles(live), profiles(replay))
}

func TestRun_ValuesSandboxAgainstItself(t *testing.T) {
	// Two sandboxes with the same configuration and profile list the same values.
	for _, p := range []gateway.Profile{gateway.ProfileDocument, gateway.ProfileObserved} {
		t.Run(string(p), func(t *testing.T) {
			a := sandboxtest.New(t, sandboxtest.WithConfig(func(c *config.Config) { c.Profile = p }))
			b, err := parity.StartSandbox("", "", "", func(c *config.Config) { c.Profile = p })
			require.NoError(t, err)
			defer b.Close()
			rep, err := parity.Run(context.Background(), parity.Options{Target: a.Client, TargetAPIKey: a.APIKey,
				Sandbox: sandboxClient(b), SandboxAPIKey: b.APIKey, Values: true, Profile: p})
			require.NoError(t, err)
			assert.Empty(t, flagged(rep))
			assert.Equal(t, p, rep.Profile)
		})
	}
}

func TestRun_ProfileAttribution(t *testing.T) {
	// The target runs one profile, the sandbox the other: the differences the profiles
	// explain name the target's; the others (consequences, such as the valid order
	// refused as a duplicate of the one the observed side accepted without
	// phone_number) name neither.
	for _, tc := range []struct{ target, sandbox gateway.Profile }{
		{gateway.ProfileObserved, gateway.ProfileDocument},
		{gateway.ProfileDocument, gateway.ProfileObserved},
	} {
		t.Run("target "+string(tc.target), func(t *testing.T) {
			a := sandboxtest.New(t, sandboxtest.WithConfig(func(c *config.Config) { c.Profile = tc.target }))
			b, err := parity.StartSandbox("", "", "", func(c *config.Config) { c.Profile = tc.sandbox })
			require.NoError(t, err)
			defer b.Close()
			rep, err := parity.Run(context.Background(), parity.Options{Target: a.Client, TargetAPIKey: a.APIKey,
				Sandbox: sandboxClient(b), SandboxAPIKey: b.APIKey, Values: true, Profile: tc.sandbox})
			require.NoError(t, err)
			var table bytes.Buffer
			require.NoError(t, rep.WriteTable(&table))
			t.Log("\n" + table.String())

			got := profiles(rep)
			explained := map[string]bool{}
			for _, d := range []string{
				"withdraw_bank_list data[currency=MYR] elements_only_in_target",
				"withdraw_bank_list data[currency=MYR] elements_only_in_sandbox",
				"withdraw_bank_list/all-currencies data[currency=MYR] elements_only_in_target",
				"withdraw_bank_list/all-currencies data[currency=MYR] elements_only_in_sandbox",
				"generate_orders/missing status value",
			} {
				explained[d] = true
				assert.Equal(t, string(tc.target), got[d], d)
			}
			// The accepted side adds p_url, the refusing side a message.
			for _, d := range []string{"generate_orders/missing p_url", "generate_orders/missing message"} {
				var n int
				for k, p := range got {
					if strings.HasPrefix(k, d+" key_only_in_") {
						n++
						explained[k] = true
						assert.Equal(t, string(tc.target), p, k)
					}
				}
				assert.Equal(t, 1, n, d)
			}
			for d, p := range got {
				if !explained[d] {
					assert.Equal(t, parity.MatchNeither, p, d)
				}
			}
		})
	}
}
