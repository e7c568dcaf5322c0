package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/config"
	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/sandboxtest"
)

// parityCLI runs the parity command and returns its exit code and outputs.
func parityCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(append([]string{"parity"}, args...), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// parityMutatedTarget is a sandbox behind a proxy that changes one answer: the
// bad-key auth refusal says "Params Incorrect" (capital I).
func parityMutatedTarget(t *testing.T) (*sandboxtest.Sandbox, string) {
	sb := sandboxtest.New(t)
	target, err := url.Parse(sb.URL)
	require.NoError(t, err)
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.ModifyResponse = func(resp *http.Response) error {
		if resp.Request.URL.Path != "/merchant/auth" {
			return nil
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		body = bytes.Replace(body, []byte(`"Params incorrect"`), []byte(`"Params Incorrect"`), 1)
		resp.Body = io.NopCloser(bytes.NewReader(body))
		resp.ContentLength = int64(len(body))
		resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
		return nil
	}
	srv := httptest.NewServer(rp)
	t.Cleanup(srv.Close)
	return sb, srv.URL
}

func TestParityCLI_Same(t *testing.T) {
	sb := sandboxtest.New(t)
	code, out, errOut := parityCLI(t, "--target", sb.URL, "--username", sb.Username, "--api-key", sb.APIKey, "--secret", sb.SecretKey)
	assert.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	assert.Contains(t, out, "✓  auth ")
	assert.NotContains(t, out, "✗")
	assert.Contains(t, out, "in process (http://127.0.0.1:")
	assert.Regexp(t, `\n\d+ steps: \d+ same, 0 different, 0 skipped\n$`, out)
}

func TestParityCLI_DifferenceExitsOne(t *testing.T) {
	sb, target := parityMutatedTarget(t)
	code, out, _ := parityCLI(t, "--target", target, "--username", sb.Username, "--api-key", sb.APIKey)
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, "✗  auth/bad-key ")
	assert.Contains(t, out, `message: value: target "Params Incorrect", sandbox "Params incorrect"`)
	assert.Equal(t, 1, strings.Count(out, "✗"), "only the planted difference:\n%s", out)
	assert.NotContains(t, out, sb.APIKey, "credentials are masked in the output")
}

func TestParityCLI_JSONFromEnvironment(t *testing.T) {
	sb, target := parityMutatedTarget(t)
	t.Setenv("VPAY88_PARITY_TARGET", target)
	t.Setenv("VPAY88_PARITY_USERNAME", sb.Username)
	t.Setenv("VPAY88_PARITY_API_KEY", sb.APIKey)
	t.Setenv("VPAY88_PARITY_JSON", "1")
	code, out, _ := parityCLI(t)
	assert.Equal(t, 1, code)
	var rep struct {
		Different int `json:"different"`
		Steps     []struct {
			Name  string `json:"name"`
			Diffs []struct {
				Path, Kind, Target, Sandbox string
			} `json:"diffs"`
		} `json:"steps"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep), out)
	assert.Equal(t, 1, rep.Different)
	for _, s := range rep.Steps {
		if s.Name == "auth/bad-key" {
			require.Len(t, s.Diffs, 1)
			assert.Equal(t, "message", s.Diffs[0].Path)
			assert.Equal(t, "value", s.Diffs[0].Kind)
		} else {
			assert.Empty(t, s.Diffs, s.Name)
		}
	}
}

func TestParityCLI_RecordThenReplay(t *testing.T) {
	sb, target := parityMutatedTarget(t)
	file := filepath.Join(t.TempDir(), "vpay88.rec.json")
	code, _, errOut := parityCLI(t, "--target", target, "--username", sb.Username, "--api-key", sb.APIKey,
		"--secret", sb.SecretKey, "--record", file)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "recorded ")
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	assert.NotContains(t, string(b), sb.APIKey)
	assert.Contains(t, string(b), `"format": "vpay88-parity-recording/1"`)

	// Offline, against a fresh in-process sandbox: the same difference.
	code, out, errOut := parityCLI(t, "--replay", file)
	assert.Equal(t, 1, code, errOut)
	assert.Contains(t, out, "target recording of "+target)
	assert.Contains(t, out, `message: value: target "Params Incorrect", sandbox "Params incorrect"`)
	assert.Equal(t, 1, strings.Count(out, "✗"), out)

	// And against a running sandbox (--against), with its default credentials.
	other := sandboxtest.New(t)
	code, out, _ = parityCLI(t, "--replay", file, "--against", other.URL)
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "sandbox "+other.URL)
	assert.Equal(t, 1, strings.Count(out, "✗"), out)
}

func TestParityCLI_Against(t *testing.T) {
	// Payouts stay pending for the whole run on both sides, so check_withdraw_status
	// cannot race the settlement.
	slow := sandboxtest.WithConfig(func(c *config.Config) { c.WithdrawalDelay = config.Duration(time.Minute) })
	target, against := sandboxtest.New(t, slow), sandboxtest.New(t, slow)
	code, out, _ := parityCLI(t, "--target", target.URL, "--username", target.Username, "--api-key", target.APIKey,
		"--against", against.URL, "--allow-payouts", "--currency", "idr")
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "currency IDR")
	assert.Contains(t, out, "✓  withdraw_orders ")
	assert.Contains(t, out, "✓  check_withdraw_status ")
}

func TestParityCLI_UsageAndNetworkErrors(t *testing.T) {
	for name, args := range map[string][]string{
		"NoTarget":         {},
		"NoAPIKey":         {"--target", "http://127.0.0.1:1", "--username", "u"},
		"RecordAndReplay":  {"--record", "a", "--replay", "b"},
		"ReplayWithTarget": {"--replay", "a", "--target", "http://x"},
		"UnknownFlag":      {"--nope"},
		"ExtraArgument":    {"--target", "http://x", "--username", "u", "--api-key", "k", "extra"},
		"MissingRecording": {"--replay", filepath.Join(t.TempDir(), "absent.json")},
		"Unreachable":      {"--target", "http://127.0.0.1:1", "--username", "u", "--api-key", "k", "--timeout", "2s"},
	} {
		t.Run(name, func(t *testing.T) {
			code, _, errOut := parityCLI(t, args...)
			assert.Equal(t, 2, code, errOut)
			assert.NotEmpty(t, errOut)
		})
	}
	code, out, _ := parityCLI(t, "--help")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "VPAY88_PARITY_TARGET")
}

func TestParityCLI_ValuesAndProfile(t *testing.T) {
	// The target runs the observed profile (the live MYR payout banks, email and
	// phone_number optional).
	target := sandboxtest.New(t, sandboxtest.WithConfig(func(c *config.Config) { c.Profile = gateway.ProfileObserved }))
	args := []string{"--target", target.URL, "--username", target.Username, "--api-key", target.APIKey}

	// Against the default (document) in-process sandbox, by value: the payout banks
	// differ and are the observed profile's.
	code, out, errOut := parityCLI(t, append(args, "--values")...)
	assert.Equal(t, 1, code, errOut)
	assert.Contains(t, out, "sandbox profile document, lists compared by value")
	assert.Contains(t, out, "✗  withdraw_bank_list ")
	assert.Regexp(t, `data\[currency=MYR\]: elements only in target: target 18 elements: 246 "MAYBANK".*\(matches the observed profile\)`, out)
	assert.Regexp(t, `status: value: target bool true, sandbox bool false \(matches the observed profile\)`, out)

	// An in-process sandbox on the observed profile answers the same, values included.
	t.Setenv("VPAY88_PARITY_VALUES", "1")
	code, out, errOut = parityCLI(t, append(args, "--profile", "observed", "--json")...)
	assert.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	var rep struct {
		Profile string `json:"profile"`
		Values  bool   `json:"values"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep), out)
	assert.Equal(t, "observed", rep.Profile)
	assert.True(t, rep.Values)

	code, _, errOut = parityCLI(t, append(args, "--profile", "live")...)
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "--profile")
}
