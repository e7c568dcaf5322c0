// Package store keeps the sandbox's state in one bbolt file: orders, tokens, balances
// and their ledger, the callback outbox and its attempts, and timers for scheduled
// settlements. Writes go through a group committer: concurrent requests share one
// transaction and one fsync, and none is acknowledged before its data is on disk.
package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/vpay88/vpay88-sandbox/gateway"
)

// Errors callers map to the vendor's messages or to admin JSON errors.
var (
	ErrOrderExists         = errors.New("store: order id already used")
	ErrNotFound            = errors.New("store: not found")
	ErrInsufficientBalance = errors.New("store: balance not enough")
	ErrAlreadySettled      = errors.New("store: order already settled")
	ErrClosed              = errors.New("store: closed")
)

var (
	// bucketNumbers holds the orders themselves under their gateway number: keys only
	// grow, so writes append at the right edge and the file stays dense.
	bucketNumbers = []byte("orders_by_number")
	// bucketOrders is the unique index OrderKey → number; its entries are small, so the
	// pages that scattered order ids touch are few.
	bucketOrders   = []byte("orders_index")
	bucketTokens   = []byte("tokens")
	bucketBalances = []byte("balances")
	bucketLedger   = []byte("ledger")
	bucketOutbox   = []byte("outbox")
	bucketAttempts = []byte("attempts")
	bucketTimers   = []byte("timers")
	bucketQueue    = []byte("queue")
	bucketByOrder  = []byte("deliveries_by_order")
	allBuckets     = [][]byte{bucketNumbers, bucketOrders, bucketTokens, bucketBalances, bucketLedger, bucketOutbox, bucketAttempts, bucketTimers, bucketQueue, bucketByOrder}
	maxBatch       = 512
)

// appendFill is the fill percent of buckets whose keys only grow: pages are filled
// before a new one starts, instead of bbolt's half-full default.
const appendFill = 0.95

// Store is the sandbox's state over one bbolt file.
type Store struct {
	db  *bolt.DB
	Now func() time.Time

	reqs      chan *writeReq
	done      chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup
}

type writeReq struct {
	fn  func(tx *bolt.Tx) error
	err chan error
}

// Open opens or creates the bbolt file at path and starts the group committer.
func Open(path string) (*Store, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	// Creating buckets costs a write transaction; skip it when the file already has them,
	// so a restart reaches its first answer without an fsync.
	missing := false
	_ = db.View(func(tx *bolt.Tx) error {
		for _, b := range allBuckets {
			if tx.Bucket(b) == nil {
				missing = true
			}
		}
		return nil
	})
	if missing {
		if err := db.Update(func(tx *bolt.Tx) error {
			for _, b := range allBuckets {
				if _, err := tx.CreateBucketIfNotExists(b); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			db.Close()
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
	}
	s := &Store{db: db, Now: time.Now, reqs: make(chan *writeReq, 1024), done: make(chan struct{})}
	s.wg.Add(1)
	go s.commitLoop()
	return s, nil
}

// Close stops the committer after the writes already queued, then closes the file.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { close(s.done) })
	s.wg.Wait()
	return s.db.Close()
}

// DB exposes the bbolt handle for read-only use by tests and benchmarks.
func (s *Store) DB() *bolt.DB { return s.db }

// write runs fn inside a group-committed transaction and returns once it is durable.
// fn must check before it writes: when it returns an error it must have written
// nothing, because the transaction it shares with other requests still commits.
func (s *Store) write(fn func(tx *bolt.Tx) error) error {
	r := &writeReq{fn: fn, err: make(chan error, 1)}
	select {
	case s.reqs <- r:
	case <-s.done:
		return ErrClosed
	}
	return <-r.err
}

// commitLoop is the group committer: it takes every write queued while the previous
// fsync ran and commits them together. No timer: under no load a write commits at once,
// under load batches grow by themselves.
func (s *Store) commitLoop() {
	defer s.wg.Done()
	batch := make([]*writeReq, 0, maxBatch)
	for {
		var first *writeReq
		select {
		case first = <-s.reqs:
		case <-s.done:
			// Drain what was queued before Close so no caller waits forever.
			for {
				select {
				case r := <-s.reqs:
					r.err <- ErrClosed
				default:
					return
				}
			}
		}
		batch = append(batch[:0], first)
	fill:
		for len(batch) < maxBatch {
			select {
			case r := <-s.reqs:
				batch = append(batch, r)
			default:
				break fill
			}
		}
		errs := make([]error, len(batch))
		err := s.db.Update(func(tx *bolt.Tx) error {
			for i, r := range batch {
				errs[i] = runSafely(r.fn, tx)
			}
			return nil
		})
		for i, r := range batch {
			if err != nil {
				r.err <- err
			} else {
				r.err <- errs[i]
			}
		}
	}
}

func runSafely(fn func(tx *bolt.Tx) error, tx *bolt.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("store: write panicked: %v", p)
		}
	}()
	return fn(tx)
}

func u64(n uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, n)
	return b
}

func putJSON(b *bolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, data)
}

func getJSON(b *bolt.Bucket, key []byte, v any) bool {
	data := b.Get(key)
	if data == nil {
		return false
	}
	return json.Unmarshal(data, v) == nil
}

// OrderKey is the index key of an order: kind, merchant order id, merchant. Ids are
// unique per merchant and per kind; putting the order id before the merchant lets a
// lookup that names no merchant (check_status by a customer's username) scan a prefix.
func OrderKey(kind gateway.Kind, merchant, orderID string) []byte {
	k := make([]byte, 0, 3+len(merchant)+len(orderID))
	k = append(k, kind[0], 0)
	k = append(k, orderID...)
	k = append(k, 0)
	return append(k, merchant...)
}

// orderKeyMerchant returns the merchant part of an OrderKey.
func orderKeyMerchant(key []byte) []byte {
	parts := bytes.SplitN(key, []byte{0}, 3)
	if len(parts) != 3 {
		return nil
	}
	return parts[2]
}

// getOrder reads the order an index key names, with its number key.
func getOrder(tx *bolt.Tx, key []byte) (*gateway.Order, []byte) {
	n := tx.Bucket(bucketOrders).Get(key)
	if n == nil {
		return nil, nil
	}
	var o gateway.Order
	if !getJSON(tx.Bucket(bucketNumbers), n, &o) {
		return nil, nil
	}
	return &o, append([]byte(nil), n...)
}

// putOrder writes an order under its number.
func putOrder(tx *bolt.Tx, o *gateway.Order) error {
	b := tx.Bucket(bucketNumbers)
	b.FillPercent = appendFill
	return putJSON(b, u64(o.Number), o)
}
