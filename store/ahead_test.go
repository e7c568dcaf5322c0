package store

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
)

// A durable store keeps written zeros ahead of bbolt's high-water mark, never behind
// it: every order survives, bbolt's own check passes, and between commits the range
// zeroed ahead is still all zeros (no page of bbolt's was overwritten, and bbolt wrote
// none there yet).
func TestZerosAheadOfTheHighWaterMark(t *testing.T) {
	if !zeroAheadSupported {
		t.Skip("zeros are written ahead on Linux only")
	}
	path := filepath.Join(t.TempDir(), "s.db")
	s, err := Open(path)
	require.NoError(t, err)

	zeroing := false
	check := func() {
		t.Helper()
		s.wmu.Lock() // no commit runs: the high-water mark holds still
		defer s.wmu.Unlock()
		var hw int64
		require.NoError(t, s.db.View(func(tx *bolt.Tx) error { hw = tx.Size(); return nil }))
		require.False(t, s.zeroFailed)
		if hw < zeroFrom {
			require.Zero(t, s.zeroedTo, "a small file is not zeroed ahead")
			return
		}
		zeroing = true
		require.GreaterOrEqual(t, s.zeroedTo-hw, int64(zeroLow), "zeros ahead of %d", hw)
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		require.GreaterOrEqual(t, int64(len(b)), s.zeroedTo)
		require.True(t, bytes.Equal(b[hw:s.zeroedTo], make([]byte, s.zeroedTo-hw)), "the range zeroed ahead holds data")
	}

	const rounds, writers, each = 5, 16, 40
	for r := range rounds {
		var wg sync.WaitGroup
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					assert.NoError(t, s.CreateDeposit(deposit("m", fmt.Sprintf("r%d-w%d-%d", r, w, i))))
				}
			}()
		}
		wg.Wait()
		check()
	}
	require.True(t, zeroing, "the file grew past zeroFrom")
	mustClean(t, s)
	require.NoError(t, s.db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return err
		}
		return nil
	}))
	zeroedBefore := s.zeroedTo
	require.NoError(t, s.Close())

	s, err = Open(path)
	require.NoError(t, err)
	defer s.Close()
	mustClean(t, s)
	var n int
	require.NoError(t, s.view(func(tx *bolt.Tx) error { n = tx.Bucket(bucketOrders).Stats().KeyN; return nil }))
	assert.Equal(t, rounds*writers*each, n)
	// The next run finds the zeros written ahead (data, not a hole) and does not
	// write them again.
	require.NoError(t, s.CreateDeposit(deposit("m", "after restart")))
	s.wmu.Lock()
	assert.Equal(t, zeroedBefore, s.zeroedTo)
	s.wmu.Unlock()
}

// An ephemeral or no-sync store writes no zeros: nothing waits for an fdatasync there.
func TestNoZerosWithoutSync(t *testing.T) {
	for name, s := range map[string]*Store{"no sync": mustOpen(t), "ephemeral": mustOpenEphemeral(t)} {
		require.NoError(t, s.CreateDeposit(deposit("m", "A")), name)
		s.wmu.Lock()
		assert.Zero(t, s.zeroedTo, name)
		assert.Nil(t, s.aheadFile, name)
		s.wmu.Unlock()
	}
}
