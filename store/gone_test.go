package store

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/gateway"
)

// A write that reaches the store after its run-time merchant was deleted (the request
// found the merchant before) is refused, leaving nothing: no order, no token. Made
// again under the same username, the merchant starts clean and writes again; a
// configured merchant, never in the merchants bucket, is not concerned.
func TestWritesForADeletedMerchantAreRefused(t *testing.T) {
	s, name := mustOpenDurable(t), "durable"
	m := gateway.Merchant{Username: "rt1", APIKey: "k", SecretKey: "s",
		Currencies: []gateway.Currency{{Code: "MYR", StartBalance: gateway.MustMoney("1000")}}}
	require.NoError(t, s.PutMerchant(m), name)
	require.NoError(t, s.CreateDeposit(deposit("rt1", "before")), name)
	require.NoError(t, s.DeleteMerchant("rt1"), name)

	assert.ErrorIs(t, s.CreateDeposit(deposit("rt1", "in flight")), ErrMerchantGone, name)
	p := deposit("rt1", "payout in flight")
	p.Kind, p.Reserved = gateway.KindWithdrawal, gateway.MustMoney("10")
	assert.ErrorIs(t, s.CreateWithdrawal(p), ErrMerchantGone, name)
	assert.ErrorIs(t, s.PutToken("tok-in-flight", "rt1", time.Now().Add(time.Hour)), ErrMerchantGone, name)
	_, live := s.TokenMerchant("tok-in-flight")
	assert.False(t, live, name)
	for _, id := range []string{"before", "in flight"} {
		_, err := s.Order(gateway.KindDeposit, "rt1", id)
		assert.ErrorIs(t, err, ErrNotFound, "%s: %s", name, id)
	}
	mustClean(t, s)

	require.NoError(t, s.PutMerchant(m), name)
	require.NoError(t, s.CreateDeposit(deposit("rt1", "in flight")), "%s: the name made again writes again", name)
	require.NoError(t, s.PutToken("tok-again", "rt1", time.Now().Add(time.Hour)), name)
	require.NoError(t, s.CreateDeposit(deposit("configured", "x")), name)
	mustClean(t, s)
}
