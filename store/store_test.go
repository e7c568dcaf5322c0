package store_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/store"
)

// MustOpenStore opens a store on a fresh file that closes with the test.
func MustOpenStore(tb testing.TB) (*store.Store, string) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "s.db")
	s, err := store.Open(path)
	require.NoError(tb, err)
	tb.Cleanup(func() { s.Close() })
	return s, path
}

func deposit(merchant, id string) *gateway.Order {
	return &gateway.Order{Kind: gateway.KindDeposit, Merchant: merchant, OrderID: id, Amount: gateway.MustMoney("10"),
		Currency: "MYR", Status: gateway.StatusPending, CreatedAt: time.Now()}
}

// TestGroupCommitIsolatesRefusals: writes that share a batch succeed or fail alone; a
// refused duplicate leaves the others committed and the numbers dense.
func TestGroupCommitIsolatesRefusals(t *testing.T) {
	s, path := MustOpenStore(t)
	var wg sync.WaitGroup
	errs := make([]error, 64)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.CreateDeposit(deposit("m", fmt.Sprintf("id-%d", i%32)))
		}()
	}
	wg.Wait()
	ok, dup := 0, 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, store.ErrOrderExists):
			dup++
		default:
			t.Fatalf("unexpected error %v", err)
		}
	}
	assert.Equal(t, 32, ok)
	assert.Equal(t, 32, dup)
	page, err := s.ListOrders(store.OrderFilter{Limit: 500})
	require.NoError(t, err)
	assert.Equal(t, 32, page.Total)
	for i, o := range page.Orders {
		assert.EqualValues(t, 32-i, o.Number, "numbers are dense, newest first")
	}

	// Everything acknowledged is in the file after a close and a reopen.
	require.NoError(t, s.Close())
	s2, err := store.Open(path)
	require.NoError(t, err)
	defer s2.Close()
	for i := 0; i < 32; i++ {
		o, err := s2.Order(gateway.KindDeposit, "m", fmt.Sprintf("id-%d", i))
		require.NoError(t, err)
		got, err := s2.OrderByNumber(o.Number)
		require.NoError(t, err)
		assert.Equal(t, o.OrderID, got.OrderID)
	}
	o := deposit("m", "next")
	require.NoError(t, s2.CreateDeposit(o))
	assert.EqualValues(t, 33, o.Number, "numbering carries on after a restart")
}

// TestKindsAndMerchantsAreSeparateNamespaces: one id per merchant and per kind.
func TestKindsAndMerchantsAreSeparateNamespaces(t *testing.T) {
	s, _ := MustOpenStore(t)
	require.NoError(t, s.EnsureBalances([]store.Balance{{Merchant: "m", Currency: "MYR", Available: gateway.MustMoney("100")}}))
	require.NoError(t, s.CreateDeposit(deposit("m", "X")))
	require.NoError(t, s.CreateDeposit(deposit("n", "X")))
	w := deposit("m", "X")
	w.Kind, w.Reserved = gateway.KindWithdrawal, gateway.MustMoney("15")
	require.NoError(t, s.CreateWithdrawal(w))
	assert.ErrorIs(t, s.CreateDeposit(deposit("m", "X")), store.ErrOrderExists)

	found, err := s.FindOrders(gateway.KindDeposit, "X")
	require.NoError(t, err)
	assert.Len(t, found, 2)
	found, err = s.FindOrders(gateway.KindDeposit, "")
	require.NoError(t, err)
	assert.Empty(t, found, "a prefix of another id is not a match")

	w2 := deposit("m", "Y")
	w2.Kind, w2.Reserved = gateway.KindWithdrawal, gateway.MustMoney("90")
	assert.ErrorIs(t, s.CreateWithdrawal(w2), store.ErrInsufficientBalance)
	_, err = s.Order(gateway.KindWithdrawal, "m", "Y")
	assert.ErrorIs(t, err, store.ErrNotFound, "a refused payout stores nothing")
	bals, err := s.Balances("m")
	require.NoError(t, err)
	require.Len(t, bals, 1)
	assert.Equal(t, gateway.MustMoney("85"), bals[0].Available)
	assert.Equal(t, gateway.MustMoney("15"), bals[0].Reserved)
}

// TestResetOneMerchant deletes that merchant's state only.
func TestResetOneMerchant(t *testing.T) {
	s, _ := MustOpenStore(t)
	opening := []store.Balance{{Merchant: "m", Currency: "MYR", Available: gateway.MustMoney("100")},
		{Merchant: "n", Currency: "MYR", Available: gateway.MustMoney("100")}}
	require.NoError(t, s.EnsureBalances(opening))
	for _, m := range []string{"m", "n"} {
		require.NoError(t, s.CreateDeposit(deposit(m, "A")))
		require.NoError(t, s.PutToken("tok-"+m, m, time.Now().Add(time.Hour)))
		_, _, err := s.Settle(gateway.KindDeposit, m, "A", func(o *gateway.Order) ([]*store.Delivery, error) {
			o.Status = gateway.StatusCompleted
			return []*store.Delivery{{Merchant: m, Kind: o.Kind, OrderID: o.OrderID, URL: "http://127.0.0.1:1/", Body: []byte(`{}`), NextAt: time.Now().Add(time.Hour)}}, nil
		})
		require.NoError(t, err)
	}
	require.NoError(t, s.Reset("m", opening[:1]))

	_, err := s.Order(gateway.KindDeposit, "m", "A")
	assert.ErrorIs(t, err, store.ErrNotFound)
	_, ok := s.TokenMerchant("tok-m")
	assert.False(t, ok)
	dels, _ := s.Deliveries(gateway.KindDeposit, "m", "A")
	assert.Empty(t, dels)
	bals, _ := s.Balances("m")
	assert.Equal(t, gateway.MustMoney("100"), bals[0].Available, "back to the opening balance")

	_, err = s.Order(gateway.KindDeposit, "n", "A")
	assert.NoError(t, err)
	_, ok = s.TokenMerchant("tok-n")
	assert.True(t, ok)
	dels, _ = s.Deliveries(gateway.KindDeposit, "n", "A")
	assert.Len(t, dels, 1)
	bals, _ = s.Balances("n")
	assert.Equal(t, gateway.MustMoney("110"), bals[0].Available, "n's credit stays")
	next, ok, err := s.NextDelivery()
	require.NoError(t, err)
	assert.True(t, ok, "n's queued delivery stays queued")
	assert.True(t, next.After(time.Now()))
}
