package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/vpay88/vpay88-sandbox/gateway"
)

// Delivery states: the callback states of gateway's vocabulary (gateway.CallbackStates).
const (
	DeliveryPending   = gateway.CallbackPending
	DeliveryDelivered = gateway.CallbackDelivered
	DeliveryFailed    = gateway.CallbackFailed  // every attempt of the schedule was used
	DeliveryDropped   = gateway.CallbackDropped // a scenario fault: never sent
)

// Delivery is one callback in the durable outbox: stored in the same transaction as
// the settlement that caused it, before its first attempt.
type Delivery struct {
	ID        uint64          `json:"id"`
	Merchant  string          `json:"merchant"`
	Kind      gateway.Kind    `json:"kind"`
	OrderID   string          `json:"order_id"`
	URL       string          `json:"url"`
	Body      json.RawMessage `json:"body"`
	State     string          `json:"state"`
	Attempts  int             `json:"attempts"`
	NextAt    time.Time       `json:"next_at,omitzero"`
	CreatedAt time.Time       `json:"created_at"`
	// Note says why this delivery exists beyond the plain callback ("duplicate",
	// "wrong token", "resend").
	Note string `json:"note,omitempty"`
	// RunFrom is the attempt count when the current schedule run began: a bulk retry
	// sets it to Attempts, so the delivery gets the whole schedule again while
	// Attempts (and the attempt log) keep counting.
	RunFrom int `json:"run_from,omitempty"`
	// Form says the body is sent as the form field json=<JSON>
	// (application/x-www-form-urlencoded), as the merchant's dialect asks
	// (callback_body: form); Body keeps the JSON.
	Form bool `json:"form,omitempty"`
	// Log is the delivery's attempts, oldest first, as Deliveries and ListDeliveries
	// return it: read in the transaction that read the delivery, so that they agree
	// with its State (an attempt and its state change commit together; two reads could
	// show the attempt beside the state before it). Not stored with the delivery.
	Log []Attempt `json:"-"`
}

// Attempt is one try at delivering a callback, as the admin API shows it.
type Attempt struct {
	DeliveryID uint64          `json:"delivery_id"`
	N          int             `json:"n"`
	Time       time.Time       `json:"time"`
	URL        string          `json:"url"`
	Body       json.RawMessage `json:"request_body"`
	Status     int             `json:"http_status"`
	LatencyMS  float64         `json:"latency_ms"`
	Answer     string          `json:"answer"`
	Error      string          `json:"error,omitempty"`
}

// SettleFunc sets the final state of a pending order (status, charge, payer name,
// remarks) and returns the callbacks to enqueue. It runs inside the settlement
// transaction and must not fail after changing anything it returns.
type SettleFunc func(o *gateway.Order) ([]*Delivery, error)

// Settle moves a pending order to its final status in one transaction: the order, the
// balance and its ledger entry, and the outbox. It returns ErrAlreadySettled for an
// order that is completed or failed: a settled order never changes again.
func (s *Store) Settle(kind gateway.Kind, merchant, orderID string, apply SettleFunc) (*gateway.Order, []*Delivery, error) {
	var out *gateway.Order
	var dels []*Delivery
	err := s.write(func(tx *bolt.Tx) error {
		key := OrderKey(kind, merchant, orderID)
		found, err := existingOrder(tx, key)
		if err != nil {
			return err
		}
		o := *found
		if o.Settled() {
			out = &o
			return ErrAlreadySettled
		}
		before := o
		d, err := apply(&o)
		if err != nil {
			return err
		}
		if o.Status == gateway.StatusPending { // the decision was to leave it pending
			out = &o
			if !before.SettleAt.IsZero() {
				if err := tx.Bucket(bucketTimers).Delete(timerKey(before.SettleAt, key)); err != nil {
					return err
				}
				o.SettleAt, o.SettleOutcome = time.Time{}, nil
			}
			return putOrder(tx, &o)
		}
		o.SettledAt = s.Now().UTC()
		if mv, ok := gateway.SettlementMovement(o); ok {
			if err := s.move(tx, o.Merchant, o.Currency, mv, o.Kind, o.OrderID); err != nil {
				return err
			}
		}
		if !before.SettleAt.IsZero() {
			if err := tx.Bucket(bucketTimers).Delete(timerKey(before.SettleAt, key)); err != nil {
				return err
			}
		}
		o.SettleAt, o.SettleOutcome = time.Time{}, nil
		if err := scheduleReversal(tx, &o, key); err != nil {
			return err
		}
		if err := putOrder(tx, &o); err != nil {
			return err
		}
		if err := reindexOrder(tx, &before, &o); err != nil {
			return err
		}
		if err := s.enqueue(tx, d); err != nil {
			return err
		}
		out, dels = &o, d
		return nil
	})
	return out, dels, err
}

// scheduleReversal stores the timer of a rule's reverse_after on an order that just
// settled.
func scheduleReversal(tx *bolt.Tx, o *gateway.Order, key []byte) error {
	if o.ReverseAfter <= 0 {
		return nil
	}
	o.ReverseAt = o.SettledAt.Add(time.Duration(o.ReverseAfter))
	return tx.Bucket(bucketTimers).Put(timerKey(o.ReverseAt, key), present)
}

// existingOrder reads the order an index key names, or ErrNotFound.
func existingOrder(tx *bolt.Tx, key []byte) (*gateway.Order, error) {
	o, _, err := getOrder(tx, key)
	if err == nil && o == nil {
		err = ErrNotFound
	}
	return o, err
}

// ReverseFunc gives a settled order its other final status and returns what that
// moves between balances and the callbacks to send (gateway.Reverse).
type ReverseFunc func(o *gateway.Order) (gateway.Movement, []*Delivery, error)

// Reverse applies a reversal to a settled order in one transaction: the order (and its
// list entries), the balance movement with its ledger entry, the callbacks, and the
// removal of a scheduled reversal's timer. A pending order is gateway.ErrNotSettled.
func (s *Store) Reverse(kind gateway.Kind, merchant, orderID string, apply ReverseFunc) (*gateway.Order, []*Delivery, error) {
	var out *gateway.Order
	var dels []*Delivery
	err := s.write(func(tx *bolt.Tx) error {
		key := OrderKey(kind, merchant, orderID)
		found, err := existingOrder(tx, key)
		if err != nil {
			return err
		}
		before, o := *found, *found
		mv, d, err := apply(&o)
		if err != nil {
			out = &before
			return err
		}
		if !before.ReverseAt.IsZero() {
			if err := tx.Bucket(bucketTimers).Delete(timerKey(before.ReverseAt, key)); err != nil {
				return err
			}
		}
		if err := putOrder(tx, &o); err != nil {
			return err
		}
		if err := reindexOrder(tx, &before, &o); err != nil {
			return err
		}
		if err := s.move(tx, o.Merchant, o.Currency, mv, o.Kind, o.OrderID); err != nil {
			return err
		}
		if err := s.enqueue(tx, d); err != nil {
			return err
		}
		out, dels = &o, d
		return nil
	})
	return out, dels, err
}

// DropTimers removes an order's settlement and reversal timers, so that a scheduled
// step that cannot run is not retried for ever.
func (s *Store) DropTimers(kind gateway.Kind, merchant, orderID string) error {
	return s.write(func(tx *bolt.Tx) error {
		key := OrderKey(kind, merchant, orderID)
		o, _, err := getOrder(tx, key)
		if err != nil || o == nil {
			return err
		}
		for _, at := range []time.Time{o.SettleAt, o.ReverseAt} {
			if !at.IsZero() {
				if err := tx.Bucket(bucketTimers).Delete(timerKey(at, key)); err != nil {
					return err
				}
			}
		}
		o.SettleAt, o.SettleOutcome, o.ReverseAt = time.Time{}, nil, time.Time{}
		return putOrder(tx, o)
	})
}

// Enqueue stores new deliveries (a resend) and returns them with their ids.
func (s *Store) Enqueue(d []*Delivery) error {
	return s.write(func(tx *bolt.Tx) error { return s.enqueue(tx, d) })
}

func (s *Store) enqueue(tx *bolt.Tx, dels []*Delivery) error {
	b := tx.Bucket(bucketOutbox)
	b.FillPercent = appendFill
	for _, d := range dels {
		id, err := b.NextSequence()
		if err != nil {
			return err
		}
		d.ID = id
		if d.State == "" {
			d.State = DeliveryPending
		}
		if d.CreatedAt.IsZero() {
			d.CreatedAt = s.Now().UTC()
		}
		if err := putJSON(b, u64(id), d); err != nil {
			return err
		}
		if d.State == DeliveryPending {
			if err := tx.Bucket(bucketQueue).Put(queueKey(d.NextAt, id), queueValue(d)); err != nil {
				return err
			}
		}
		if err := tx.Bucket(bucketByOrder).Put(byOrderKey(d), present); err != nil {
			return err
		}
		if err := indexDelivery(tx, d, 1); err != nil {
			return err
		}
	}
	return nil
}

// byOrderKey is a delivery's entry in the index of an order's callbacks.
func byOrderKey(d *Delivery) []byte {
	return append(OrderKey(d.Kind, d.Merchant, d.OrderID), append([]byte{0}, u64(d.ID)...)...)
}

// queueValue is what a queue entry carries: the delivery's merchant and URL, so the
// dispatcher can pass over deliveries to a receiver at its share without reading them.
func queueValue(d *Delivery) []byte { return []byte(d.Merchant + "\x00" + d.URL) }

func queueKey(at time.Time, id uint64) []byte {
	return append(u64(uint64(at.UnixNano())), u64(id)...)
}

// deliveryAt reads a delivery by its id key; nil when there is none.
func deliveryAt(tx *bolt.Tx, id []byte) (*Delivery, error) {
	v := tx.Bucket(bucketOutbox).Get(id)
	if v == nil {
		return nil, nil
	}
	return decodeDelivery(v)
}

// DueDeliveries returns pending deliveries whose next attempt is due at now, oldest
// first, at most limit (DueDeliveriesFunc keeping every one).
func (s *Store) DueDeliveries(now time.Time, limit int) ([]*Delivery, error) {
	out, _, err := s.DueDeliveriesFunc(now, limit, func(*Delivery) bool { return true })
	return out, err
}

// NextDelivery returns when the earliest pending delivery is due.
func (s *Store) NextDelivery() (time.Time, bool, error) {
	var at time.Time
	var ok bool
	err := s.view(func(tx *bolt.Tx) error {
		if k, _ := tx.Bucket(bucketQueue).Cursor().First(); k != nil {
			at, ok = time.Unix(0, int64(beU64(k[:8]))), true
		}
		return nil
	})
	return at, ok, err
}

// putDelivery replaces a stored delivery by its new version: the record, its queue
// entry (only a pending delivery has one) and its list entries.
func putDelivery(tx *bolt.Tx, old, d *Delivery) error {
	q := tx.Bucket(bucketQueue)
	if old.State == DeliveryPending {
		if err := q.Delete(queueKey(old.NextAt, old.ID)); err != nil {
			return err
		}
	}
	if d.State == DeliveryPending {
		if err := q.Put(queueKey(d.NextAt, d.ID), queueValue(d)); err != nil {
			return err
		}
	}
	if err := reindexDelivery(tx, old, d); err != nil {
		return err
	}
	return putJSON(tx.Bucket(bucketOutbox), u64(d.ID), d)
}

// RecordAttempt stores an attempt and the delivery's new state in one transaction;
// next is when to try again (ignored unless state is pending).
func (s *Store) RecordAttempt(d *Delivery, a Attempt) error {
	return s.write(func(tx *bolt.Tx) error {
		old, err := deliveryAt(tx, u64(d.ID))
		if err != nil {
			return err
		}
		if old == nil {
			return ErrNotFound
		}
		if err := putDelivery(tx, old, d); err != nil {
			return err
		}
		if a.N == 0 { // a state change without an attempt (a dropped delivery)
			return nil
		}
		return putJSON(tx.Bucket(bucketAttempts), append(u64(d.ID), u64(uint64(a.N))...), a)
	})
}

// Deliveries returns the callbacks of one order, oldest first, each with its Log.
func (s *Store) Deliveries(kind gateway.Kind, merchant, orderID string) ([]*Delivery, error) {
	var out []*Delivery
	err := s.view(func(tx *bolt.Tx) error {
		prefix := append(OrderKey(kind, merchant, orderID), 0)
		c := tx.Bucket(bucketByOrder).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			if len(k) != len(prefix)+8 {
				continue
			}
			d, err := deliveryWithLog(tx, k[len(prefix):])
			if err != nil {
				return err
			}
			if d != nil {
				out = append(out, d)
			}
		}
		return nil
	})
	return out, err
}

// deliveryWithLog reads a delivery and its attempts (Log) in one transaction; nil
// when there is none.
func deliveryWithLog(tx *bolt.Tx, id []byte) (*Delivery, error) {
	d, err := deliveryAt(tx, id)
	if err != nil || d == nil {
		return d, err
	}
	d.Log, err = attemptsIn(tx, d.ID)
	return d, err
}

// Delivery returns one delivery by id, as stored now (the dispatcher re-reads it
// before an attempt, so a stale copy never causes a second send).
func (s *Store) Delivery(id uint64) (*Delivery, error) {
	var d *Delivery
	err := s.view(func(tx *bolt.Tx) (err error) {
		d, err = deliveryAt(tx, u64(id))
		return err
	})
	if err == nil && d == nil {
		err = ErrNotFound
	}
	return d, err
}

// Attempts returns the attempts of one delivery, in order.
func (s *Store) Attempts(deliveryID uint64) ([]Attempt, error) {
	var out []Attempt
	err := s.view(func(tx *bolt.Tx) (err error) {
		out, err = attemptsIn(tx, deliveryID)
		return err
	})
	return out, err
}

// attemptsIn reads the attempts of one delivery, in order; an empty list, not nil,
// when it has none (the admin API writes [] for it).
func attemptsIn(tx *bolt.Tx, deliveryID uint64) ([]Attempt, error) {
	out := []Attempt{}
	prefix := u64(deliveryID)
	c := tx.Bucket(bucketAttempts).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		var a Attempt
		if err := json.Unmarshal(v, &a); err != nil {
			return nil, fmt.Errorf("%w: attempt %x: %v", ErrCorrupt, k, err)
		}
		out = append(out, a)
	}
	return out, nil
}

// DeliveryFilter selects callbacks for ListDeliveries.
type DeliveryFilter struct {
	Merchant string
	State    string
	// Before is a cursor: only deliveries with a lower id (0: from the newest).
	Before uint64
	Offset int
	Limit  int
}

// DeliveryPage is one page of ListDeliveries.
type DeliveryPage struct {
	Deliveries []*Delivery
	Total      int    // every delivery that matches, ignoring Before and Offset
	Next       uint64 // the cursor of the next page (0: this is the last)
}

// ListDeliveries returns a page of the callback log, newest first, each with its Log,
// read from the list index of the states asked for; the total comes from the counters.
func (s *Store) ListDeliveries(f DeliveryFilter) (DeliveryPage, error) {
	var page DeliveryPage
	if f.Limit <= 0 {
		f.Limit = 50
	}
	states := allStates
	if f.State != "" {
		states = []string{f.State}
	}
	err := s.view(func(tx *bolt.Tx) error {
		var prefixes [][]byte
		for _, st := range states {
			prefixes = append(prefixes, deliveryListPrefix(f.Merchant, st))
		}
		page.Total = countDeliveries(tx, f.Merchant, states)
		it := newNewestFirst(tx.Bucket(bucketDeliveryList), prefixes, f.Before)
		for id, skipped := it.next(), 0; id != 0; id = it.next() {
			if skipped < f.Offset {
				skipped++
				continue
			}
			if len(page.Deliveries) == f.Limit {
				page.Next = page.Deliveries[len(page.Deliveries)-1].ID
				break
			}
			d, err := deliveryWithLog(tx, u64(id))
			if err != nil {
				return err
			}
			if d != nil {
				page.Deliveries = append(page.Deliveries, d)
			}
		}
		return nil
	})
	return page, err
}

// countDeliveries sums the delivery counters of a merchant ("" for all) in the given
// states.
func countDeliveries(tx *bolt.Tx, merchant string, states []string) int {
	total := 0
	c := tx.Bucket(bucketCounts).Cursor()
	prefix := []byte{'d'}
	if merchant != "" {
		prefix = append(append(prefix, merchant...), 0)
	}
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if len(k) < 2 || (merchant != "" && len(k) != len(prefix)+1) {
			continue
		}
		sb := k[len(k)-1]
		if slices.ContainsFunc(states, func(x string) bool { return stateByte(x) == sb }) {
			total += int(beU64(v))
		}
	}
	return total
}
