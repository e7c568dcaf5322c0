package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

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

// Ledger reasons (gateway's, where the movements are computed).
const (
	ReasonOpening        = gateway.ReasonOpening
	ReasonDepositCredit  = gateway.ReasonDepositCredit
	ReasonPayoutReserve  = gateway.ReasonPayoutReserve
	ReasonPayoutComplete = gateway.ReasonPayoutComplete
	ReasonPayoutRelease  = gateway.ReasonPayoutRelease
	ReasonAdminSet       = gateway.ReasonAdminSet
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
	err := s.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketBalances)
		for _, o := range opening {
			if b.Get(balanceKey(o.Merchant, o.Currency)) == nil {
				missing = append(missing, o)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(missing) == 0 {
		return nil
	}
	return s.write(func(tx *bolt.Tx) error { return s.ensureOpening(tx, missing) })
}

// ensureOpening writes those of the opening balances that tx does not have yet.
func (s *Store) ensureOpening(tx *bolt.Tx, opening []Balance) error {
	for _, o := range opening {
		if tx.Bucket(bucketBalances).Get(balanceKey(o.Merchant, o.Currency)) != nil {
			continue
		}
		if err := s.setBalance(tx, Balance{Merchant: o.Merchant, Currency: o.Currency}, o.Available, 0, ReasonOpening, "", ""); err != nil {
			return err
		}
	}
	return nil
}

// move applies a movement to a merchant's balance in one currency, with its ledger
// entry.
func (s *Store) move(tx *bolt.Tx, merchant, currency string, mv gateway.Movement, kind gateway.Kind, orderID string) error {
	bal, err := getBalance(tx, merchant, currency)
	if err != nil {
		return err
	}
	return s.setBalance(tx, bal, mv.Available, mv.Reserved, mv.Reason, kind, orderID)
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
	seq, err := lb.NextSequence()
	if err != nil {
		return err
	}
	if err := addCount(tx, ledgerCountKey(bal.Merchant, bal.Currency), 1); err != nil {
		return err
	}
	return putJSON(lb, u64(seq), LedgerEntry{Seq: seq, Time: s.Now().UTC(), Merchant: bal.Merchant, Currency: bal.Currency,
		Reason: reason, Kind: kind, OrderID: orderID, Available: dAvail, Reserved: dRes})
}

func getBalance(tx *bolt.Tx, merchant, currency string) (Balance, error) {
	bal := Balance{Merchant: merchant, Currency: currency}
	_, err := getJSON(tx.Bucket(bucketBalances), balanceKey(merchant, currency), &bal)
	return bal, err
}

// Balances returns the balances of a merchant (all merchants when merchant is "").
func (s *Store) Balances(merchant string) ([]Balance, error) {
	var out []Balance
	err := s.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketBalances).ForEach(func(k, v []byte) error {
			var b Balance
			if err := json.Unmarshal(v, &b); err != nil {
				return fmt.Errorf("%w: balance %q: %v", ErrCorrupt, k, err)
			}
			if merchant == "" || b.Merchant == merchant {
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
		bal, err := getBalance(tx, merchant, currency)
		if err != nil {
			return err
		}
		if err := s.setBalance(tx, bal, available-bal.Available, 0, ReasonAdminSet, "", ""); err != nil {
			return err
		}
		out, err = getBalance(tx, merchant, currency)
		return err
	})
	return out, err
}

// Ledger returns the ledger entries of a merchant ("" for all), oldest first: the
// whole ledger, for checks; the admin API pages with LedgerPage.
func (s *Store) Ledger(merchant string) ([]LedgerEntry, error) {
	var out []LedgerEntry
	err := s.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketLedger).ForEach(func(k, v []byte) error {
			var e LedgerEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("%w: ledger entry %x: %v", ErrCorrupt, k, err)
			}
			if merchant == "" || e.Merchant == merchant {
				out = append(out, e)
			}
			return nil
		})
	})
	return out, err
}

// LedgerFilter selects ledger entries for LedgerPage.
type LedgerFilter struct {
	Merchant, Currency string
	Before             uint64 // cursor: entries with a lower seq only (0: from the newest)
	Offset, Limit      int
}

// LedgerEntries is one page of the ledger, newest first.
type LedgerEntries struct {
	Entries []LedgerEntry
	Total   int    // every entry that matches, from the counters
	Next    uint64 // cursor of the next page (0: the last page)
	// NextOffset is what is left of Offset to skip from Next (see OrderPage).
	NextOffset int
}

// LedgerPage returns a page of the ledger, newest first. The ledger has no index per
// account: entries of other accounts are skipped as they are read, which costs a
// page when the account is active; when it is not, a page ends after maxScan entries
// read, with a cursor (Next, NextOffset) to go on below them.
func (s *Store) LedgerPage(f LedgerFilter) (LedgerEntries, error) {
	var page LedgerEntries
	if f.Limit <= 0 {
		f.Limit = 50
	}
	err := s.view(func(tx *bolt.Tx) error {
		prefix := []byte{'l'}
		if f.Merchant != "" {
			prefix = append(append(prefix, f.Merchant...), 0)
		}
		c := tx.Bucket(bucketCounts).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			if f.Currency == "" || bytes.HasSuffix(k, append([]byte{0}, f.Currency...)) {
				page.Total += int(beU64(v))
			}
		}
		if page.Total == 0 {
			return nil // nothing to scan for
		}
		lc := tx.Bucket(bucketLedger).Cursor()
		k, v := lc.Last()
		if f.Before != 0 {
			if k, _ = lc.Seek(u64(f.Before)); k == nil {
				k, v = lc.Last()
			} else {
				k, v = lc.Prev()
			}
		}
		// Without a filter every entry matches and none is read in vain; with one, a
		// page reads at most maxScan entries and then ends with a cursor.
		p := scanPage{offset: f.Offset, limit: f.Limit, checked: f.Merchant != "" || f.Currency != ""}
		for ; k != nil; k, v = lc.Prev() {
			if read, stop := p.enter(beU64(k)); stop {
				break
			} else if !read {
				continue
			}
			var e LedgerEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("%w: ledger entry %x: %v", ErrCorrupt, k, err)
			}
			if p.take((f.Merchant == "" || e.Merchant == f.Merchant) && (f.Currency == "" || e.Currency == f.Currency)) {
				page.Entries = append(page.Entries, e)
			}
		}
		page.Next, page.NextOffset = p.next, p.nextOffset
		return nil
	})
	return page, err
}

func ledgerCountKey(merchant, currency string) []byte {
	return []byte("l" + merchant + "\x00" + currency)
}

// PutToken stores an auth token for merchant, valid until expires.
func (s *Store) PutToken(token, merchant string, expires time.Time) error {
	rec := tokenRecord{Merchant: merchant, Expires: expires}
	_, _, gen := s.tokens.get(token)
	err := s.write(func(tx *bolt.Tx) error {
		if merchantGone(tx, merchant) {
			return ErrMerchantGone
		}
		return putJSON(tx.Bucket(bucketTokens), []byte(token), rec)
	})
	if err == nil {
		s.tokens.put(token, rec, gen)
	}
	return err
}

// TokenMerchant returns the merchant a live token belongs to; an expired token is an
// unknown token.
// A token record that does not decode is an unknown token too: the merchant gets the
// vendor's refusal and calls /merchant/auth again.
func (s *Store) TokenMerchant(token string) (string, bool) {
	rec, ok, gen := s.tokens.get(token)
	if !ok {
		err := s.view(func(tx *bolt.Tx) (err error) {
			ok, err = getJSON(tx.Bucket(bucketTokens), []byte(token), &rec)
			return err
		})
		if err != nil || !ok {
			return "", false
		}
		s.tokens.put(token, rec, gen)
	}
	if !s.Now().Before(rec.Expires) {
		return "", false
	}
	return rec.Merchant, true
}

// PurgeExpiredTokens deletes tokens past their lifetime, so the file does not grow
// with every /merchant/auth call of a long CI run.
func (s *Store) PurgeExpiredTokens() (int, error) {
	n := 0
	now := s.Now()
	expired := func(b *bolt.Bucket) (dead [][]byte) {
		_ = b.ForEach(func(k, v []byte) error {
			var rec tokenRecord
			if json.Unmarshal(v, &rec) != nil || !now.Before(rec.Expires) {
				dead = append(dead, append([]byte(nil), k...))
			}
			return nil
		})
		return dead
	}
	// Most rounds find nothing: look first, so they cost no commit (and no fsync).
	any := false
	if err := s.view(func(tx *bolt.Tx) error { any = len(expired(tx.Bucket(bucketTokens))) > 0; return nil }); err != nil || !any {
		return 0, err
	}
	err := s.write(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketTokens)
		dead := expired(b)
		for _, k := range dead {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		n = len(dead)
		return nil
	})
	s.tokens.forget()
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
	return s.createOrder(o, func(tx *bolt.Tx, o *gateway.Order) error {
		bal, err := getBalance(tx, o.Merchant, o.Currency)
		if err != nil {
			return err
		}
		if bal.Available < o.Reserved {
			return ErrInsufficientBalance
		}
		mv := gateway.ReserveMovement(*o)
		return s.setBalance(tx, bal, mv.Available, mv.Reserved, mv.Reason, o.Kind, o.OrderID)
	})
}

// createOrder stores a new order, with also's change (a payout's reservation) in the
// same transaction.
func (s *Store) createOrder(o *gateway.Order, also func(tx *bolt.Tx, o *gateway.Order) error) error {
	return s.write(func(tx *bolt.Tx) error { return s.insertOrder(tx, o, also) })
}

// insertOrder is createOrder's change: the order, its id index entry, its list
// entries and count, and its timer.
func (s *Store) insertOrder(tx *bolt.Tx, o *gateway.Order, also func(tx *bolt.Tx, o *gateway.Order) error) error {
	idx := tx.Bucket(bucketOrders)
	// Merchants' ids mostly grow per client (a counter, a date): dense pages suit
	// that, and a random id only splits a page a little earlier.
	idx.FillPercent = appendFill
	if merchantGone(tx, o.Merchant) {
		return ErrMerchantGone
	}
	key := OrderKey(o.Kind, o.Merchant, o.OrderID)
	if len(key)+8 > bolt.MaxKeySize {
		return bolterrors.ErrKeyTooLarge
	}
	if idx.Get(key) != nil {
		return ErrOrderExists
	}
	if also != nil {
		if err := also(tx, o); err != nil {
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
	if err := indexOrder(tx, o, 1); err != nil {
		return err
	}
	if !o.SettleAt.IsZero() {
		tb := tx.Bucket(bucketTimers)
		if err := tb.Put(timerKey(o.SettleAt, key), present); err != nil {
			return err
		}
	}
	return putOrder(tx, o)
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
	return s.readOrder(OrderKey(kind, merchant, orderID), orderAt)
}

// orderReader reads the order stored under a number key, or nil: whole (orderAt) or
// only its head (headAt).
type orderReader func(tx *bolt.Tx, n []byte) (*gateway.Order, error)

// readOrder reads the order an index key names; ErrNotFound when there is none.
func (s *Store) readOrder(key []byte, read orderReader) (*gateway.Order, error) {
	var o *gateway.Order
	err := s.view(func(tx *bolt.Tx) (err error) {
		if n := tx.Bucket(bucketOrders).Get(key); n != nil {
			o, err = read(tx, n)
		}
		return err
	})
	if err == nil && o == nil {
		err = ErrNotFound
	}
	return o, err
}

// OrderByNumber returns an order by its gateway number (the checkout page's id).
func (s *Store) OrderByNumber(n uint64) (*gateway.Order, error) {
	var o *gateway.Order
	err := s.view(func(tx *bolt.Tx) (err error) {
		o, err = orderAt(tx, u64(n))
		return err
	})
	if err == nil && o == nil {
		err = ErrNotFound
	}
	return o, err
}

// FindOrders returns the orders of a kind with the given merchant order id, across
// merchants.
func (s *Store) FindOrders(kind gateway.Kind, orderID string) ([]*gateway.Order, error) {
	return s.findOrders(kind, orderID, orderAt)
}

func (s *Store) findOrders(kind gateway.Kind, orderID string, read orderReader) ([]*gateway.Order, error) {
	var out []*gateway.Order
	err := s.view(func(tx *bolt.Tx) error {
		prefix := OrderKey(kind, "", orderID)
		c := tx.Bucket(bucketOrders).Cursor()
		for k, n := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, n = c.Next() {
			o, err := read(tx, n)
			if err != nil {
				return err
			}
			if o != nil {
				out = append(out, o)
			}
		}
		return nil
	})
	return out, err
}

// OrderFilter selects orders for ListOrders.
type OrderFilter struct {
	Kind     gateway.Kind
	Status   gateway.Status
	Merchant string
	Currency string
	Prefix   string // merchant order id prefix
	// Before is a cursor: only orders numbered below it (0: from the newest).
	Before uint64
	Offset int
	Limit  int
}

// OrderPage is one page of ListOrders.
type OrderPage struct {
	Orders []*gateway.Order
	// Total counts every order that matches the filter (ignoring Before and Offset).
	Total int
	// Next is the cursor of the next page (0: this is the last). A page that a
	// filter's scan bound ended may hold fewer than Limit orders, or none, and still
	// have a Next.
	Next uint64
	// NextOffset is what is left of Offset to skip from Next: the scan bound came
	// before the offset was skipped. The next page is Before: Next, Offset: NextOffset.
	NextOffset int
}

// maxScan bounds how many records a list with a filter its indexes do not cover (an
// order's currency or id prefix, a ledger entry's account) reads for one page: the
// page then ends where the scan stopped, with a cursor to go on from there. A variable
// only so that a test under -race can lower it.
var maxScan = 100_000

// ListOrders returns a page of the orders that match f, newest first. It reads the
// list indexes of the kinds and statuses asked for (for one merchant when one is
// named), so a page costs its own entries, not the store; the total comes from the
// counters, or from the order id index when a prefix is given.
func (s *Store) ListOrders(f OrderFilter) (OrderPage, error) {
	var page OrderPage
	if f.Limit <= 0 {
		f.Limit = 50
	}
	kinds := gateway.Kinds()
	if f.Kind != "" {
		kinds = []gateway.Kind{f.Kind}
	}
	statuses := allStatuses
	if f.Status != "" {
		statuses = []gateway.Status{f.Status}
	}
	err := s.view(func(tx *bolt.Tx) error {
		var prefixes [][]byte
		for _, k := range kinds {
			for _, st := range statuses {
				prefixes = append(prefixes, orderListPrefix(f.Merchant, k, st))
			}
		}
		var err error
		if f.Prefix != "" {
			page.Total, err = countByPrefix(tx, f, kinds)
		} else {
			page.Total, err = countOrders(tx, f, kinds, statuses)
		}
		if err != nil {
			return err
		}
		if page.Total == 0 {
			return nil // nothing to scan for
		}
		it := newNewestFirst(tx.Bucket(bucketOrderList), prefixes, f.Before)
		// Without a currency or prefix, every entry of these indexes matches: the offset
		// is stepped over on the index alone, and a page reads its own orders only.
		// With one, orders are read and checked one by one, at most maxScan per page.
		p := scanPage{offset: f.Offset, limit: f.Limit, checked: f.Currency != "" || f.Prefix != ""}
		for n := it.next(); n != 0; n = it.next() {
			if read, stop := p.enter(n); stop {
				break
			} else if !read {
				continue
			}
			o, err := orderAt(tx, u64(n))
			if err != nil {
				return err
			}
			if p.take(o != nil && (f.Currency == "" || o.Currency == f.Currency) && strings.HasPrefix(o.OrderID, f.Prefix)) {
				page.Orders = append(page.Orders, o)
			}
		}
		page.Next, page.NextOffset = p.next, p.nextOffset
		return nil
	})
	return page, err
}

// scanPage walks one page of a newest-first list: it skips the offset, takes up to
// limit entries, and, when the filter must read entries to check them (checked), stops
// after maxScan of them. The bound ends the page, not the list: next (and nextOffset,
// what is left of the offset) go on below the last entry read.
type scanPage struct {
	offset, limit    int
	checked          bool
	skipped, scanned int
	taken            int
	last, lastTaken  uint64
	next             uint64
	nextOffset       int
}

// enter is called with each entry's number in turn: read says to read and check it
// (then call take), stop that the page ended before it.
func (p *scanPage) enter(n uint64) (read, stop bool) {
	switch {
	case p.taken == p.limit:
		p.next = p.lastTaken
		return false, true
	case !p.checked && p.skipped < p.offset:
		p.skipped++ // it matches, unread
		return false, false
	case p.checked && p.scanned == maxScan:
		p.next, p.nextOffset = p.last, p.offset-p.skipped
		return false, true
	}
	p.scanned++
	p.last = n
	return true, false
}

// take is told whether the entry read matches, and says whether it goes on the page.
func (p *scanPage) take(match bool) bool {
	switch {
	case !match:
		return false
	case p.skipped < p.offset:
		p.skipped++
		return false
	}
	p.taken++
	p.lastTaken = p.last
	return true
}

// countOrders sums the counters that match a filter without an order id prefix.
func countOrders(tx *bolt.Tx, f OrderFilter, kinds []gateway.Kind, statuses []gateway.Status) (int, error) {
	total := 0
	c := tx.Bucket(bucketCounts).Cursor()
	prefix := []byte{'o'}
	if f.Merchant != "" {
		prefix = append(append(prefix, f.Merchant...), 0)
	}
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		i := bytes.IndexByte(k, 0)
		if i < 0 || len(k) < i+3 {
			return 0, fmt.Errorf("%w: counter %q", ErrCorrupt, k)
		}
		kb, sb, cur := k[i+1], k[i+2], string(k[i+3:])
		if !slices.ContainsFunc(kinds, func(x gateway.Kind) bool { return kindByte(x) == kb }) ||
			!slices.ContainsFunc(statuses, func(x gateway.Status) bool { return statusByte(x) == sb }) ||
			(f.Currency != "" && cur != f.Currency) {
			continue
		}
		total += int(beU64(v))
	}
	return total, nil
}

// countByPrefix counts the orders whose id starts with f.Prefix through the unique
// order id index (its keys begin with kind and order id), checking the other filters
// record by record.
func countByPrefix(tx *bolt.Tx, f OrderFilter, kinds []gateway.Kind) (int, error) {
	total := 0
	for _, k := range kinds {
		p := append([]byte{kindByte(k), 0}, f.Prefix...)
		c := tx.Bucket(bucketOrders).Cursor()
		for key, n := c.Seek(p); key != nil && bytes.HasPrefix(key, p); key, n = c.Next() {
			if f.Merchant != "" && string(orderKeyMerchant(key)) != f.Merchant {
				continue
			}
			if f.Status == "" && f.Currency == "" {
				total++
				continue
			}
			o, err := orderAt(tx, n)
			if err != nil {
				return 0, err
			}
			if o != nil && (f.Status == "" || o.Status == f.Status) && (f.Currency == "" || o.Currency == f.Currency) {
				total++
			}
		}
	}
	return total, nil
}

// NextDue returns when the earliest scheduled settlement is due.
func (s *Store) NextDue() (time.Time, bool, error) {
	var at time.Time
	var ok bool
	err := s.view(func(tx *bolt.Tx) error {
		if k, _ := tx.Bucket(bucketTimers).Cursor().First(); k != nil {
			at, ok = time.Unix(0, int64(beU64(k[:8]))), true
		}
		return nil
	})
	return at, ok, err
}
