package faults

import (
	"context"
	"time"
)

// Store keeps the queue across restarts: the store's meta records.
type Store interface {
	Meta(key string) ([]byte, error)
	PutMeta(key string, value []byte) error
}

// metaKey is the store's meta key of the fault queue.
const metaKey = "faults"

// Load restores the queue a previous run stored (none: the queue stays empty).
func (q *Queue) Load(now time.Time) error {
	b, err := q.st.Meta(metaKey)
	if err != nil || b == nil {
		return err
	}
	return q.restore(b, now)
}

// Armed says a fault is live; every vendor request reads it, without the lock.
func (q *Queue) Armed() bool { return q.armed.Load() }

// Save stores the queue and tells the dashboards; a failure is logged, as the queue
// in memory still holds. Adding or removing a fault saves before the call answers.
func (q *Queue) Save() {
	q.Persist()
	if q.onSave != nil {
		q.onSave()
	}
}

// Persist writes the queue to the store without telling the dashboards: a reset,
// which empties the store's meta records, stores the queue in memory again with it.
func (q *Queue) Persist() {
	// Saves run one at a time, each snapshotting under the lock: a later state is
	// never overwritten by an earlier one that finished last.
	q.saveMu.Lock()
	defer q.saveMu.Unlock()
	b, err := q.snapshot()
	if err == nil {
		err = q.st.PutMeta(metaKey, b)
	}
	if err != nil {
		q.log.Error("save faults", "err", err)
	}
}

// hitSaved asks the saver to store the hit counts; it never blocks.
func (q *Queue) hitSaved() {
	select {
	case q.kick <- struct{}{}:
	default: // a save is pending already: it will carry this hit too
	}
}

// Run is the one goroutine that stores hit counts: at most once per saveInterval,
// and once more when ctx ends, before it returns.
func (q *Queue) Run(ctx context.Context) {
	for {
		select {
		case <-q.kick:
		case <-ctx.Done():
			q.flush()
			return
		}
		q.Save()
		t := time.NewTimer(saveInterval)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			q.flush()
			return
		}
	}
}

// flush stores hits counted since the last save (at shutdown).
func (q *Queue) flush() {
	select {
	case <-q.kick:
		q.Persist()
	default:
	}
}
