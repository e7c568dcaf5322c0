package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/client"
	"github.com/vpay88/vpay88-sandbox/config"
	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/internal/proxy"
	"github.com/vpay88/vpay88-sandbox/sandboxtest"
)

// recordThroughProxy records a short conversation through the proxy in front of a
// target on the observed profile: auth, a deposit without email and phone_number
// (which only the observed profile accepts) and its status.
func recordThroughProxy(t *testing.T) string {
	target := sandboxtest.New(t, sandboxtest.WithConfig(func(c *config.Config) { c.Profile = gateway.ProfileObserved }))
	file := filepath.Join(t.TempDir(), "capture.jsonl")
	p, err := proxy.New(proxy.Options{Target: target.URL, Record: file})
	require.NoError(t, err)
	front := httptest.NewServer(p)
	defer front.Close()
	gw := client.New(front.URL, client.WithCredentials(target.Username, target.APIKey))
	ctx := context.Background()
	_, err = gw.GenerateOrder(ctx, client.DepositRequest{Username: "john", Amount: gateway.MustMoney("100"), Currency: "MYR", OrderID: "CLI-1"})
	require.NoError(t, err, "the target takes a deposit without email and phone_number")
	_, err = gw.CheckStatus(ctx, "CLI-1")
	require.NoError(t, err)
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	require.NoError(t, p.Sync(sctx))
	require.NoError(t, p.Close())
	return file
}

func TestParityCLI_ReplaysProxyRecording(t *testing.T) {
	file := recordThroughProxy(t)

	code, out, errOut := parityCLI(t, "--replay", file)
	assert.Equal(t, 1, code, errOut)
	assert.Contains(t, out, "target recording of http://127.0.0.1:")
	assert.Contains(t, out, "✗  #2 generate_orders")
	assert.Contains(t, out, "status: value: target bool true, sandbox bool false (matches the observed profile)")
	assert.Contains(t, out, "note: order CLI-1: the target accepted it, the shadow refused it; created in the shadow to follow the target")
	assert.Contains(t, out, "✓  #3 check_status")

	code, out, errOut = parityCLI(t, "--replay", file, "--json")
	assert.Equal(t, 1, code, errOut)
	var rep struct {
		Profile   string `json:"profile"`
		Different int    `json:"different"`
		Steps     []struct {
			Name  string `json:"name"`
			Diffs []struct {
				Path, Kind, Profile string
			} `json:"diffs"`
		} `json:"steps"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep), out)
	assert.Equal(t, "document", rep.Profile)
	assert.Equal(t, 1, rep.Different)
	require.Len(t, rep.Steps, 3)
	assert.NotEmpty(t, rep.Steps[1].Diffs)

	// A shadow on the target's profile answers as the target did.
	code, out, errOut = parityCLI(t, "--replay", file, "--profile", "observed")
	assert.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out, errOut)

	for name, args := range map[string][]string{
		"Against": {"--replay", file, "--against", "http://127.0.0.1:1"},
		"Values":  {"--replay", file, "--values"},
	} {
		t.Run(name, func(t *testing.T) {
			code, _, errOut := parityCLI(t, args...)
			assert.Equal(t, 2, code)
			assert.Contains(t, errOut, args[2])
		})
	}
}

func TestProxyCLI_Flags(t *testing.T) {
	f, err := parseProxyFlags([]string{"--target", "http://gw.example", "--forward-to", "http://127.0.0.1:9000/callback"}, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:9000/callback", f.forwardTo)
	assert.True(t, f.attribute, "a second shadow attributes profiles by default")

	t.Setenv("VPAY88_PROXY_ATTRIBUTE", "false")
	f, err = parseProxyFlags([]string{"--target", "http://gw.example"}, io.Discard)
	require.NoError(t, err)
	assert.False(t, f.attribute)

	_, err = parseProxyFlags([]string{"--target", "http://gw.example", "--forward-to", "merchant.example/cb"}, io.Discard)
	assert.ErrorContains(t, err, "--forward-to")

	// The bounds: documented defaults, flags and environment.
	f, err = parseProxyFlags([]string{"--target", "http://gw.example"}, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, 30*time.Second, f.readTimeout)
	assert.Equal(t, 60*time.Second, f.targetTimeout)
	assert.Equal(t, proxy.DefaultMaxDifferences, f.maxDifferences)
	t.Setenv("VPAY88_PROXY_TARGET_TIMEOUT", "5s")
	f, err = parseProxyFlags([]string{"--target", "http://gw.example", "--read-timeout", "2s", "--max-differences", "10"}, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, 2*time.Second, f.readTimeout)
	assert.Equal(t, 5*time.Second, f.targetTimeout)
	assert.Equal(t, 10, f.maxDifferences)
	for _, args := range [][]string{{"--read-timeout", "0s"}, {"--max-differences", "0"}} {
		_, err = parseProxyFlags(append([]string{"--target", "http://gw.example"}, args...), io.Discard)
		assert.Error(t, err, args)
	}
	t.Setenv("VPAY88_PROXY_TARGET_TIMEOUT", "soon")
	_, err = parseProxyFlags([]string{"--target", "http://gw.example"}, io.Discard)
	assert.ErrorContains(t, err, "VPAY88_PROXY_TARGET_TIMEOUT")
}
