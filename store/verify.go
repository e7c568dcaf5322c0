package store

import (
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/vpay88/vpay88-sandbox/gateway"
)

// Verify checks the invariants the store keeps in every transaction and returns the
// ones that do not hold (nil: all hold). Tests run it after concurrent and failing
// writes; the reliability suite runs it after crashes.
//   - every order has its id index entry, list entries and count, and nothing else has;
//   - the ledger of every account sums to its balance;
//   - an account's reserved money is the sum of its pending withdrawals' reservations;
//   - every pending callback has one queue entry, and only pending ones have one;
//   - every callback has its list entries and count.
func (s *Store) Verify() ([]string, error) {
	v := &verifier{counts: map[string]uint64{}, reserved: map[account]gateway.Money{}}
	err := s.view(func(tx *bolt.Tx) error {
		for _, step := range []func(*bolt.Tx) error{v.orders, v.ledger, v.deliveries, v.counters} {
			if err := step(tx); err != nil {
				return err
			}
		}
		return nil
	})
	return v.problems, err
}

type account struct{ merchant, currency string }

// verifier gathers what the records say (counts, reservations) and what disagrees.
type verifier struct {
	problems []string
	counts   map[string]uint64
	reserved map[account]gateway.Money
}

func (v *verifier) bad(format string, args ...any) {
	v.problems = append(v.problems, fmt.Sprintf(format, args...))
}

func (v *verifier) orders(tx *bolt.Tx) error {
	n := 0
	err := tx.Bucket(bucketNumbers).ForEach(func(k, val []byte) error {
		o, err := decodeOrder(val)
		if err != nil {
			return err
		}
		n++
		if num := tx.Bucket(bucketOrders).Get(OrderKey(o.Kind, o.Merchant, o.OrderID)); beU64(num) != o.Number {
			v.bad("order %d (%s %q) has no id index entry", o.Number, o.Kind, o.OrderID)
		}
		for _, p := range [][]byte{orderListPrefix("", o.Kind, o.Status), orderListPrefix(o.Merchant, o.Kind, o.Status)} {
			if tx.Bucket(bucketOrderList).Get(append(p, u64(o.Number)...)) == nil {
				v.bad("order %d has no list entry %q", o.Number, p)
			}
		}
		v.counts[string(orderCountKey(o.Merchant, o.Kind, o.Status, o.Currency))]++
		if o.Kind == gateway.KindWithdrawal && !o.Settled() {
			v.reserved[account{o.Merchant, o.Currency}] += o.Reserved
		}
		return nil
	})
	if got := keyCount(tx.Bucket(bucketOrders)); got != n {
		v.bad("%d id index entries for %d orders", got, n)
	}
	if got := keyCount(tx.Bucket(bucketOrderList)); got != 2*n {
		v.bad("%d list entries for %d orders", got, n)
	}
	return err
}

func (v *verifier) ledger(tx *bolt.Tx) error {
	sums := map[account]Balance{}
	err := tx.Bucket(bucketLedger).ForEach(func(k, val []byte) error {
		var e LedgerEntry
		if err := json.Unmarshal(val, &e); err != nil {
			return fmt.Errorf("%w: ledger entry %x: %v", ErrCorrupt, k, err)
		}
		a := account{e.Merchant, e.Currency}
		b := sums[a]
		b.Available += e.Available
		b.Reserved += e.Reserved
		sums[a] = b
		v.counts[string(ledgerCountKey(e.Merchant, e.Currency))]++
		return nil
	})
	if err != nil {
		return err
	}
	err = tx.Bucket(bucketBalances).ForEach(func(k, val []byte) error {
		var b Balance
		if err := json.Unmarshal(val, &b); err != nil {
			return fmt.Errorf("%w: balance %q: %v", ErrCorrupt, k, err)
		}
		a := account{b.Merchant, b.Currency}
		if sum := sums[a]; sum.Available != b.Available || sum.Reserved != b.Reserved {
			v.bad("%s %s: balance %s/%s, ledger sums to %s/%s", b.Merchant, b.Currency, b.Available, b.Reserved, sum.Available, sum.Reserved)
		}
		if b.Reserved != v.reserved[a] {
			v.bad("%s %s: reserved %s, pending withdrawals hold %s", b.Merchant, b.Currency, b.Reserved, v.reserved[a])
		}
		delete(sums, a)
		return nil
	})
	for a, sum := range sums {
		if sum.Available != 0 || sum.Reserved != 0 {
			v.bad("%s %s: ledger entries without a balance", a.merchant, a.currency)
		}
	}
	return err
}

func (v *verifier) deliveries(tx *bolt.Tx) error {
	queued, n := 0, 0
	err := tx.Bucket(bucketOutbox).ForEach(func(k, val []byte) error {
		d, err := decodeDelivery(val)
		if err != nil {
			return err
		}
		n++
		inQueue := tx.Bucket(bucketQueue).Get(queueKey(d.NextAt, d.ID)) != nil
		if d.State == DeliveryPending {
			queued++
			if !inQueue {
				v.bad("pending callback %d is not queued", d.ID)
			}
		}
		for _, p := range [][]byte{deliveryListPrefix("", d.State), deliveryListPrefix(d.Merchant, d.State)} {
			if tx.Bucket(bucketDeliveryList).Get(append(p, u64(d.ID)...)) == nil {
				v.bad("callback %d has no list entry %q", d.ID, p)
			}
		}
		v.counts[string(deliveryCountKey(d.Merchant, d.State))]++
		return nil
	})
	if got := keyCount(tx.Bucket(bucketQueue)); got != queued {
		v.bad("%d queue entries for %d pending callbacks", got, queued)
	}
	if got := keyCount(tx.Bucket(bucketDeliveryList)); got != 2*n {
		v.bad("%d callback list entries for %d callbacks", got, n)
	}
	return err
}

// counters compares every stored counter with what the records counted.
func (v *verifier) counters(tx *bolt.Tx) error {
	err := tx.Bucket(bucketCounts).ForEach(func(k, val []byte) error {
		if got, want := beU64(val), v.counts[string(k)]; got != want {
			v.bad("counter %q is %d, records say %d", k, got, want)
		}
		delete(v.counts, string(k))
		return nil
	})
	for k, n := range v.counts {
		v.bad("counter %q is missing, records say %d", k, n)
	}
	return err
}

// keyCount counts a bucket's keys (none of the store's buckets holds a bucket).
func keyCount(b *bolt.Bucket) int { return b.Stats().KeyN }
