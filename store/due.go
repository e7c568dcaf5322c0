package store

import (
	"encoding/json"
	"time"

	bolt "go.etcd.io/bbolt"
)

// DueDeliveriesFunc returns the pending deliveries due at now that keep accepts, oldest
// first, at most limit, and next: when the first queue entry it did not read is due
// (after now, or at most now when it stopped at limit; zero when there is none).
// Unlike DueDeliveries it reads past the deliveries keep refuses, so a backlog due to
// one saturated receiver never hides the deliveries of other receivers queued behind
// it. It reads the due entries only: deliveries due later cost nothing. keep runs
// inside the read transaction, in due order, so it must be quick and must not use the
// store; it may count what it accepts (a per-receiver cap).
func (s *Store) DueDeliveriesFunc(now time.Time, limit int, keep func(*Delivery) bool) ([]*Delivery, time.Time, error) {
	var out []*Delivery
	var next time.Time
	err := s.db.View(func(tx *bolt.Tx) error {
		ob := tx.Bucket(bucketOutbox)
		c := tx.Bucket(bucketQueue).Cursor()
		k, _ := c.First()
		for ; k != nil && len(k) == 16 && len(out) < limit && beU64(k[:8]) <= uint64(now.UnixNano()); k, _ = c.Next() {
			v := ob.Get(k[8:])
			var d Delivery
			// A record that does not decode is skipped here as DueDeliveries skips it:
			// the loop must go on serving the others.
			if v == nil || json.Unmarshal(v, &d) != nil {
				continue
			}
			if keep(&d) {
				out = append(out, &d)
			}
		}
		if k != nil && len(k) == 16 {
			next = time.Unix(0, int64(beU64(k[:8])))
		}
		return nil
	})
	return out, next, err
}
