package store

import (
	"bytes"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// retryBatch is how many deliveries one retry transaction moves: a retry of thousands
// must not hold the group committer (and every settlement queued behind it) for long.
const retryBatch = 500

// RetryDeliveries puts the deliveries in state (failed or pending) of one merchant (""
// for all) back in the queue, due at now, and returns how many it moved. Each keeps its
// attempt count and attempt log, so its next attempt is logged as attempt n+1, and
// starts a new run of the retry schedule (RunFrom), so a failed delivery is allowed the
// whole schedule again. Deliveries stored after the retry began are left alone: it
// ends even while the state it retries keeps being filled.
func (s *Store) RetryDeliveries(merchant, state string, now time.Time) (int, error) {
	if state != DeliveryFailed && state != DeliveryPending {
		return 0, fmt.Errorf("store: retry %q deliveries: only failed and pending ones can be retried", state)
	}
	now = now.UTC()
	total := 0
	from, end := uint64(1), uint64(0) // next id to read; the last id when the retry began
	for {
		var n int
		var next, last uint64
		done := false
		// fn may run more than once (see write): it sets its results afresh each time.
		err := s.write(func(tx *bolt.Tx) error {
			n, next, done = 0, from, false
			ob := tx.Bucket(bucketOutbox)
			last = end
			if last == 0 {
				last = ob.Sequence()
			}
			type change struct{ old, new *Delivery }
			var todo []change
			// The list index of the state (and merchant) holds exactly the deliveries
			// to move, in id order: a retry costs what it moves, not the outbox.
			prefix := deliveryListPrefix(merchant, state)
			c := tx.Bucket(bucketDeliveryList).Cursor()
			k, _ := c.Seek(append(append([]byte(nil), prefix...), u64(from)...))
			for ; k != nil && bytes.HasPrefix(k, prefix) && len(k) == len(prefix)+8 && len(todo) < retryBatch; k, _ = c.Next() {
				id := beU64(k[len(prefix):])
				if id > last {
					break
				}
				next = id + 1
				d, err := deliveryAt(tx, k[len(prefix):])
				if err != nil {
					return err
				}
				if d == nil {
					continue
				}
				nd := *d
				nd.State, nd.NextAt, nd.RunFrom = DeliveryPending, now, d.Attempts
				todo = append(todo, change{d, &nd})
			}
			if k != nil && (!bytes.HasPrefix(k, prefix) || len(k) != len(prefix)+8) {
				k = nil
			}
			done = k == nil || beU64(k[len(k)-8:]) > last
			// The cursor is done before anything changes: bbolt cursors do not survive
			// writes to their bucket.
			for _, ch := range todo {
				if err := putDelivery(tx, ch.old, ch.new); err != nil {
					return err
				}
			}
			n = len(todo)
			return nil
		})
		if err != nil {
			return total, err
		}
		total += n
		from, end = next, last
		if done || last == 0 {
			return total, nil
		}
	}
}
