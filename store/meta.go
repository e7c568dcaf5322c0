package store

import (
	bolt "go.etcd.io/bbolt"
)

// PutMeta stores a small named value beside the state (the fault queue): settings
// that QA made at run time and that a restart must keep. It is written at once, not
// through the group commit: these writes are rare and never on the request path.
func (s *Store) PutMeta(name string, v []byte) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(metaKey(name), v)
	})
}

// Meta returns a value PutMeta stored, or nil.
func (s *Store) Meta(name string) ([]byte, error) {
	var out []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketMeta).Get(metaKey(name)); v != nil {
			out = append([]byte(nil), v...)
		}
		return nil
	})
	return out, err
}

// metaKey keeps run-time values apart from the layout's own keys.
func metaKey(name string) []byte { return []byte("setting:" + name) }
