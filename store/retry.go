package store

import (
	"encoding/json"
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
			c := ob.Cursor()
			k, v := c.Seek(u64(from))
			for ; k != nil && len(todo) < retryBatch; k, v = c.Next() {
				id := beU64(k)
				if id > last {
					break
				}
				next = id + 1
				var d Delivery
				if json.Unmarshal(v, &d) != nil || d.State != state || (merchant != "" && d.Merchant != merchant) {
					continue
				}
				nd := d
				nd.State, nd.NextAt, nd.RunFrom = DeliveryPending, now, d.Attempts
				todo = append(todo, change{&d, &nd})
			}
			done = k == nil || beU64(k) > last
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
