package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/vpay88/vpay88-sandbox/gateway"
)

// deleteOrder removes an order and everything that hangs off it: its id index entry,
// list entries and count, its timer, and its callbacks with their queue entries, list
// entries, counts and attempts.
func deleteOrder(tx *bolt.Tx, o *gateway.Order) error {
	key := OrderKey(o.Kind, o.Merchant, o.OrderID)
	if err := tx.Bucket(bucketOrders).Delete(key); err != nil {
		return err
	}
	if err := tx.Bucket(bucketNumbers).Delete(u64(o.Number)); err != nil {
		return err
	}
	if err := indexOrder(tx, o, -1); err != nil {
		return err
	}
	for _, at := range []time.Time{o.SettleAt, o.ReverseAt} {
		if at.IsZero() {
			continue
		}
		if err := tx.Bucket(bucketTimers).Delete(timerKey(at, key)); err != nil {
			return err
		}
	}
	prefix := append(key, 0)
	var ids [][]byte
	c := tx.Bucket(bucketByOrder).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		if len(k) == len(prefix)+8 {
			ids = append(ids, append([]byte(nil), k...))
		}
	}
	for _, k := range ids {
		if err := tx.Bucket(bucketByOrder).Delete(k); err != nil {
			return err
		}
		if err := deleteDelivery(tx, k[len(prefix):]); err != nil {
			return err
		}
	}
	return nil
}

// deleteDelivery removes one callback with its queue entry, list entries and attempts.
func deleteDelivery(tx *bolt.Tx, id []byte) error {
	d, err := deliveryAt(tx, id)
	if err != nil || d == nil {
		return err
	}
	if d.State == DeliveryPending {
		if err := tx.Bucket(bucketQueue).Delete(queueKey(d.NextAt, d.ID)); err != nil {
			return err
		}
	}
	if err := indexDelivery(tx, d, -1); err != nil {
		return err
	}
	var attempts [][]byte
	c := tx.Bucket(bucketAttempts).Cursor()
	for k, _ := c.Seek(id); k != nil && bytes.HasPrefix(k, id); k, _ = c.Next() {
		attempts = append(attempts, append([]byte(nil), k...))
	}
	for _, k := range attempts {
		if err := tx.Bucket(bucketAttempts).Delete(k); err != nil {
			return err
		}
	}
	return tx.Bucket(bucketOutbox).Delete(id)
}

// Reset deletes state: everything when merchant is "", else that merchant's orders,
// tokens, balances, ledger and callbacks. The opening balances given are written anew.
// Order numbers keep counting, so an old checkout tab never opens a new order.
func (s *Store) Reset(merchant string, opening []Balance) error {
	defer s.tokens.forget()
	return s.write(func(tx *bolt.Tx) error {
		if merchant == "" {
			seq := tx.Bucket(bucketNumbers).Sequence()
			// The clock is not state to reset: time never goes backwards.
			saved := append([]byte(nil), tx.Bucket(bucketMeta).Get(keyClock)...)
			for _, name := range allBuckets {
				if err := tx.DeleteBucket(name); err != nil {
					return err
				}
				if _, err := tx.CreateBucket(name); err != nil {
					return err
				}
			}
			if err := tx.Bucket(bucketMeta).Put(keyLayout, u64(layoutVersion)); err != nil {
				return err
			}
			if len(saved) > 0 {
				if err := tx.Bucket(bucketMeta).Put(keyClock, saved); err != nil {
					return err
				}
			}
			if err := tx.Bucket(bucketNumbers).SetSequence(seq); err != nil {
				return err
			}
		} else if err := resetMerchant(tx, merchant); err != nil {
			return err
		}
		// In the same transaction: no read, and no payout, sees the merchant between
		// its old balances and its opening ones (a payout there was refused as short).
		return s.ensureOpening(tx, opening)
	})
}

// resetMerchant deletes one merchant's orders (with their callbacks), tokens, balances
// and ledger entries, and its ledger counters.
func resetMerchant(tx *bolt.Tx, merchant string) error {
	// The merchant's orders are found through its list entries.
	prefix := append(append([]byte{'m'}, merchant...), 0)
	var orders []*gateway.Order
	c := tx.Bucket(bucketOrderList).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		o, err := orderAt(tx, k[len(k)-8:])
		if err != nil {
			return err
		}
		if o != nil {
			orders = append(orders, o)
		}
	}
	for _, o := range orders {
		if err := deleteOrder(tx, o); err != nil {
			return err
		}
	}
	if err := deletePrefix(tx.Bucket(bucketCounts), append(append([]byte{'l'}, merchant...), 0)); err != nil {
		return err
	}
	for _, name := range [][]byte{bucketTokens, bucketLedger, bucketBalances} {
		if err := deleteOwned(tx.Bucket(name), merchant); err != nil {
			return err
		}
	}
	return nil
}

// deletePrefix deletes every key of b that starts with prefix.
func deletePrefix(b *bolt.Bucket, prefix []byte) error {
	var dead [][]byte
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		dead = append(dead, append([]byte(nil), k...))
	}
	for _, k := range dead {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// deleteOwned deletes the records of b whose JSON names merchant ("merchant", or "m"
// in token records).
func deleteOwned(b *bolt.Bucket, merchant string) error {
	var dead [][]byte
	err := b.ForEach(func(k, v []byte) error {
		var x struct {
			Merchant string `json:"merchant"`
			M        string `json:"m"`
		}
		if err := json.Unmarshal(v, &x); err != nil {
			return fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
		if x.Merchant == merchant || x.M == merchant {
			dead = append(dead, append([]byte(nil), k...))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range dead {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// PruneResult says what one Prune call deleted.
type PruneResult struct {
	Orders        int
	LedgerEntries int
	// More is true when the call stopped at its limit with more to delete.
	More bool
}

// Prune deletes orders created before cutoff, with their callbacks and attempts, at
// most limit orders in one transaction, oldest first (retention). Settled orders go,
// and so do deposits left pending with nothing scheduled (a customer who never paid:
// in a sandbox most deposits end so, and keeping them would keep the file growing);
// pending payouts (they hold a reservation), orders with a settlement still
// scheduled, and orders with a callback still pending are kept. Ledger
// entries before cutoff are folded into one "carried_forward" entry per account, so
// the ledger still sums to the balances.
func (s *Store) Prune(cutoff time.Time, limit int) (PruneResult, error) {
	var res PruneResult
	err := s.write(func(tx *bolt.Tx) error {
		res = PruneResult{}
		c := tx.Bucket(bucketNumbers).Cursor()
		var dead []*gateway.Order
		scanned := 0
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if len(dead) == limit || scanned == 20*limit {
				res.More = true
				break
			}
			scanned++
			o, err := decodeOrder(v)
			if err != nil {
				return err
			}
			if !o.CreatedAt.Before(cutoff) {
				break // numbers follow creation: the rest are younger
			}
			if (!o.Settled() && (o.Kind == gateway.KindWithdrawal || !o.SettleAt.IsZero())) || !o.ReverseAt.IsZero() {
				continue // money reserved, or a settlement or reversal still to come
			}
			busy, err := hasPendingDelivery(tx, o)
			if err != nil {
				return err
			}
			if !busy {
				dead = append(dead, o)
			}
		}
		for _, o := range dead {
			if err := deleteOrder(tx, o); err != nil {
				return err
			}
		}
		res.Orders = len(dead)
		n, more, err := s.foldLedger(tx, cutoff, limit)
		res.LedgerEntries, res.More = n, res.More || more
		return err
	})
	return res, err
}

func hasPendingDelivery(tx *bolt.Tx, o *gateway.Order) (bool, error) {
	prefix := append(OrderKey(o.Kind, o.Merchant, o.OrderID), 0)
	c := tx.Bucket(bucketByOrder).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		d, err := deliveryAt(tx, k[len(prefix):])
		if err != nil {
			return false, err
		}
		if d != nil && d.State == DeliveryPending {
			return true, nil
		}
	}
	return false, nil
}

// ReasonCarriedForward is the ledger entry that stands for the entries retention
// deleted: their sum, per account.
const ReasonCarriedForward = "carried_forward"

// foldLedger replaces up to limit ledger entries older than cutoff by one
// carried-forward entry per account, written under the sequence of the newest entry
// it replaces so the ledger stays in time order. An account with one old entry only
// is left alone (nothing to fold).
func (s *Store) foldLedger(tx *bolt.Tx, cutoff time.Time, limit int) (int, bool, error) {
	f, err := oldLedger(tx, cutoff, limit)
	if err != nil {
		return 0, false, err
	}
	lb := tx.Bucket(bucketLedger)
	n := 0
	for _, e := range f.entries {
		a := account{e.Merchant, e.Currency}
		if f.counts[a] < 2 {
			continue
		}
		if err := lb.Delete(u64(e.Seq)); err != nil {
			return 0, false, err
		}
		if err := addCount(tx, ledgerCountKey(e.Merchant, e.Currency), -1); err != nil {
			return 0, false, err
		}
		n++
	}
	for a, sum := range f.sums {
		if f.counts[a] < 2 {
			continue
		}
		if err := putJSON(lb, u64(sum.Seq), sum); err != nil {
			return 0, false, err
		}
		if err := addCount(tx, ledgerCountKey(a.merchant, a.currency), 1); err != nil {
			return 0, false, err
		}
		n-- // the carried-forward entry replaces one of them
	}
	return n, f.more, nil
}

// ledgerFold is what the ledger's oldest entries add up to, per account.
type ledgerFold struct {
	entries []LedgerEntry
	sums    map[account]*LedgerEntry
	counts  map[account]int
	more    bool // stopped at the limit
}

// oldLedger reads up to limit ledger entries older than cutoff, oldest first, with
// their sums per account.
func oldLedger(tx *bolt.Tx, cutoff time.Time, limit int) (ledgerFold, error) {
	f := ledgerFold{sums: map[account]*LedgerEntry{}, counts: map[account]int{}}
	c := tx.Bucket(bucketLedger).Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		var e LedgerEntry
		if err := json.Unmarshal(v, &e); err != nil {
			return f, fmt.Errorf("%w: ledger entry %x: %v", ErrCorrupt, k, err)
		}
		if !e.Time.Before(cutoff) {
			break
		}
		if len(f.entries) == limit {
			f.more = true
			break
		}
		a := account{e.Merchant, e.Currency}
		sum := f.sums[a]
		if sum == nil {
			sum = &LedgerEntry{Merchant: e.Merchant, Currency: e.Currency, Reason: ReasonCarriedForward}
			f.sums[a] = sum
		}
		sum.Seq, sum.Time = e.Seq, e.Time
		sum.Available += e.Available
		sum.Reserved += e.Reserved
		f.counts[a]++
		f.entries = append(f.entries, e)
	}
	return f, nil
}
