package gateway_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/gateway"
)

func TestParsePaid(t *testing.T) {
	for in, want := range map[string]string{"250": "250.0000", "250.5": "250.5000", "90%": "90.0000", "33.3333%": "33.3333", "120%": "120.0000"} {
		p, err := gateway.ParsePaid(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, p.Of(gateway.MustMoney("100")).String(), in)
		assert.Equal(t, in, p.String())
	}
	for _, bad := range []string{"", "0", "-5", "%", "1e3", "90 %x", "1001%", "5.12345"} {
		_, err := gateway.ParsePaid(bad)
		assert.Error(t, err, bad)
	}
}

// TestSettlePaidAmount: the charge is taken from what was paid, the ledger credits it
// minus the charge, and a reversal takes back what was credited.
func TestSettlePaidAmount(t *testing.T) {
	o := gateway.Order{Kind: gateway.KindDeposit, OrderID: "P", Amount: gateway.MustMoney("300"), Currency: "MYR", Status: gateway.StatusPending}
	cur := gateway.Currency{Code: "MYR", DepositChargePercent: gateway.MustMoney("3")}
	p, _ := gateway.ParsePaid("250")
	paid, err := gateway.Settle(o, cur, gateway.Outcome{Kind: gateway.OutcomeCompleted, Paid: &p}, "N")
	require.NoError(t, err)
	assert.Equal(t, gateway.MustMoney("250"), paid.SettledAmount())
	assert.Equal(t, gateway.MustMoney("7.5"), paid.Charge)
	mv, _ := gateway.SettlementMovement(paid)
	assert.Equal(t, gateway.MustMoney("242.5"), mv.Available)
	assert.Contains(t, string(gateway.CallbackBody(&paid, "s")), `"amount":250.0000,`)
	rev, rmv, err := gateway.Reverse(paid, cur, "N", paid.CreatedAt)
	require.NoError(t, err)
	assert.Equal(t, -gateway.MustMoney("242.5"), rmv.Available)
	assert.Equal(t, gateway.MustMoney("300"), rev.SettledAmount(), "a failed deposit reports the ordered amount")
}
