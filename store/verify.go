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
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	err := s.db.View(func(tx *bolt.Tx) error {
		type acct struct{ m, c string }
		reserved := map[acct]gateway.Money{}
		counts := map[string]uint64{}
		orders := 0
		err := tx.Bucket(bucketNumbers).ForEach(func(k, v []byte) error {
			o, err := decodeOrder(v)
			if err != nil {
				return err
			}
			orders++
			if n := tx.Bucket(bucketOrders).Get(OrderKey(o.Kind, o.Merchant, o.OrderID)); beU64(n) != o.Number {
				bad("order %d (%s %q) has no id index entry", o.Number, o.Kind, o.OrderID)
			}
			for _, p := range [][]byte{orderListPrefix("", o.Kind, o.Status), orderListPrefix(o.Merchant, o.Kind, o.Status)} {
				if tx.Bucket(bucketOrderList).Get(append(p, u64(o.Number)...)) == nil {
					bad("order %d has no list entry %q", o.Number, p)
				}
			}
			counts[string(orderCountKey(o.Merchant, o.Kind, o.Status, o.Currency))]++
			if o.Kind == gateway.KindWithdrawal && !o.Settled() {
				reserved[acct{o.Merchant, o.Currency}] += o.Reserved
			}
			return nil
		})
		if err != nil {
			return err
		}
		if n := tx.Bucket(bucketOrders).Stats().KeyN; n != orders {
			bad("%d id index entries for %d orders", n, orders)
		}
		if n := tx.Bucket(bucketOrderList).Stats().KeyN; n != 2*orders {
			bad("%d list entries for %d orders", n, orders)
		}
		sums := map[acct]Balance{}
		err = tx.Bucket(bucketLedger).ForEach(func(k, v []byte) error {
			var e LedgerEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("%w: ledger entry %x: %v", ErrCorrupt, k, err)
			}
			a := acct{e.Merchant, e.Currency}
			b := sums[a]
			b.Available += e.Available
			b.Reserved += e.Reserved
			sums[a] = b
			counts[string(ledgerCountKey(e.Merchant, e.Currency))]++
			return nil
		})
		if err != nil {
			return err
		}
		err = tx.Bucket(bucketBalances).ForEach(func(k, v []byte) error {
			var b Balance
			if err := json.Unmarshal(v, &b); err != nil {
				return fmt.Errorf("%w: balance %q: %v", ErrCorrupt, k, err)
			}
			a := acct{b.Merchant, b.Currency}
			if sum := sums[a]; sum.Available != b.Available || sum.Reserved != b.Reserved {
				bad("%s %s: balance %s/%s, ledger sums to %s/%s", b.Merchant, b.Currency, b.Available, b.Reserved, sum.Available, sum.Reserved)
			}
			if b.Reserved != reserved[a] {
				bad("%s %s: reserved %s, pending withdrawals hold %s", b.Merchant, b.Currency, b.Reserved, reserved[a])
			}
			delete(sums, a)
			return nil
		})
		if err != nil {
			return err
		}
		for a, sum := range sums {
			if sum.Available != 0 || sum.Reserved != 0 {
				bad("%s %s: ledger entries without a balance", a.m, a.c)
			}
		}
		queued := 0
		deliveries := 0
		err = tx.Bucket(bucketOutbox).ForEach(func(k, v []byte) error {
			d, err := decodeDelivery(v)
			if err != nil {
				return err
			}
			deliveries++
			inQueue := tx.Bucket(bucketQueue).Get(queueKey(d.NextAt, d.ID)) != nil
			if d.State == DeliveryPending {
				queued++
				if !inQueue {
					bad("pending callback %d is not queued", d.ID)
				}
			}
			for _, p := range [][]byte{deliveryListPrefix("", d.State), deliveryListPrefix(d.Merchant, d.State)} {
				if tx.Bucket(bucketDeliveryList).Get(append(p, u64(d.ID)...)) == nil {
					bad("callback %d has no list entry %q", d.ID, p)
				}
			}
			counts[string(deliveryCountKey(d.Merchant, d.State))]++
			return nil
		})
		if err != nil {
			return err
		}
		if n := tx.Bucket(bucketQueue).Stats().KeyN; n != queued {
			bad("%d queue entries for %d pending callbacks", n, queued)
		}
		if n := tx.Bucket(bucketDeliveryList).Stats().KeyN; n != 2*deliveries {
			bad("%d callback list entries for %d callbacks", n, deliveries)
		}
		err = tx.Bucket(bucketCounts).ForEach(func(k, v []byte) error {
			if got, want := beU64(v), counts[string(k)]; got != want {
				bad("counter %q is %d, records say %d", k, got, want)
			}
			delete(counts, string(k))
			return nil
		})
		for k, n := range counts {
			bad("counter %q is missing, records say %d", k, n)
		}
		return err
	})
	return problems, err
}
