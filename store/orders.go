package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/vpay88/vpay88-sandbox/gateway"
)

// Balance is a merchant's money in one currency. Available can be spent on payouts;
// Reserved is held by accepted withdrawals until they settle.
type Balance struct {
	Merchant  string        `json:"merchant"`
	Currency  string        `json:"currency"`
	Available gateway.Money `json:"available"`
	Reserved  gateway.Money `json:"reserved"`
}

// LedgerEntry records one change of a balance; summing an account's entries gives its
// balance, which the tests check after every concurrent run.
type LedgerEntry struct {
	Seq       uint64        `json:"seq"`
	Time      time.Time     `json:"time"`
	Merchant  string        `json:"merchant"`
	Currency  string        `json:"currency"`
	Reason    string        `json:"reason"`
	Kind      gateway.Kind  `json:"kind,omitempty"`
	OrderID   string        `json:"order_id,omitempty"`
	Available gateway.Money `json:"available"` // change of Available
	Reserved  gateway.Money `json:"reserved"`  // change of Reserved
}

// Ledger reasons.
const (
	ReasonOpening        = "opening"
	ReasonDepositCredit  = "deposit_credit"
	ReasonPayoutReserve  = "payout_reserve"
	ReasonPayoutComplete = "payout_complete"
	ReasonPayoutRelease  = "payout_release"
	ReasonAdminSet       = "admin_set"
)

type tokenRecord struct {
	Merchant string    `json:"m"`
	Expires  time.Time `json:"e"`
}

func balanceKey(merchant, currency string) []byte { return []byte(merchant + "\x00" + currency) }

// EnsureBalances gives every listed merchant currency its opening balance if it has
// none yet (a fresh file, or a merchant added to the config).
func (s *Store) EnsureBalances(opening []Balance) error {
	var missing []Balance
	_ = s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketBalances)
		for _, o := range opening {
			if b.Get(balanceKey(o.Merchant, o.Currency)) == nil {
				missing = append(missing, o)
			}
		}
		return nil
	})
	if len(missing) == 0 {
		return nil
	}
	return s.write(func(tx *bolt.Tx) error {
		for _, o := range missing {
			if tx.Bucket(bucketBalances).Get(balanceKey(o.Merchant, o.Currency)) != nil {
				continue
			}
			if err := s.setBalance(tx, Balance{Merchant: o.Merchant, Currency: o.Currency}, o.Available, 0, ReasonOpening, "", ""); err != nil {
				return err
			}
		}
		return nil
	})
}

// setBalance applies a change to a balance and writes its ledger entry.
func (s *Store) setBalance(tx *bolt.Tx, bal Balance, dAvail, dRes gateway.Money, reason string, kind gateway.Kind, orderID string) error {
	bal.Available += dAvail
	bal.Reserved += dRes
	if err := putJSON(tx.Bucket(bucketBalances), balanceKey(bal.Merchant, bal.Currency), bal); err != nil {
		return err
	}
	lb := tx.Bucket(bucketLedger)
	lb.FillPercent = appendFill
	seq, _ := lb.NextSequence()
	return putJSON(lb, u64(seq), LedgerEntry{Seq: seq, Time: s.Now().UTC(), Merchant: bal.Merchant, Currency: bal.Currency,
		Reason: reason, Kind: kind, OrderID: orderID, Available: dAvail, Reserved: dRes})
}

func getBalance(tx *bolt.Tx, merchant, currency string) Balance {
	bal := Balance{Merchant: merchant, Currency: currency}
	getJSON(tx.Bucket(bucketBalances), balanceKey(merchant, currency), &bal)
	return bal
}

// Balances returns the balances of a merchant (all merchants when merchant is "").
func (s *Store) Balances(merchant string) ([]Balance, error) {
	var out []Balance
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketBalances).ForEach(func(k, v []byte) error {
			var b Balance
			if json.Unmarshal(v, &b) == nil && (merchant == "" || b.Merchant == merchant) {
				out = append(out, b)
			}
			return nil
		})
	})
	return out, err
}

// SetBalance sets a merchant's available balance (admin), recording the difference.
func (s *Store) SetBalance(merchant, currency string, available gateway.Money) (Balance, error) {
	var out Balance
	err := s.write(func(tx *bolt.Tx) error {
		bal := getBalance(tx, merchant, currency)
		if err := s.setBalance(tx, bal, available-bal.Available, 0, ReasonAdminSet, "", ""); err != nil {
			return err
		}
		out = getBalance(tx, merchant, currency)
		return nil
	})
	return out, err
}

// Ledger returns the ledger entries of a merchant ("" for all), oldest first.
func (s *Store) Ledger(merchant string) ([]LedgerEntry, error) {
	var out []LedgerEntry
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketLedger).ForEach(func(k, v []byte) error {
			var e LedgerEntry
			if json.Unmarshal(v, &e) == nil && (merchant == "" || e.Merchant == merchant) {
				out = append(out, e)
			}
			return nil
		})
	})
	return out, err
}

// PutToken stores an auth token for merchant, valid until expires.
func (s *Store) PutToken(token, merchant string, expires time.Time) error {
	return s.write(func(tx *bolt.Tx) error {
		return putJSON(tx.Bucket(bucketTokens), []byte(token), tokenRecord{Merchant: merchant, Expires: expires})
	})
}

// TokenMerchant returns the merchant a live token belongs to; an expired token is an
// unknown token.
func (s *Store) TokenMerchant(token string) (string, bool) {
	var rec tokenRecord
	var ok bool
	_ = s.db.View(func(tx *bolt.Tx) error {
		ok = getJSON(tx.Bucket(bucketTokens), []byte(token), &rec)
		return nil
	})
	if !ok || !s.Now().Before(rec.Expires) {
		return "", false
	}
	return rec.Merchant, true
}

// PurgeExpiredTokens deletes tokens past their lifetime, so the file does not grow
// with every /merchant/auth call of a long CI run.
func (s *Store) PurgeExpiredTokens() (int, error) {
	n := 0
	now := s.Now()
	err := s.write(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketTokens)
		var dead [][]byte
		_ = b.ForEach(func(k, v []byte) error {
			var rec tokenRecord
			if json.Unmarshal(v, &rec) != nil || !now.Before(rec.Expires) {
				dead = append(dead, append([]byte(nil), k...))
			}
			return nil
		})
		for _, k := range dead {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		n = len(dead)
		return nil
	})
	return n, err
}

// CreateDeposit stores a new pending deposit and gives it its gateway number; it fails
// with ErrOrderExists when the merchant already used the id for a deposit.
func (s *Store) CreateDeposit(o *gateway.Order) error {
	return s.createOrder(o, nil)
}

// CreateWithdrawal stores a new withdrawal and reserves o.Reserved (amount plus payout
// fee) from the merchant's available balance, in one transaction: concurrent payouts
// can never overdraw. It fails with ErrOrderExists or ErrInsufficientBalance and then
// changes nothing.
func (s *Store) CreateWithdrawal(o *gateway.Order) error {
	return s.createOrder(o, func(tx *bolt.Tx) error {
		bal := getBalance(tx, o.Merchant, o.Currency)
		if bal.Available < o.Reserved {
			return ErrInsufficientBalance
		}
		return s.setBalance(tx, bal, -o.Reserved, o.Reserved, ReasonPayoutReserve, o.Kind, o.OrderID)
	})
}

func (s *Store) createOrder(o *gateway.Order, also func(tx *bolt.Tx) error) error {
	return s.write(func(tx *bolt.Tx) error {
		idx := tx.Bucket(bucketOrders)
		// Merchants' ids mostly grow per client (a counter, a date): dense pages suit
		// that, and a random id only splits a page a little earlier.
		idx.FillPercent = appendFill
		key := OrderKey(o.Kind, o.Merchant, o.OrderID)
		if idx.Get(key) != nil {
			return ErrOrderExists
		}
		if also != nil {
			if err := also(tx); err != nil {
				return err
			}
		}
		// The bucket's own sequence numbers orders: no separate counter page to rewrite.
		n, err := tx.Bucket(bucketNumbers).NextSequence()
		if err != nil {
			return err
		}
		o.Number = n
		if err := idx.Put(key, u64(n)); err != nil {
			return err
		}
		if !o.SettleAt.IsZero() {
			tb := tx.Bucket(bucketTimers)
			if err := tb.Put(timerKey(o.SettleAt, key), nil); err != nil {
				return err
			}
		}
		return putOrder(tx, o)
	})
}

func beU64(b []byte) uint64 {
	if len(b) != 8 {
		return 0
	}
	return uint64(b[0])<<56 | uint64(b[1])<<48 | uint64(b[2])<<40 | uint64(b[3])<<32 | uint64(b[4])<<24 | uint64(b[5])<<16 | uint64(b[6])<<8 | uint64(b[7])
}

func timerKey(at time.Time, orderKey []byte) []byte {
	return append(u64(uint64(at.UnixNano())), orderKey...)
}

// Order returns an order by kind, merchant and merchant order id.
func (s *Store) Order(kind gateway.Kind, merchant, orderID string) (*gateway.Order, error) {
	var o *gateway.Order
	_ = s.db.View(func(tx *bolt.Tx) error {
		o, _ = getOrder(tx, OrderKey(kind, merchant, orderID))
		return nil
	})
	if o == nil {
		return nil, ErrNotFound
	}
	return o, nil
}

// OrderByNumber returns an order by its gateway number (the checkout page's id).
func (s *Store) OrderByNumber(n uint64) (*gateway.Order, error) {
	var o gateway.Order
	var ok bool
	_ = s.db.View(func(tx *bolt.Tx) error {
		ok = getJSON(tx.Bucket(bucketNumbers), u64(n), &o)
		return nil
	})
	if !ok {
		return nil, ErrNotFound
	}
	return &o, nil
}

// FindOrders returns the orders of a kind with the given merchant order id, across
// merchants.
func (s *Store) FindOrders(kind gateway.Kind, orderID string) ([]*gateway.Order, error) {
	var out []*gateway.Order
	err := s.db.View(func(tx *bolt.Tx) error {
		prefix := OrderKey(kind, "", orderID)
		c := tx.Bucket(bucketOrders).Cursor()
		for k, n := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, n = c.Next() {
			var o gateway.Order
			if getJSON(tx.Bucket(bucketNumbers), n, &o) {
				out = append(out, &o)
			}
		}
		return nil
	})
	return out, err
}

// OrderFilter selects orders for List.
type OrderFilter struct {
	Kind     gateway.Kind
	Status   gateway.Status
	Merchant string
	Currency string
	Prefix   string // merchant order id prefix
	Offset   int
	Limit    int
}

// ListOrders returns the orders that match f, newest first, and how many match in all.
func (s *Store) ListOrders(f OrderFilter) ([]*gateway.Order, int, error) {
	var out []*gateway.Order
	total := 0
	if f.Limit <= 0 {
		f.Limit = 50
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketNumbers).Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			var o gateway.Order
			if json.Unmarshal(v, &o) != nil {
				continue
			}
			if (f.Kind != "" && o.Kind != f.Kind) || (f.Status != "" && o.Status != f.Status) || (f.Merchant != "" && o.Merchant != f.Merchant) ||
				(f.Currency != "" && o.Currency != f.Currency) || (f.Prefix != "" && !bytes.HasPrefix([]byte(o.OrderID), []byte(f.Prefix))) {
				continue
			}
			total++
			if total > f.Offset && len(out) < f.Limit {
				out = append(out, &o)
			}
		}
		return nil
	})
	return out, total, err
}

// Due returns the keys of orders whose scheduled settlement time has come.
func (s *Store) Due(now time.Time) ([]*gateway.Order, error) {
	var out []*gateway.Order
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketTimers).Cursor()
		limit := uint64(now.UnixNano())
		for k, _ := c.First(); k != nil && beU64(k[:8]) <= limit; k, _ = c.Next() {
			if o, _ := getOrder(tx, k[8:]); o != nil {
				out = append(out, o)
			}
		}
		return nil
	})
	return out, err
}

// NextDue returns when the earliest scheduled settlement is due.
func (s *Store) NextDue() (time.Time, bool) {
	var at time.Time
	var ok bool
	_ = s.db.View(func(tx *bolt.Tx) error {
		if k, _ := tx.Bucket(bucketTimers).Cursor().First(); k != nil {
			at, ok = time.Unix(0, int64(beU64(k[:8]))), true
		}
		return nil
	})
	return at, ok
}

// Reset deletes state: everything when merchant is "", else that merchant's orders,
// tokens, balances, ledger and callbacks. The opening balances given are written anew.
// Order numbers keep counting, so an old checkout tab never opens a new order.
func (s *Store) Reset(merchant string, opening []Balance) error {
	err := s.write(func(tx *bolt.Tx) error {
		if merchant == "" {
			// Order numbers keep counting, so an old checkout tab never opens a new order.
			seq := tx.Bucket(bucketNumbers).Sequence()
			for _, name := range allBuckets {
				if err := tx.DeleteBucket(name); err != nil {
					return err
				}
				if _, err := tx.CreateBucket(name); err != nil {
					return err
				}
			}
			return tx.Bucket(bucketNumbers).SetSequence(seq)
		}
		mk := []byte(merchant)
		// Keys that carry the merchant between NUL separators, bucket by bucket.
		del := func(bucket []byte, match func(k, v []byte) bool) error {
			b := tx.Bucket(bucket)
			var keys [][]byte
			_ = b.ForEach(func(k, v []byte) error {
				if match(k, v) {
					keys = append(keys, append([]byte(nil), k...))
				}
				return nil
			})
			for _, k := range keys {
				if err := b.Delete(k); err != nil {
					return err
				}
			}
			return nil
		}
		orderOf := func(key []byte) bool { return bytes.Equal(orderKeyMerchant(key), mk) }
		jsonMerchant := func(v []byte) bool {
			var x struct {
				Merchant string `json:"merchant"`
				M        string `json:"m"`
			}
			return json.Unmarshal(v, &x) == nil && (x.Merchant == merchant || x.M == merchant)
		}
		var dels [][]byte
		_ = tx.Bucket(bucketOutbox).ForEach(func(k, v []byte) error {
			if jsonMerchant(v) {
				dels = append(dels, append([]byte(nil), k...))
			}
			return nil
		})
		steps := []error{
			del(bucketOrders, func(k, _ []byte) bool { return orderOf(k) }),
			del(bucketNumbers, func(_, v []byte) bool { return jsonMerchant(v) }),
			del(bucketTimers, func(k, _ []byte) bool { return len(k) > 8 && orderOf(k[8:]) }),
			del(bucketTokens, func(_, v []byte) bool { return jsonMerchant(v) }),
			del(bucketBalances, func(k, _ []byte) bool { return bytes.HasPrefix(k, append(mk, 0)) }),
			del(bucketLedger, func(_, v []byte) bool { return jsonMerchant(v) }),
			del(bucketOutbox, func(_, v []byte) bool { return jsonMerchant(v) }),
			del(bucketByOrder, func(k, _ []byte) bool { return orderOf(k[:len(k)-9]) }),
			del(bucketQueue, func(k, _ []byte) bool { return containsID(dels, k[8:]) }),
			del(bucketAttempts, func(k, _ []byte) bool { return containsID(dels, k[:8]) }),
		}
		return errors.Join(steps...)
	})
	if err != nil {
		return err
	}
	return s.EnsureBalances(opening)
}

func containsID(ids [][]byte, id []byte) bool {
	for _, x := range ids {
		if bytes.Equal(x, id) {
			return true
		}
	}
	return false
}
