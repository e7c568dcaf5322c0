package client_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/client"
)

// liveClient returns a client for the real gateway named by VPAY88_REAL_BASE_URL,
// VPAY88_REAL_USERNAME and VPAY88_REAL_API_KEY, or skips the test when they are not
// all set: CI has no real credentials, a developer with a Vpay88 test account does.
func liveClient(t *testing.T) *client.Client {
	t.Helper()
	base, user, key := os.Getenv("VPAY88_REAL_BASE_URL"), os.Getenv("VPAY88_REAL_USERNAME"), os.Getenv("VPAY88_REAL_API_KEY")
	if base == "" || user == "" || key == "" {
		t.Skip("set VPAY88_REAL_BASE_URL, VPAY88_REAL_USERNAME and VPAY88_REAL_API_KEY to run against the real gateway")
	}
	return client.New(base, client.WithCredentials(user, key), client.WithTimeout(30*time.Second))
}

// TestLive_ReadOnly calls only endpoints that create nothing on the real gateway.
func TestLive_ReadOnly(t *testing.T) {
	c := liveClient(t)
	ctx := context.Background()

	cur, err := c.Currency(ctx)
	require.NoError(t, err)
	assert.NotEmpty(t, cur.Rates)
	t.Logf("currency: %s", cur.Raw.Body)

	a, err := c.Auth(ctx)
	require.NoError(t, err)
	assert.NotEmpty(t, a.Auth)

	banks, err := c.WithdrawBankList(ctx, "")
	require.NoError(t, err)
	t.Logf("withdraw_bank_list: %d banks", len(banks.Banks))

	_, err = c.CheckStatus(ctx, "vpay88-go-client-live-test-unknown")
	var ae *client.APIError
	if errors.As(err, &ae) {
		t.Logf("check_status of an unknown order: %q (sandbox guesses %q)", ae.Message, "Order not found.")
	} else {
		t.Logf("check_status of an unknown order: err %v", err)
	}

	bad := client.New(c.BaseURL(), client.WithCredentials(c.Username(), "vpay88-go-client-wrong-key"))
	_, err = bad.Auth(ctx)
	assert.ErrorIs(t, err, client.ErrParamsIncorrect)
}
