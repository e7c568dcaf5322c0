package store

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
)

// TestFailedWriteAnswersAfterItsBatch: a write that fails because of another write of
// its batch (here: it finds the key the other one put, as a settlement finds the
// order another settled) answers only once that other write is committed, and with
// what it meets alone. Before, it answered at the rolled-back round, while the other
// still waited for its rerun: a deposit settled at once could answer its request
// still pending (TestConcurrentMixedTraffic failed so in CI).
func TestFailedWriteAnswersAfterItsBatch(t *testing.T) {
	s := mustOpen(t)
	errTaken := errors.New("taken")
	bucket := []byte("batch-test")
	require.NoError(t, s.db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucket)
		return err
	}))
	claim := func(key []byte) error {
		return s.write(func(tx *bolt.Tx) error {
			b := tx.Bucket(bucket)
			if b.Get(key) != nil {
				return errTaken
			}
			return b.Put(key, []byte("1"))
		})
	}
	var wg sync.WaitGroup
	for i := range 400 {
		key := []byte(fmt.Sprint("k", i))
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := claim(key); errors.Is(err, errTaken) {
					assert.NoError(t, s.db.View(func(tx *bolt.Tx) error {
						if tx.Bucket(bucket).Get(key) == nil {
							return fmt.Errorf("%s: refused as taken, yet not committed", key)
						}
						return nil
					}))
				} else if err != nil {
					t.Error(err)
				}
			}()
		}
	}
	wg.Wait()
}
