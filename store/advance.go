package store

import (
	"encoding/json"
	"math"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/vpay88/vpay88-sandbox/gateway"
)

// AllOrders is the mark that takes in every order (DueOf, NextWork).
const AllOrders = math.MaxUint64

// OrderMark returns the highest gateway number given so far. A test-clock advance
// works on the orders numbered up to the mark it took when it was called: orders
// made while it runs keep their own timers and callbacks, which the scheduler and
// the dispatcher run as the clock reaches them, so traffic cannot keep an advance
// from answering (issue 18, finding 7).
func (s *Store) OrderMark() (uint64, error) {
	var n uint64
	err := s.view(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketNumbers).Sequence()
		return nil
	})
	return n, err
}

// orderNumber returns the gateway number of the order under an index key (0: none).
func orderNumber(tx *bolt.Tx, key []byte) uint64 {
	return beU64(tx.Bucket(bucketOrders).Get(key))
}

// DueOf returns, in due order, the orders numbered up to mark whose settlement or
// reversal timer is due at or before until, at most limit of them, and the instant
// of the last one returned. Timers of later orders are passed over.
func (s *Store) DueOf(until time.Time, mark uint64, limit int) ([]*gateway.Order, time.Time, error) {
	var out []*gateway.Order
	var last time.Time
	err := s.view(func(tx *bolt.Tx) (err error) {
		out, last, _, err = timersOf(tx, time.Time{}, until, mark, limit)
		return err
	})
	return out, last, err
}

// timersOf returns, in due order, the orders numbered up to mark whose timers are due
// from from to until, at most limit, the instant of the last, and whether it stopped
// at limit with more timers in the stretch.
func timersOf(tx *bolt.Tx, from, until time.Time, mark uint64, limit int) (out []*gateway.Order, last time.Time, full bool, err error) {
	c := tx.Bucket(bucketTimers).Cursor()
	start := uint64(0)
	if !from.IsZero() {
		start = uint64(from.UnixNano())
	}
	end := uint64(until.UnixNano())
	for k, _ := c.Seek(u64(start)); k != nil && beU64(k[:8]) <= end; k, _ = c.Next() {
		if len(out) == limit {
			return out, last, true, nil
		}
		if mark != AllOrders && orderNumber(tx, k[8:]) > mark {
			continue
		}
		o, _, err := getOrder(tx, k[8:])
		if err != nil {
			return nil, last, false, err
		}
		if o != nil {
			out = append(out, o)
			last = time.Unix(0, int64(beU64(k[:8])))
		}
	}
	return out, last, false, nil
}

// Work is the next stretch of an advance's work (NextWork): what is due from First,
// the earliest timer or pending callback of the advance's orders, to Last, the
// latest of them due within the same second.
type Work struct {
	First, Last time.Time
	// Timers are the orders whose timers are due by Last, in due order; when Full,
	// the batch stopped at its limit and Last is the last of them.
	Timers []*gateway.Order
	Full   bool
}

// NextWork returns the next stretch of work, due at or before until, of the orders
// numbered up to mark; false when none is left. Callbacks due at or before after (not
// zero) are not work: the advance already waited for them at an earlier stop, and
// what it left is the dispatcher's. A stretch spans at most the rest of
// First's second: every timer and callback due in it runs at Last, no earlier than its
// own instant and in the same second, which no vendor timestamp (seconds) can tell
// apart, so 100,000 payouts made within a minute run in about sixty stops, each
// sharing its commits, instead of 100,000. At most limit timers are returned.
func (s *Store) NextWork(until, after time.Time, mark uint64, limit int) (Work, bool, error) {
	var w Work
	var ok bool
	err := s.view(func(tx *bolt.Tx) error {
		tf, tok := firstTimerOf(tx, mark, until)
		from := after
		if !from.IsZero() {
			from = from.Add(1)
		}
		df, dok := deliveriesOf(tx, mark, from, until, true)
		switch {
		case tok && (!dok || !df.After(tf)):
			w.First = tf
		case dok:
			w.First = df
		default:
			return nil
		}
		ok = true
		end := w.First.Truncate(time.Second).Add(time.Second - 1)
		if end.After(until) {
			end = until
		}
		timers, last, full, err := timersOf(tx, w.First, end, mark, limit)
		if err != nil {
			return err
		}
		w.Timers, w.Full, w.Last = timers, full, w.First
		if last.After(w.Last) {
			w.Last = last
		}
		if !w.Full {
			if dl, ok := deliveriesOf(tx, mark, w.First, end, false); ok && dl.After(w.Last) {
				w.Last = dl
			}
		}
		return nil
	})
	return w, ok, err
}

// firstTimerOf returns when the earliest timer of an order up to mark is due, if
// it is due by until.
func firstTimerOf(tx *bolt.Tx, mark uint64, until time.Time) (time.Time, bool) {
	c := tx.Bucket(bucketTimers).Cursor()
	end := uint64(until.UnixNano())
	for k, _ := c.First(); k != nil && beU64(k[:8]) <= end; k, _ = c.Next() {
		if mark == AllOrders || orderNumber(tx, k[8:]) <= mark {
			return time.Unix(0, int64(beU64(k[:8]))), true
		}
	}
	return time.Time{}, false
}

// deliveryOrder is the part of a stored delivery that names its order.
type deliveryOrder struct {
	Merchant string       `json:"merchant"`
	Kind     gateway.Kind `json:"kind"`
	OrderID  string       `json:"order_id"`
}

// deliveriesOf returns the due instant of the first (first) or the last pending
// callback, due from from to until, of an order numbered up to mark.
func deliveriesOf(tx *bolt.Tx, mark uint64, from, until time.Time, first bool) (time.Time, bool) {
	var at time.Time
	var ok bool
	c := tx.Bucket(bucketQueue).Cursor()
	start := uint64(0)
	if !from.IsZero() {
		start = uint64(from.UnixNano())
	}
	end := uint64(until.UnixNano())
	for k, _ := c.Seek(u64(start)); len(k) == 16 && beU64(k[:8]) <= end; k, _ = c.Next() {
		if mark != AllOrders {
			v := tx.Bucket(bucketOutbox).Get(k[8:])
			var d deliveryOrder
			if v == nil || json.Unmarshal(v, &d) != nil || d.Kind == "" {
				continue
			}
			if n := orderNumber(tx, OrderKey(d.Kind, d.Merchant, d.OrderID)); n == 0 || n > mark {
				continue
			}
		}
		at, ok = time.Unix(0, int64(beU64(k[:8]))), true
		if first {
			break
		}
	}
	return at, ok
}

// PendingOf reports whether a callback of an order numbered up to mark is pending
// and due at or before now: an advance waits for those to have their attempt
// before it moves the clock on (an attempt in flight keeps its delivery pending).
func (s *Store) PendingOf(now time.Time, mark uint64) (bool, error) {
	var ok bool
	err := s.view(func(tx *bolt.Tx) error {
		_, ok = deliveriesOf(tx, mark, time.Time{}, now, true)
		return nil
	})
	return ok, err
}
