package store

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/gateway"
)

// A merchant's reset writes its opening balances in the same transaction that deletes
// the old ones: a reader (a balance query, a payout's reservation) never sees the
// merchant with no balance. Before, the opening balances came in a second commit, and
// a payout in between was refused as short.
func TestResetNeverShowsAMerchantWithoutBalances(t *testing.T) {
	s, name := mustOpen(t), "group commit"
	opening := []Balance{{Merchant: "m", Currency: "MYR", Available: gateway.MustMoney("500")}, {Merchant: "m", Currency: "THB", Available: gateway.MustMoney("7")}}
	require.NoError(t, s.EnsureBalances(opening), name)

	var stop atomic.Bool
	var wg sync.WaitGroup
	var seen, bad atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !stop.Load() {
			bals, err := s.Balances("m")
			if !assert.NoError(t, err) {
				return
			}
			seen.Add(1)
			if len(bals) != 2 {
				bad.Add(1)
			}
		}
	}()
	for i := range 300 {
		require.NoError(t, s.CreateDeposit(deposit("m", "r"+string(rune('a'+i%26)))), name)
		require.NoError(t, s.Reset("m", opening), name)
	}
	stop.Store(true)
	wg.Wait()
	assert.Positive(t, seen.Load(), name)
	assert.Zero(t, bad.Load(), "%s: reads that saw the merchant without its two balances", name)
	mustClean(t, s)
}
