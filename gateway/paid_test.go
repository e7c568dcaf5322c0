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

// FuzzParsePaid: whatever a form sends as paid_amount is refused or read back to an
// amount of at most four places that the spec writes out again.
func FuzzParsePaid(f *testing.F) {
	for _, s := range []string{"250", "90%", "0.0001", "1000%", "1e3", "-1", "%", " 5 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := gateway.ParsePaid(s)
		if err != nil {
			return
		}
		again, err := gateway.ParsePaid(p.String())
		require.NoError(t, err, "%q -> %q", s, p.String())
		assert.Equal(t, p, again)
		assert.Positive(t, int64(p.Of(gateway.MustMoney("100"))), "a positive amount paid")
	})
}

// FuzzCheckDialect: any overrides are accepted or refused with an error, never a panic,
// and accepted ones resolve to values of the table.
func FuzzCheckDialect(f *testing.F) {
	f.Add("callback_amount", "string")
	f.Add("payout_callback_url", "http://127.0.0.1/cb")
	f.Add("nope", "\xff")
	f.Fuzz(func(t *testing.T, k, v string) {
		o := map[string]string{k: v}
		if gateway.CheckDialect(o) != nil {
			return
		}
		d := gateway.ResolveDialect(gateway.ProfileDocument, o, "")
		assert.Equal(t, v, d.Get(gateway.Switch(k)))
	})
}
