package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/vpay88/vpay88-sandbox/gateway"
)

// The admin lists read a page, not the store: orders and callbacks are listed from
// indexes that keep them newest first per kind, status or state and merchant, and
// their totals come from counters kept in the same transactions as the records.
var (
	// bucketOrderList holds two key families per order, newest last:
	//   'a' kind status number            (every merchant)
	//   'm' merchant 0 kind status number (one merchant)
	bucketOrderList = []byte("orders_list")
	// bucketDeliveryList is the same for callbacks: 'a' state id, 'm' merchant 0 state id.
	bucketDeliveryList = []byte("deliveries_list")
	// bucketCounts holds counters: 'o' merchant 0 kind status currency → orders,
	// 'd' merchant 0 state → deliveries, 'l' merchant 0 currency → ledger entries.
	bucketCounts = []byte("counts")
	// bucketMeta records the layout version, so an older file gets its indexes built
	// once at start-up.
	bucketMeta = []byte("meta")
)

// layoutVersion is the version of the index layout; a file with an older one is
// brought to it by Open (migrate). Version 4 lists every order in the transaction that
// stores it; version 3 listed them up to a watermark (tail.go); version 2 as 4 does.
const layoutVersion = 4

var keyLayout = []byte("layout")

// statusByte and stateByte give each status and delivery state one byte of an index
// key. An unknown value (a file written by a newer build) sorts apart as 'x'.
func statusByte(s gateway.Status) byte {
	switch s {
	case gateway.StatusPending:
		return 'p'
	case gateway.StatusCompleted:
		return 'c'
	case gateway.StatusFail:
		return 'f'
	case gateway.StatusRejected:
		return 'r'
	}
	return 'x'
}

var allStatuses = gateway.Statuses()

func stateByte(s string) byte {
	switch s {
	case DeliveryPending:
		return 'p'
	case DeliveryDelivered:
		return 'd'
	case DeliveryFailed:
		return 'f'
	case DeliveryDropped:
		return 'x'
	}
	return 'u'
}

var allStates = gateway.CallbackStates()

func kindByte(k gateway.Kind) byte {
	if k == "" {
		return 0
	}
	return k[0]
}

// orderListPrefixes are the two list-index prefixes of an order (without its number).
func orderListPrefix(merchant string, kind gateway.Kind, status gateway.Status) []byte {
	if merchant == "" {
		return []byte{'a', kindByte(kind), statusByte(status)}
	}
	k := make([]byte, 0, len(merchant)+4)
	k = append(k, 'm')
	k = append(k, merchant...)
	return append(k, 0, kindByte(kind), statusByte(status))
}

func orderCountKey(merchant string, kind gateway.Kind, status gateway.Status, currency string) []byte {
	k := make([]byte, 0, len(merchant)+len(currency)+4)
	k = append(k, 'o')
	k = append(k, merchant...)
	k = append(k, 0, kindByte(kind), statusByte(status))
	return append(k, currency...)
}

func deliveryListPrefix(merchant, state string) []byte {
	if merchant == "" {
		return []byte{'a', stateByte(state)}
	}
	k := make([]byte, 0, len(merchant)+3)
	k = append(k, 'm')
	k = append(k, merchant...)
	return append(k, 0, stateByte(state))
}

func deliveryCountKey(merchant, state string) []byte {
	k := make([]byte, 0, len(merchant)+3)
	k = append(k, 'd')
	k = append(k, merchant...)
	return append(k, 0, stateByte(state))
}

// present is the value of a key whose presence is the record (list, timer and
// by-order entries). It must not be nil: bbolt's Get answers nil for a key put with a
// nil value until the transaction commits, and a write may read such a key in the
// transaction that put it.
var present = []byte{}

// addCount changes a counter by delta; a counter that reaches zero is deleted.
func addCount(tx *bolt.Tx, key []byte, delta int64) error {
	b := tx.Bucket(bucketCounts)
	var n int64
	if v := b.Get(key); len(v) == 8 {
		n = int64(binary.BigEndian.Uint64(v))
	}
	n += delta
	if n <= 0 {
		return b.Delete(key)
	}
	return b.Put(key, u64(uint64(n)))
}

// indexOrder adds (delta 1) or removes (delta -1) an order's list entries and count.
func indexOrder(tx *bolt.Tx, o *gateway.Order, delta int64) error {
	err := listEntries(tx.Bucket(bucketOrderList), u64(o.Number), delta,
		orderListPrefix("", o.Kind, o.Status), orderListPrefix(o.Merchant, o.Kind, o.Status))
	if err != nil {
		return err
	}
	return addCount(tx, orderCountKey(o.Merchant, o.Kind, o.Status, o.Currency), delta)
}

// listEntries puts (delta > 0) or deletes the list entries prefix+id of a record.
func listEntries(b *bolt.Bucket, id []byte, delta int64, prefixes ...[]byte) error {
	b.FillPercent = appendFill
	for _, p := range prefixes {
		k := append(p, id...)
		var err error
		if delta > 0 {
			err = b.Put(k, present)
		} else {
			err = b.Delete(k)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// reindexOrder moves an order's list entries when its status changed.
func reindexOrder(tx *bolt.Tx, before, after *gateway.Order) error {
	if before.Status == after.Status {
		return nil
	}
	if err := indexOrder(tx, before, -1); err != nil {
		return err
	}
	return indexOrder(tx, after, 1)
}

// indexDelivery adds or removes a delivery's list entries and count.
func indexDelivery(tx *bolt.Tx, d *Delivery, delta int64) error {
	err := listEntries(tx.Bucket(bucketDeliveryList), u64(d.ID), delta,
		deliveryListPrefix("", d.State), deliveryListPrefix(d.Merchant, d.State))
	if err != nil {
		return err
	}
	return addCount(tx, deliveryCountKey(d.Merchant, d.State), delta)
}

// reindexDelivery moves a delivery's list entries when its state changed.
func reindexDelivery(tx *bolt.Tx, before, after *Delivery) error {
	if before.State == after.State {
		return nil
	}
	if err := indexDelivery(tx, before, -1); err != nil {
		return err
	}
	return indexDelivery(tx, after, 1)
}

// newestFirst merges reverse scans of several index prefixes whose keys end in a
// big-endian number: it yields numbers from the highest down, each once, starting
// below before (0: from the newest). Every prefix holds its own ascending run, so the
// merge reads exactly as many keys as it yields, plus one per prefix.
type newestFirst struct {
	curs     []*bolt.Cursor
	prefixes [][]byte
	heads    []uint64 // 0: exhausted
}

func newNewestFirst(b *bolt.Bucket, prefixes [][]byte, before uint64) *newestFirst {
	m := &newestFirst{prefixes: prefixes, heads: make([]uint64, len(prefixes))}
	for i, p := range prefixes {
		c := b.Cursor()
		m.curs = append(m.curs, c)
		var k []byte
		if before == 0 {
			// The last key with this prefix: seek past it, then step back.
			k, _ = c.Seek(append(append([]byte(nil), p...), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff))
		} else {
			k, _ = c.Seek(append(append([]byte(nil), p...), u64(before)...))
		}
		if k == nil {
			k, _ = c.Last()
		} else {
			k, _ = c.Prev()
		}
		m.heads[i] = m.take(i, k)
	}
	return m
}

// take returns the number of k if it belongs to prefix i, else 0.
func (m *newestFirst) take(i int, k []byte) uint64 {
	p := m.prefixes[i]
	if k == nil || len(k) != len(p)+8 || !bytes.HasPrefix(k, p) {
		return 0
	}
	return binary.BigEndian.Uint64(k[len(p):])
}

// next returns the next number, or 0 when every prefix is exhausted.
func (m *newestFirst) next() uint64 {
	best := -1
	for i, h := range m.heads {
		if h != 0 && (best < 0 || h > m.heads[best]) {
			best = i
		}
	}
	if best < 0 {
		return 0
	}
	n := m.heads[best]
	k, _ := m.curs[best].Prev()
	m.heads[best] = m.take(best, k)
	return n
}

// buildIndexes writes the list indexes and counters of every order and delivery, for
// a file written before they existed (or after a failed migration).
func buildIndexes(tx *bolt.Tx) error {
	for _, name := range [][]byte{bucketOrderList, bucketDeliveryList, bucketCounts} {
		if tx.Bucket(name) != nil {
			if err := tx.DeleteBucket(name); err != nil {
				return err
			}
		}
		if _, err := tx.CreateBucket(name); err != nil {
			return err
		}
	}
	err := tx.Bucket(bucketNumbers).ForEach(func(k, v []byte) error {
		o, err := decodeOrder(v)
		if err != nil {
			return err
		}
		return indexOrder(tx, o, 1)
	})
	if err != nil {
		return err
	}
	err = tx.Bucket(bucketOutbox).ForEach(func(k, v []byte) error {
		d, err := decodeDelivery(v)
		if err != nil {
			return err
		}
		return indexDelivery(tx, d, 1)
	})
	if err != nil {
		return err
	}
	err = tx.Bucket(bucketLedger).ForEach(func(k, v []byte) error {
		var e LedgerEntry
		if err := json.Unmarshal(v, &e); err != nil {
			return fmt.Errorf("%w: ledger entry %x: %v", ErrCorrupt, k, err)
		}
		return addCount(tx, ledgerCountKey(e.Merchant, e.Currency), 1)
	})
	if err != nil {
		return err
	}
	meta, err := tx.CreateBucketIfNotExists(bucketMeta)
	if err != nil {
		return err
	}
	if err := meta.Delete(keyIndexed); err != nil {
		return err
	}
	return meta.Put(keyLayout, u64(layoutVersion))
}
