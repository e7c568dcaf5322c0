package store

import (
	bolt "go.etcd.io/bbolt"
)

// PutMeta stores a small named value beside the state (the fault queue): settings
// that QA made at run time and that a restart must keep.
func (s *Store) PutMeta(name string, v []byte) error { return s.putMeta(metaKey(name), v) }

// Meta returns a value PutMeta stored, or nil.
func (s *Store) Meta(name string) ([]byte, error) { return s.meta(metaKey(name)) }

func (s *Store) putMeta(key, v []byte) error {
	return s.write(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(key, v)
	})
}

// meta returns a copy of the value at key of the meta bucket, or nil.
func (s *Store) meta(key []byte) ([]byte, error) {
	var out []byte
	err := s.view(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketMeta).Get(key); v != nil {
			out = append([]byte(nil), v...)
		}
		return nil
	})
	return out, err
}

// metaKey keeps run-time values apart from the layout's own keys.
func metaKey(name string) []byte { return []byte("setting:" + name) }
