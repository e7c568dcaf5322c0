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

// tailState returns the watermark and the last order number given out.
func tailState(t *testing.T, s *Store) (indexed, seq uint64) {
	t.Helper()
	require.NoError(t, s.db.View(func(tx *bolt.Tx) error {
		indexed, seq = indexedUpTo(tx), tx.Bucket(bucketNumbers).Sequence()
		return nil
	}))
	return indexed, seq
}

// TestTailIsListedByTheFirstReader: with the indexer stopped, new orders (settled or
// not, some of them after a part was listed) have no list entries, the store still
// verifies, and the first ListOrders lists them all with the status they have then.
func TestTailIsListedByTheFirstReader(t *testing.T) {
	s := mustOpen(t)
	s.haltIndexer()
	fillOrders(t, s, 24)
	mustClean(t, s)
	indexed, seq := tailState(t, s)
	require.Zero(t, indexed, "nothing is listed until a reader or the indexer comes")
	require.EqualValues(t, 24, seq)

	page, err := s.ListOrders(OrderFilter{Limit: 100})
	require.NoError(t, err)
	assert.Equal(t, 24, page.Total)
	indexed, _ = tailState(t, s)
	assert.EqualValues(t, 24, indexed)
	mustClean(t, s)

	// A listed order and a tail order both settle; the reader sees each once, under
	// its new status.
	var all []*gateway.Order // 30 more deposits, numbered 25..54
	for i := range 30 {
		o := &gateway.Order{Kind: gateway.KindDeposit, Merchant: []string{"m1", "m2"}[i%2], OrderID: fmt.Sprintf("T-%d", i),
			Amount: gateway.MustMoney("1"), Currency: "MYR", Status: gateway.StatusPending, CreatedAt: time.Now()}
		require.NoError(t, s.CreateDeposit(o))
		all = append(all, o)
	}
	mustClean(t, s)
	listedOne, err := s.Order(gateway.KindDeposit, "m1", "INV/1/004")
	require.NoError(t, err)
	all = append(all, listedOne)
	for _, o := range []*gateway.Order{listedOne, all[0]} {
		_, _, err := s.Settle(o.Kind, o.Merchant, o.OrderID, func(o *gateway.Order) ([]*Delivery, error) {
			if o.Settled() {
				return nil, ErrAlreadySettled
			}
			o.Status = gateway.StatusFail
			return nil, nil
		})
		if err != nil {
			require.ErrorIs(t, err, ErrAlreadySettled)
		}
	}
	mustClean(t, s)
	want := map[gateway.Status]int{}
	require.NoError(t, s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketNumbers).ForEach(func(k, v []byte) error {
			o, err := decodeOrder(v)
			if err == nil {
				want[o.Status]++
			}
			return err
		})
	}))
	require.Equal(t, gateway.StatusFail, mustOrder(t, s, all[0]).Status)
	require.Equal(t, gateway.StatusFail, mustOrder(t, s, listedOne).Status)
	for st, n := range want {
		page, err := s.ListOrders(OrderFilter{Status: st, Limit: 500})
		require.NoError(t, err)
		assert.Equal(t, n, page.Total, "status %s", st)
		assert.Len(t, page.Orders, n, "status %s", st)
	}
	mustClean(t, s)
}

// TestTailOfADeletedMerchant: resetting a merchant while some of its orders are in the
// tail deletes them too, and leaves the other merchant's tail to be listed.
func TestTailOfADeletedMerchant(t *testing.T) {
	s := mustOpen(t)
	s.haltIndexer()
	fillOrders(t, s, 20)
	require.NoError(t, s.Reset("m1", nil))
	mustClean(t, s)
	for _, m := range []string{"m1", "m2"} {
		page, err := s.ListOrders(OrderFilter{Merchant: m, Limit: 100})
		require.NoError(t, err)
		if m == "m1" {
			assert.Zero(t, page.Total)
		} else {
			assert.Equal(t, 10, page.Total)
		}
	}
	mustClean(t, s)
}

// TestIndexerListsTheTail: the background indexer lists new orders by itself, soon.
func TestIndexerListsTheTail(t *testing.T) {
	s := mustOpen(t)
	fillOrders(t, s, 5)
	require.Eventually(t, func() bool {
		indexed, seq := tailState(t, s)
		return indexed == seq
	}, 10*time.Second, time.Millisecond)
	mustClean(t, s)
}

// TestOpenMigratesLayout2: a version 2 file (every order listed, no watermark) gets the
// watermark at its last order, with nothing rebuilt, and verifies.
func TestOpenMigratesLayout2(t *testing.T) {
	s := mustOpen(t)
	fillOrders(t, s, 12)
	_, err := s.ListOrders(OrderFilter{})
	require.NoError(t, err)
	path := s.db.Path()
	require.NoError(t, s.db.Update(func(tx *bolt.Tx) error {
		m := tx.Bucket(bucketMeta)
		if err := m.Delete(keyIndexed); err != nil {
			return err
		}
		return m.Put(keyLayout, u64(2))
	}))
	require.NoError(t, s.Close())
	s2, err := Open(path, WithoutSync())
	require.NoError(t, err)
	defer s2.Close()
	indexed, seq := tailState(t, s2)
	assert.EqualValues(t, 12, seq)
	assert.Equal(t, seq, indexed)
	mustClean(t, s2)
	page, err := s2.ListOrders(OrderFilter{Limit: 100})
	require.NoError(t, err)
	assert.Equal(t, 12, page.Total)
}

func mustOrder(t *testing.T, s *Store, o *gateway.Order) *gateway.Order {
	t.Helper()
	got, err := s.Order(o.Kind, o.Merchant, o.OrderID)
	require.NoError(t, err)
	return got
}
