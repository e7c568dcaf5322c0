package store

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"github.com/vpay88/vpay88-sandbox/gateway"
)

// bulkOrders stores n deposits of one merchant and currency, each with a ledger
// entry, 2,000 to a transaction (bbolt splits a node only at commit, so one huge
// transaction costs quadratic copying): a busy team's history in seconds.
func bulkOrders(t *testing.T, s *Store, merchant, currency string, n int) {
	t.Helper()
	for from := 0; from < n; from += 2000 {
		bulkChunk(t, s, merchant, currency, from, min(n, from+2000))
	}
}

func bulkChunk(t *testing.T, s *Store, merchant, currency string, from, to int) {
	t.Helper()
	require.NoError(t, s.write(func(tx *bolt.Tx) error {
		for i := from; i < to; i++ {
			o := &gateway.Order{Kind: gateway.KindDeposit, Merchant: merchant, OrderID: fmt.Sprintf("BUSY%07d", i),
				Amount: gateway.MustMoney("1"), Currency: currency, Status: gateway.StatusPending, CreatedAt: time.Now()}
			if err := s.insertOrder(tx, o, nil); err != nil {
				return err
			}
			bal, err := getBalance(tx, merchant, currency)
			if err != nil {
				return err
			}
			if err := s.setBalance(tx, bal, gateway.MustMoney("1"), 0, ReasonDepositCredit, o.Kind, o.OrderID); err != nil {
				return err
			}
		}
		return nil
	}))
}

// pageOrders walks a filter to its end by the cursor each page gives.
func pageOrders(t *testing.T, s *Store, f OrderFilter) (ids []string, total int) {
	t.Helper()
	for pages := 0; pages < 1000; pages++ {
		page, err := s.ListOrders(f)
		require.NoError(t, err)
		total = page.Total
		for _, o := range page.Orders {
			ids = append(ids, o.OrderID)
		}
		if page.Next == 0 {
			return ids, total
		}
		f.Before, f.Offset = page.Next, page.NextOffset
	}
	t.Fatal("no end after 1000 pages")
	return nil, 0
}

// TestListsBehindABusyMerchantAreComplete: a quiet merchant's orders and ledger, a
// currency, an id prefix and a large offset behind more than maxScan newer entries of
// another merchant page to their end (finding 10 of issue 18: they answered [] with
// next null while total said otherwise).
func TestListsBehindABusyMerchantAreComplete(t *testing.T) {
	t.Run("bound 100000", func(t *testing.T) {
		if testing.Short() || raceDetector {
			// No goroutines of its own: -race only makes it take 90 s instead of 6.
			t.Skip("stores 105,000 orders; the 'bound 500' case runs the same paths")
		}
		listsBehindABusyMerchant(t)
	})
	t.Run("bound 500", func(t *testing.T) {
		defer func(n int) { maxScan = n }(maxScan)
		maxScan = 500
		listsBehindABusyMerchant(t)
	})
}

func listsBehindABusyMerchant(t *testing.T) {
	s := mustOpen(t)
	require.NoError(t, s.EnsureBalances([]Balance{{Merchant: "quiet", Currency: "MYR", Available: gateway.MustMoney("10")}}))
	var quiet []string
	for i := 0; i < 5; i++ {
		o := &gateway.Order{Kind: gateway.KindDeposit, Merchant: "quiet", OrderID: fmt.Sprintf("LONE%d", i),
			Amount: gateway.MustMoney("1"), Currency: "MYR", Status: gateway.StatusPending, CreatedAt: time.Now()}
		require.NoError(t, s.CreateDeposit(o))
		quiet = append([]string{o.OrderID}, quiet...)
	}
	bulkOrders(t, s, "busy", "THB", maxScan+5000)

	for _, f := range []OrderFilter{{Currency: "MYR", Limit: 2}, {Prefix: "LONE", Limit: 2}, {Currency: "MYR", Prefix: "LONE", Limit: 50}} {
		ids, total := pageOrders(t, s, f)
		assert.Equal(t, quiet, ids, "%+v", f)
		assert.Equal(t, len(quiet), total, "%+v", f)
	}
	ids, _ := pageOrders(t, s, OrderFilter{Currency: "MYR", Offset: 3, Limit: 50})
	assert.Equal(t, quiet[3:], ids, "an offset behind the bound")

	page, err := s.ListOrders(OrderFilter{Offset: maxScan + 5000 + 2, Limit: 50})
	require.NoError(t, err)
	require.Len(t, page.Orders, 3, "offset 100,000 without a filter steps over the index")
	assert.Equal(t, quiet[2:], []string{page.Orders[0].OrderID, page.Orders[1].OrderID, page.Orders[2].OrderID})
	assert.Zero(t, page.Next)

	var seqs []uint64
	lf := LedgerFilter{Merchant: "quiet", Limit: 10}
	for pages := 0; ; pages++ {
		require.Less(t, pages, 1000)
		lp, err := s.LedgerPage(lf)
		require.NoError(t, err)
		assert.Equal(t, 1, lp.Total)
		for _, e := range lp.Entries {
			seqs = append(seqs, e.Seq)
		}
		if lp.Next == 0 {
			break
		}
		lf.Before, lf.Offset = lp.Next, lp.NextOffset
	}
	assert.Len(t, seqs, 1, "the quiet merchant's opening balance")
}
