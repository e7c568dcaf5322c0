package store

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"github.com/vpay88/vpay88-sandbox/gateway"
)

// fillOrders makes n orders over two merchants, two kinds, two currencies and every
// status, and returns them newest first.
func fillOrders(t *testing.T, s *Store, n int) []*gateway.Order {
	t.Helper()
	require.NoError(t, s.EnsureBalances([]Balance{
		{Merchant: "m1", Currency: "MYR", Available: gateway.MustMoney("100000")},
		{Merchant: "m2", Currency: "MYR", Available: gateway.MustMoney("100000")},
		{Merchant: "m1", Currency: "THB", Available: gateway.MustMoney("100000")},
		{Merchant: "m2", Currency: "THB", Available: gateway.MustMoney("100000")},
	}))
	statuses := []gateway.Status{gateway.StatusPending, gateway.StatusCompleted, gateway.StatusFail, gateway.StatusRejected}
	for i := 0; i < n; i++ {
		m := []string{"m1", "m2"}[i%2]
		cur := []string{"MYR", "THB"}[i/2%2]
		id := fmt.Sprintf("INV/%d/%03d", i%3, i)
		var o *gateway.Order
		if i%3 == 0 {
			o = withdrawal(m, id, "1", "0")
			o.Currency = cur
			require.NoError(t, s.CreateWithdrawal(o))
		} else {
			o = &gateway.Order{Kind: gateway.KindDeposit, Merchant: m, OrderID: id, Amount: gateway.MustMoney("1"),
				Currency: cur, Status: gateway.StatusPending, CreatedAt: time.Now()}
			require.NoError(t, s.CreateDeposit(o))
		}
		st := statuses[i%4]
		if st == gateway.StatusRejected && o.Kind == gateway.KindDeposit {
			st = gateway.StatusFail
		}
		if st != gateway.StatusPending {
			_, _, err := s.Settle(o.Kind, m, id, func(o *gateway.Order) ([]*Delivery, error) {
				o.Status = st
				return []*Delivery{{Merchant: m, Kind: o.Kind, OrderID: id, URL: "http://127.0.0.1:1/",
					State: []string{DeliveryPending, DeliveryDelivered, DeliveryFailed}[i%3]}}, nil
			})
			require.NoError(t, err)
		}
	}
	var all []*gateway.Order
	require.NoError(t, s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketNumbers).ForEach(func(k, v []byte) error {
			o, err := decodeOrder(v)
			all = append(all, o)
			return err
		})
	}))
	slices.Reverse(all)
	return all
}

// TestListOrdersMatchesAFullScan compares every page of the indexed list, walked by
// cursor and by offset, with a filter over all orders.
func TestListOrdersMatchesAFullScan(t *testing.T) {
	s := mustOpen(t)
	all := fillOrders(t, s, 150)
	mustClean(t, s)
	filters := []OrderFilter{
		{}, {Kind: gateway.KindDeposit}, {Status: gateway.StatusCompleted}, {Merchant: "m2"},
		{Kind: gateway.KindWithdrawal, Status: gateway.StatusRejected, Merchant: "m1"},
		{Currency: "THB"}, {Prefix: "INV/1/"}, {Prefix: "INV/2/", Merchant: "m1", Status: gateway.StatusPending},
		{Merchant: "nobody"},
	}
	for _, f := range filters {
		t.Run(fmt.Sprintf("%+v", f), func(t *testing.T) {
			var want []uint64
			for _, o := range all {
				if (f.Kind == "" || o.Kind == f.Kind) && (f.Status == "" || o.Status == f.Status) &&
					(f.Merchant == "" || o.Merchant == f.Merchant) && (f.Currency == "" || o.Currency == f.Currency) &&
					strings.HasPrefix(o.OrderID, f.Prefix) {
					want = append(want, o.Number)
				}
			}
			var byCursor, byOffset []uint64
			f.Limit = 7
			for pages := 0; pages < 100; pages++ {
				page, err := s.ListOrders(f)
				require.NoError(t, err)
				assert.Equal(t, len(want), page.Total)
				for _, o := range page.Orders {
					byCursor = append(byCursor, o.Number)
				}
				if page.Next == 0 {
					break
				}
				f.Before = page.Next
			}
			f.Before = 0
			for f.Offset = 0; f.Offset < len(want)+7; f.Offset += 7 {
				page, err := s.ListOrders(f)
				require.NoError(t, err)
				for _, o := range page.Orders {
					byOffset = append(byOffset, o.Number)
				}
			}
			assert.Equal(t, want, byCursor)
			assert.Equal(t, want, byOffset)
		})
	}
}

func TestListDeliveriesMatchesAFullScan(t *testing.T) {
	s := mustOpen(t)
	fillOrders(t, s, 90)
	var all []*Delivery
	require.NoError(t, s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketOutbox).ForEach(func(k, v []byte) error {
			d, err := decodeDelivery(v)
			all = append(all, d)
			return err
		})
	}))
	slices.Reverse(all)
	for _, f := range []DeliveryFilter{{}, {State: DeliveryFailed}, {Merchant: "m1"}, {Merchant: "m2", State: DeliveryPending}} {
		var want, got []uint64
		for _, d := range all {
			if (f.Merchant == "" || d.Merchant == f.Merchant) && (f.State == "" || d.State == f.State) {
				want = append(want, d.ID)
			}
		}
		f.Limit = 4
		for pages := 0; pages < 100; pages++ {
			page, err := s.ListDeliveries(f)
			require.NoError(t, err)
			assert.Equal(t, len(want), page.Total)
			for _, d := range page.Deliveries {
				got = append(got, d.ID)
			}
			if page.Next == 0 {
				break
			}
			f.Before = page.Next
		}
		assert.Equal(t, want, got, "%+v", f)
	}
}

func TestLedgerPage(t *testing.T) {
	s := mustOpen(t)
	fillOrders(t, s, 40)
	all, err := s.Ledger("m1")
	require.NoError(t, err)
	var want []uint64
	for i := len(all) - 1; i >= 0; i-- {
		if all[i].Currency == "THB" {
			want = append(want, all[i].Seq)
		}
	}
	var got []uint64
	f := LedgerFilter{Merchant: "m1", Currency: "THB", Limit: 3}
	for pages := 0; pages < 100; pages++ {
		page, err := s.LedgerPage(f)
		require.NoError(t, err)
		assert.Equal(t, len(want), page.Total)
		for _, e := range page.Entries {
			got = append(got, e.Seq)
		}
		if page.Next == 0 {
			break
		}
		f.Before = page.Next
	}
	assert.Equal(t, want, got)
}

// TestOpenBuildsIndexesOfAnOlderFile: a file written before the list indexes existed
// gets them at start-up.
func TestOpenBuildsIndexesOfAnOlderFile(t *testing.T) {
	s := mustOpen(t)
	all := fillOrders(t, s, 30)
	path := s.db.Path()
	require.NoError(t, s.db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketOrderList, bucketDeliveryList, bucketCounts, bucketMeta} {
			if err := tx.DeleteBucket(b); err != nil {
				return err
			}
		}
		return nil
	}))
	require.NoError(t, s.Close())
	s2, err := Open(path)
	require.NoError(t, err)
	defer s2.Close()
	mustClean(t, s2)
	page, err := s2.ListOrders(OrderFilter{Limit: 500})
	require.NoError(t, err)
	assert.Equal(t, len(all), page.Total)
}

// TestResetMerchantKeepsTheOthers: a reset of one merchant deletes its orders,
// callbacks, ledger and counters and leaves the other merchant's whole.
func TestResetMerchantKeepsTheOthers(t *testing.T) {
	s := mustOpen(t)
	fillOrders(t, s, 40)
	before, err := s.ListOrders(OrderFilter{Merchant: "m2"})
	require.NoError(t, err)
	require.NoError(t, s.Reset("m1", []Balance{{Merchant: "m1", Currency: "MYR", Available: gateway.MustMoney("5")}}))
	mustClean(t, s)
	page, err := s.ListOrders(OrderFilter{})
	require.NoError(t, err)
	assert.Equal(t, before.Total, page.Total)
	dels, err := s.ListDeliveries(DeliveryFilter{Merchant: "m1"})
	require.NoError(t, err)
	assert.Zero(t, dels.Total)
}
