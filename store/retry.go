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
	r := retryRun{merchant: merchant, state: state, now: now.UTC(), from: 1}
	total := 0
	for {
		var b retryBatchResult
		// fn may run more than once (see write): it sets its results afresh each time.
		err := s.write(func(tx *bolt.Tx) (err error) {
			b, err = r.batch(tx)
			return err
		})
		if err != nil {
			return total, err
		}
		total += b.moved
		r.from, r.last = b.next, b.last
		if b.done || b.last == 0 {
			return total, nil
		}
	}
}

// retryRun is one bulk retry: what it moves, and how far it got.
type retryRun struct {
	merchant, state string
	now             time.Time
	from            uint64 // the next id to read
	last            uint64 // the last id when the retry began (0: not yet read)
}

type retryBatchResult struct {
	moved      int
	next, last uint64
	done       bool
}

// batch moves up to retryBatch deliveries back to the queue, due now, reading the list
// index of the state (and merchant): it holds exactly the deliveries to move, in id
// order, so a retry costs what it moves, not the outbox.
func (r retryRun) batch(tx *bolt.Tx) (retryBatchResult, error) {
	res := retryBatchResult{next: r.from, last: r.last}
	if res.last == 0 {
		res.last = tx.Bucket(bucketOutbox).Sequence()
	}
	type change struct{ old, new *Delivery }
	var todo []change
	prefix := deliveryListPrefix(r.merchant, r.state)
	c := tx.Bucket(bucketDeliveryList).Cursor()
	k, _ := c.Seek(append(append([]byte(nil), prefix...), u64(r.from)...))
	for ; k != nil && bytes.HasPrefix(k, prefix) && len(k) == len(prefix)+8 && len(todo) < retryBatch; k, _ = c.Next() {
		id := beU64(k[len(prefix):])
		if id > res.last {
			break
		}
		res.next = id + 1
		d, err := deliveryAt(tx, k[len(prefix):])
		if err != nil {
			return res, err
		}
		if d != nil {
			nd := *d
			nd.State, nd.NextAt, nd.RunFrom = DeliveryPending, r.now, d.Attempts
			todo = append(todo, change{d, &nd})
		}
	}
	res.done = k == nil || !bytes.HasPrefix(k, prefix) || len(k) != len(prefix)+8 || beU64(k[len(k)-8:]) > res.last
	// The cursor is done before anything changes: bbolt cursors do not survive writes
	// to their bucket.
	for _, ch := range todo {
		if err := putDelivery(tx, ch.old, ch.new); err != nil {
			return res, err
		}
	}
	res.moved = len(todo)
	return res, nil
}
