package store

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/gateway"
)

// TestOrderHead: a head carries what a status check reads, equal to the whole order's.
func TestOrderHead(t *testing.T) {
	s := mustOpen(t)
	o := &gateway.Order{Kind: gateway.KindDeposit, Merchant: "m1", OrderID: "H-1", Amount: gateway.MustMoney("12.3456"),
		Currency: "THB", Status: gateway.StatusPending, Customer: "john", Email: "j@example.com", BankID: "3",
		CreatedAt: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	require.NoError(t, s.CreateDeposit(o))
	h, err := s.OrderHead(gateway.KindDeposit, "m1", "H-1")
	require.NoError(t, err)
	assert.Equal(t, &gateway.Order{Kind: o.Kind, Merchant: o.Merchant, OrderID: o.OrderID, Amount: o.Amount, Currency: o.Currency,
		Status: o.Status, Customer: o.Customer, CreatedAt: o.CreatedAt}, h)
	found, err := s.FindOrderHeads(gateway.KindDeposit, "H-1")
	require.NoError(t, err)
	assert.Equal(t, []*gateway.Order{h}, found)
	_, err = s.OrderHead(gateway.KindDeposit, "m2", "H-1")
	assert.ErrorIs(t, err, ErrNotFound)
}
