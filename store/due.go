package store

import (
	"bytes"
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
	err := s.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketQueue).Cursor()
		k, v := c.First()
		for ; len(k) == 16 && len(out) < limit && beU64(k[:8]) <= uint64(now.UnixNano()); k, v = c.Next() {
			// The entry names the delivery's merchant and URL: keep decides on them,
			// and only what it accepts is read, so a backlog of thousands due to one
			// saturated receiver costs a key scan per pass, not thousands of decodes.
			probe := &Delivery{ID: beU64(k[8:])}
			if m, u, ok := bytes.Cut(v, []byte{0}); ok {
				probe.Merchant, probe.URL = string(m), string(u)
			} else if d, err := deliveryAt(tx, k[8:]); err == nil && d != nil {
				probe = d // an entry written before queue entries carried these
			} else {
				// A record that does not decode is skipped: the loop must go on
				// serving the others.
				continue
			}
			if !keep(probe) {
				continue
			}
			d, err := deliveryAt(tx, k[8:])
			if err != nil || d == nil {
				continue
			}
			out = append(out, d)
		}
		if len(k) == 16 {
			next = time.Unix(0, int64(beU64(k[:8])))
		}
		return nil
	})
	return out, next, err
}
