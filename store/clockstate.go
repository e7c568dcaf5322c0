package store

import (
	"encoding/json"

	bolt "go.etcd.io/bbolt"

	"github.com/vpay88/vpay88-sandbox/clock"
)

// keyClock holds the test clock's state in the meta bucket, so a sandbox restarted
// on the same file resumes the time QA moved it to instead of going back to real time.
var keyClock = []byte("clock")

// SaveClock stores the clock's state (called after every move of the test clock).
func (s *Store) SaveClock() error {
	b, err := json.Marshal(s.clock.State())
	if err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keyClock, b)
	})
}

// SavedClock returns the clock state a previous run saved, if any.
func (s *Store) SavedClock() (clock.State, bool, error) {
	var st clock.State
	var ok bool
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketMeta).Get(keyClock)
		if b == nil {
			return nil
		}
		ok = true
		return json.Unmarshal(b, &st)
	})
	return st, ok, err
}
