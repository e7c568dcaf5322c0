package store

import (
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/vpay88/vpay88-sandbox/gateway"
)

// Orders are listed in batches. Writing a new order's two list entries and its counter
// in the request's own commit was a third of the pages that commit wrote (4.7 of 13.7)
// and more than half of its garbage (41 of 73 KB), in BenchmarkCreateDeposit/
// SerialNoSync: a list leaf holds some two hundred small keys, and bbolt decodes and
// re-encodes the whole leaf to add one. So the lists and counters cover the orders
// numbered up to a watermark (meta "indexed"); newer orders, the tail, are listed in
// one later commit for many at once, by the background indexer or by whoever reads
// the lists first (catchUp). The watermark moves in the same transaction as the
// entries it covers, so every transaction sees lists that are whole up to it, and
// none for the orders above it. An ephemeral store's open transaction lists its
// orders at once while no tail waits: there the list pages stay decoded from one write
// to the next, which costs less than the indexer's decode of each order later.

// listFields are the fields of a stored order that its list entries and count name.
type listFields struct {
	Kind     gateway.Kind   `json:"kind"`
	Merchant string         `json:"merchant"`
	Status   gateway.Status `json:"status"`
	Currency string         `json:"currency"`
}

// keyIndexed holds the watermark: the orders numbered up to it are listed.
var keyIndexed = []byte("indexed")

// indexDelay is how long the indexer lets new orders gather before it lists them in
// one commit. Nothing waits for it (readers catch up themselves); it only trades how
// many orders share the commit against how long the tail stays unlisted.
const indexDelay = 5 * time.Millisecond

// indexedUpTo returns the watermark.
func indexedUpTo(tx *bolt.Tx) uint64 { return beU64(tx.Bucket(bucketMeta).Get(keyIndexed)) }

// setIndexed moves the watermark.
func setIndexed(tx *bolt.Tx, n uint64) error { return tx.Bucket(bucketMeta).Put(keyIndexed, u64(n)) }

// listed reports whether order number n has its list entries and count.
func listed(tx *bolt.Tx, n uint64) bool { return n <= indexedUpTo(tx) }

// tailPending reports whether orders were numbered above the watermark.
func tailPending(tx *bolt.Tx) bool {
	return tx.Bucket(bucketNumbers).Sequence() > indexedUpTo(tx)
}

// indexTail lists every order above the watermark and moves it to the last number
// given out (numbers of orders deleted since, or never stored, need nothing).
func indexTail(tx *bolt.Tx) error {
	from := indexedUpTo(tx)
	seq := tx.Bucket(bucketNumbers).Sequence()
	if seq <= from {
		return nil
	}
	c := tx.Bucket(bucketNumbers).Cursor()
	for k, v := c.Seek(u64(from + 1)); k != nil; k, v = c.Next() {
		var l listFields
		if err := json.Unmarshal(v, &l); err != nil {
			return fmt.Errorf("%w: order %x: %v", ErrCorrupt, k, err)
		}
		o := gateway.Order{Number: beU64(k), Kind: l.Kind, Merchant: l.Merchant, Status: l.Status, Currency: l.Currency}
		if err := indexOrder(tx, &o, 1); err != nil {
			return err
		}
	}
	return setIndexed(tx, seq)
}

// catchUp lists the tail before a read of the lists, so that every order acknowledged
// before the read is in it. It costs nothing when the indexer is level.
func (s *Store) catchUp() error {
	pending := false
	if err := s.view(func(tx *bolt.Tx) error { pending = tailPending(tx); return nil }); err != nil {
		return err
	}
	if !pending {
		return nil
	}
	return s.write(indexTail)
}

// kickIndexer tells the indexer that new orders wait to be listed.
func (s *Store) kickIndexer() {
	select {
	case s.kick <- struct{}{}:
	default: // a kick is already waiting
	}
}

// haltIndexer stops the indexer and waits for it; the tail it leaves is listed by the
// next reader or the next Open.
func (s *Store) haltIndexer() {
	s.stopOnce.Do(func() { close(s.stopIndexer) })
	<-s.indexerDone
}

// indexer lists the tail in the background, one commit per burst of new orders. Its
// write joins the group commit like any other, so under load it shares a batch (and
// its fsync) with requests. A failed round is left to the next kick or to a reader's
// catchUp, which reports the error; nothing is lost meanwhile.
func (s *Store) indexer() {
	defer close(s.indexerDone)
	for {
		select {
		case <-s.kick:
		case <-s.stopIndexer:
			return
		}
		t := time.NewTimer(indexDelay)
		select {
		case <-t.C:
		case <-s.stopIndexer:
			t.Stop()
			return
		}
		_ = s.catchUp() // no commit when a reader or the open transaction listed them
	}
}
