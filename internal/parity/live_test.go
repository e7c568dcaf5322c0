package parity_test

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/client"
	"github.com/vpay88/vpay88-sandbox/internal/parity"
)

// TestLive_Parity runs the parity conversation against the real gateway when
// VPAY88_REAL_BASE_URL, VPAY88_REAL_USERNAME and VPAY88_REAL_API_KEY are set (it
// creates one pending deposit there, never a payout), and logs the report. Differences
// fail it only with VPAY88_REAL_STRICT=1: until the sandbox matches the real gateway,
// the report is the finding.
func TestLive_Parity(t *testing.T) {
	base, user, key := os.Getenv("VPAY88_REAL_BASE_URL"), os.Getenv("VPAY88_REAL_USERNAME"), os.Getenv("VPAY88_REAL_API_KEY")
	if base == "" || user == "" || key == "" {
		t.Skip("set VPAY88_REAL_BASE_URL, VPAY88_REAL_USERNAME and VPAY88_REAL_API_KEY to run against the real gateway")
	}
	secret := os.Getenv("VPAY88_REAL_SECRET")
	sb, err := parity.StartSandbox(user, key, secret)
	require.NoError(t, err)
	defer sb.Close()
	rep, err := parity.Run(context.Background(), parity.Options{
		Target:       client.New(base, client.WithCredentials(user, key), client.WithTimeout(30*time.Second)),
		TargetAPIKey: key,
		Sandbox:      client.New(sb.URL, client.WithCredentials(sb.Username, sb.APIKey)),
		Secrets:      []string{secret}, SandboxAPIKey: sb.APIKey,
		Currency: os.Getenv("VPAY88_REAL_CURRENCY"),
	})
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, rep.WriteTable(&buf))
	t.Log("\n" + buf.String())
	if os.Getenv("VPAY88_REAL_STRICT") == "1" {
		require.True(t, rep.OK(), "the sandbox differs from the real gateway")
	}
}
