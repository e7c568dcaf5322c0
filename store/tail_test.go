package store

import (
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"github.com/vpay88/vpay88-sandbox/gateway"
)

// layout3File copies testdata/layout3.bolt.gz into a file of the test's. It was written
// by the store of commit 1e0f546 (layout 3): orders FIX-00 to FIX-51, numbered 1 to 52,
// m2's in THB (every third from FIX-02), the others m1's in MYR; every fifth from
// FIX-04 a withdrawal; FIX-01, 05, … 37 completed and FIX-41, 45, 49 failed, each with
// a pending callback; the first 40 listed, the last 12 left above the watermark (the
// tail its indexer had not listed when the process stopped).
func layout3File(t *testing.T) string {
	t.Helper()
	f, err := os.Open("testdata/layout3.bolt.gz")
	require.NoError(t, err)
	defer f.Close()
	zr, err := gzip.NewReader(f)
	require.NoError(t, err)
	b, err := io.ReadAll(zr)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "old.db")
	require.NoError(t, os.WriteFile(path, b, 0o600))
	return path
}

// layout3Want is what the fixture holds, newest first, by filter.
func layout3Want(match func(i int, merchant string, kind gateway.Kind, status gateway.Status) bool) []string {
	var ids []string
	for i := 51; i >= 0; i-- {
		m, kind, status := "m1", gateway.KindDeposit, gateway.StatusPending
		if i%3 == 2 {
			m = "m2"
		}
		if i%5 == 4 {
			kind = gateway.KindWithdrawal
		}
		if i%4 == 1 {
			status = gateway.StatusCompleted
			if i >= 40 {
				status = gateway.StatusFail
			}
		}
		if match(i, m, kind, status) {
			ids = append(ids, fmt.Sprintf("FIX-%02d", i))
		}
	}
	return ids
}

// TestOpenListsALayout3File: a file written by the store before orders were listed in
// their own transaction opens, gets its tail listed once at Open, verifies, and every
// list filter pages through exactly its orders; the next Open has nothing to do.
func TestOpenListsALayout3File(t *testing.T) {
	path := layout3File(t)
	s, err := Open(path, WithoutSync())
	require.NoError(t, err)
	mustClean(t, s)
	require.NoError(t, s.db.View(func(tx *bolt.Tx) error {
		assert.EqualValues(t, layoutVersion, beU64(tx.Bucket(bucketMeta).Get(keyLayout)))
		assert.Nil(t, tx.Bucket(bucketMeta).Get(keyIndexed), "the watermark is gone")
		return nil
	}))
	cases := []struct {
		f     OrderFilter
		match func(i int, m string, k gateway.Kind, st gateway.Status) bool
	}{
		{OrderFilter{}, func(int, string, gateway.Kind, gateway.Status) bool { return true }},
		{OrderFilter{Merchant: "m2"}, func(_ int, m string, _ gateway.Kind, _ gateway.Status) bool { return m == "m2" }},
		{OrderFilter{Status: gateway.StatusFail}, func(_ int, _ string, _ gateway.Kind, st gateway.Status) bool { return st == gateway.StatusFail }},
		{OrderFilter{Kind: gateway.KindWithdrawal, Status: gateway.StatusPending}, func(_ int, _ string, k gateway.Kind, st gateway.Status) bool {
			return k == gateway.KindWithdrawal && st == gateway.StatusPending
		}},
		{OrderFilter{Currency: "THB"}, func(_ int, m string, _ gateway.Kind, _ gateway.Status) bool { return m == "m2" }},
		{OrderFilter{Prefix: "FIX-4"}, func(i int, _ string, _ gateway.Kind, _ gateway.Status) bool { return i >= 40 && i < 50 }},
	}
	for _, c := range cases {
		want := layout3Want(c.match)
		f := c.f
		f.Limit = 5
		got, total := pageOrders(t, s, f)
		assert.Equal(t, want, got, "%+v", c.f)
		assert.Equal(t, len(want), total, "%+v", c.f)
	}
	dels, err := s.ListDeliveries(DeliveryFilter{Merchant: "m1"})
	require.NoError(t, err)
	assert.Equal(t, len(layout3Want(func(_ int, m string, _ gateway.Kind, st gateway.Status) bool {
		return m == "m1" && st != gateway.StatusPending
	})), dels.Total)
	ledger, err := s.LedgerPage(LedgerFilter{Merchant: "m2", Currency: "THB", Limit: 500})
	require.NoError(t, err)
	assert.Len(t, ledger.Entries, ledger.Total)
	assert.Positive(t, ledger.Total)

	// New orders go on from the old numbers and are listed at once.
	o := deposit("m1", "NEW")
	require.NoError(t, s.CreateDeposit(o))
	assert.EqualValues(t, 53, o.Number)
	page, err := s.ListOrders(OrderFilter{Limit: 1})
	require.NoError(t, err)
	require.Len(t, page.Orders, 1)
	assert.Equal(t, "NEW", page.Orders[0].OrderID)
	require.NoError(t, s.Close())

	before := fileTxid(t, path)
	s, err = Open(path, WithoutSync())
	require.NoError(t, err)
	mustClean(t, s)
	require.NoError(t, s.Close())
	assert.Equal(t, before, fileTxid(t, path), "a current file opens without a write")
}

// fileTxid is the last transaction committed to the file at path.
func fileTxid(t *testing.T, path string) int {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	require.NoError(t, err)
	defer db.Close()
	return txid(db)
}

// TestNoReadWrites: a new order is listed by the commit that stores it; reading the
// lists commits nothing.
func TestNoReadWrites(t *testing.T) {
	s := mustOpen(t)
	fillOrders(t, s, 12)
	before := txid(s.db)
	for _, f := range []OrderFilter{{}, {Merchant: "m1"}, {Currency: "THB"}, {Prefix: "INV/1"}} {
		page, err := s.ListOrders(f)
		require.NoError(t, err)
		assert.Positive(t, page.Total)
	}
	_, err := s.LedgerPage(LedgerFilter{Merchant: "m2"})
	require.NoError(t, err)
	assert.Equal(t, before, txid(s.db), "no list read committed")
	mustClean(t, s)
}

// TestOpenMigratesLayout2: a version 2 file (every order listed, no watermark) gets
// the current layout with nothing rebuilt, and verifies.
func TestOpenMigratesLayout2(t *testing.T) {
	s := mustOpen(t)
	fillOrders(t, s, 12)
	path := s.db.Path()
	require.NoError(t, s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keyLayout, u64(2)) }))
	require.NoError(t, s.Close())
	s2, err := Open(path, WithoutSync())
	require.NoError(t, err)
	defer s2.Close()
	mustClean(t, s2)
	page, err := s2.ListOrders(OrderFilter{Limit: 100})
	require.NoError(t, err)
	assert.Equal(t, 12, page.Total)
	assert.Len(t, page.Orders, 12)
}
