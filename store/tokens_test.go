package store

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/clock"
)

// TestTokenCacheForgetsDeletedTokens: a token read once (so cached) is refused after a
// merchant reset, a full reset and a purge of expired tokens, and by the clock when
// it expires, exactly as the stored records say.
func TestTokenCacheForgetsDeletedTokens(t *testing.T) {
	s := mustOpen(t)
	now := time.Now()
	require.NoError(t, s.PutToken("t1", "m1", now.Add(time.Hour)))
	require.NoError(t, s.PutToken("t2", "m2", now.Add(time.Hour)))
	for _, tok := range []string{"t1", "t2"} {
		_, ok := s.TokenMerchant(tok)
		require.True(t, ok)
	}
	require.NoError(t, s.Reset("m1", nil))
	_, ok := s.TokenMerchant("t1")
	assert.False(t, ok, "reset of its merchant")
	m, ok := s.TokenMerchant("t2")
	assert.True(t, ok)
	assert.Equal(t, "m2", m)
	require.NoError(t, s.Reset("", nil))
	_, ok = s.TokenMerchant("t2")
	assert.False(t, ok, "full reset")
}

func TestTokenCacheFollowsTheClock(t *testing.T) {
	clk := clock.Real()
	s, err := Open(t.TempDir()+"/s.db", WithoutSync(), WithClock(clk))
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, s.PutToken("t", "m", s.Now().Add(time.Minute)))
	_, ok := s.TokenMerchant("t")
	require.True(t, ok)
	require.NoError(t, clk.Restore(clock.State{Offset: 2 * time.Minute}))
	_, ok = s.TokenMerchant("t")
	assert.False(t, ok, "expired by the sandbox clock")
	n, err := s.PurgeExpiredTokens()
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	require.NoError(t, clk.Restore(clock.State{}))
	_, ok = s.TokenMerchant("t")
	assert.False(t, ok, "purged, not only expired")
}
