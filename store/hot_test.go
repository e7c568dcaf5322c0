package store

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"github.com/vpay88/vpay88-sandbox/gateway"
)

// openHeld opens an ephemeral store whose open transaction is committed only by a
// write of the group commit, a full batch or Close, never by its timer (nor by the
// indexer's write, which Open starts for a tail a file may have).
func openHeld(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(path, Ephemeral())
	require.NoError(t, err)
	s.hot.delay = time.Hour
	s.haltIndexer()
	t.Cleanup(func() { s.Close() })
	return s
}

func hotHolds(s *Store) int {
	s.hot.mu.Lock()
	defer s.hot.mu.Unlock()
	return len(s.hot.applies)
}

func deposit(m, id string) *gateway.Order {
	return &gateway.Order{Kind: gateway.KindDeposit, Merchant: m, OrderID: id, Amount: gateway.MustMoney("10"),
		Currency: "MYR", Status: gateway.StatusPending, CreatedAt: time.Now()}
}

// TestHotWritesAreReadAtOnce: orders acknowledged into the open transaction are read,
// listed and verified before any commit.
func TestHotWritesAreReadAtOnce(t *testing.T) {
	s := openHeld(t, filepath.Join(t.TempDir(), "s.db"))
	for i := range 3 {
		o := deposit("m1", fmt.Sprintf("D-%d", i))
		require.NoError(t, s.CreateDeposit(o))
		assert.EqualValues(t, i+1, o.Number, "the caller gets its number")
	}
	require.Equal(t, 3, hotHolds(s), "nothing committed yet")
	head, err := s.OrderHead(gateway.KindDeposit, "m1", "D-2")
	require.NoError(t, err)
	require.NotNil(t, head)
	page, err := s.ListOrders(OrderFilter{})
	require.NoError(t, err)
	assert.Equal(t, 3, page.Total)
	mustClean(t, s)

	err = s.CreateDeposit(deposit("m1", "D-1"))
	assert.Equal(t, ErrOrderExists, err, "a refusal is the plain error")
	assert.Equal(t, 3, hotHolds(s), "a refusal before any change keeps the transaction")
}

// TestHotFailureReplaysTheOthers: a write that fails after changing the open
// transaction takes nothing with it: the acknowledged orders before it are still
// there, with their numbers, and what it wrote is gone.
func TestHotFailureReplaysTheOthers(t *testing.T) {
	s := openHeld(t, filepath.Join(t.TempDir(), "s.db"))
	for i := range 5 {
		require.NoError(t, s.CreateDeposit(deposit("m1", fmt.Sprintf("D-%d", i))))
	}
	failing := []hotApply{
		func(tx *bolt.Tx, _ bool) error {
			if err := tx.Bucket(bucketMeta).Put([]byte("stray"), []byte("x")); err != nil {
				return err
			}
			return errors.New("failed after a write")
		},
		func(tx *bolt.Tx, _ bool) error {
			if err := tx.Bucket(bucketMeta).Put([]byte("stray"), []byte("x")); err != nil {
				return err
			}
			panic("after a write")
		},
	}
	for _, apply := range failing {
		require.Error(t, s.writeHot(apply))
	}
	assert.Equal(t, 5, hotHolds(s))
	require.NoError(t, s.CreateDeposit(deposit("m1", "D-5")))
	for i := range 6 {
		o, err := s.Order(gateway.KindDeposit, "m1", fmt.Sprintf("D-%d", i))
		require.NoError(t, err)
		require.NotNil(t, o)
		assert.EqualValues(t, i+1, o.Number)
	}
	v, err := s.meta([]byte("stray"))
	require.NoError(t, err)
	assert.Nil(t, v, "the failed writes left nothing")
	mustClean(t, s)
}

// TestHotCommitsBeforeOtherWrites: a write of the group commit (a settlement) sees the
// open transaction's orders and commits them first; Close commits the rest, and a
// store opened on the file afterwards has them all.
func TestHotCommitsBeforeOtherWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	s := openHeld(t, path)
	require.NoError(t, s.CreateDeposit(deposit("m1", "A")))
	_, _, err := s.Settle(gateway.KindDeposit, "m1", "A", func(o *gateway.Order) ([]*Delivery, error) {
		o.Status = gateway.StatusCompleted
		return nil, nil
	})
	require.NoError(t, err)
	assert.Zero(t, hotHolds(s), "the settlement committed the open transaction")
	require.NoError(t, s.CreateDeposit(deposit("m1", "B")))
	require.NoError(t, s.Close())

	s2, err := Open(path, WithoutSync())
	require.NoError(t, err)
	defer s2.Close()
	a, err := s2.Order(gateway.KindDeposit, "m1", "A")
	require.NoError(t, err)
	assert.Equal(t, gateway.StatusCompleted, a.Status)
	b, err := s2.Order(gateway.KindDeposit, "m1", "B")
	require.NoError(t, err)
	require.NotNil(t, b)
	mustClean(t, s2)
	require.ErrorIs(t, s.CreateDeposit(deposit("m1", "C")), ErrClosed)
}

// TestHotBatchBound: the open transaction commits by itself at hotMax writes.
func TestHotBatchBound(t *testing.T) {
	s := openHeld(t, filepath.Join(t.TempDir(), "s.db"))
	for i := range hotMax + 3 {
		require.NoError(t, s.CreateDeposit(deposit("m1", fmt.Sprintf("D-%d", i))))
	}
	assert.Equal(t, 3, hotHolds(s))
	mustClean(t, s)
}
