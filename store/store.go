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
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/vpay88/vpay88-sandbox/clock"
	"github.com/vpay88/vpay88-sandbox/gateway"
)

// Errors callers map to the vendor's messages or to admin JSON errors.
var (
	ErrOrderExists         = errors.New("store: order id already used")
	ErrNotFound            = errors.New("store: not found")
	ErrInsufficientBalance = errors.New("store: balance not enough")
	ErrAlreadySettled      = errors.New("store: order already settled")
	ErrClosed              = errors.New("store: closed")
	// ErrCorrupt is a record that does not decode: a damaged file, never "absent".
	ErrCorrupt = errors.New("store: corrupt record")
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
	allBuckets     = [][]byte{bucketNumbers, bucketOrders, bucketTokens, bucketBalances, bucketLedger, bucketOutbox, bucketAttempts, bucketTimers, bucketQueue, bucketByOrder, bucketOrderList, bucketDeliveryList, bucketCounts, bucketMeta}
	maxBatch       = 512
)

// appendFill is the fill percent of buckets whose keys only grow: pages are filled
// before a new one starts, instead of bbolt's half-full default.
const appendFill = 0.95

// Store is the sandbox's state over one bbolt file.
type Store struct {
	db    *bolt.DB
	clock *clock.Clock

	// Group commit, leader and followers: a write queues itself; when no write leads,
	// it leads: it commits everything queued, its own write and the others', in one
	// transaction and one fsync (write, lead). Writes that queue while a commit runs
	// share the next one. A lone writer commits on its own goroutine, with no handoff
	// to a committer goroutine and back (two goroutine switches per write).
	wmu     sync.Mutex // held by the leader while it commits, and by Close
	qmu     sync.Mutex // guards queue, leading and closed
	queue   []*writeReq
	leading bool // a write is leading: the others queue and wait for their answer
	closed  bool

	tokens tokenCache // tokens.go

	log *slog.Logger
	// damage is the refusal writes answer once a read found the file damaged
	// (damage.go).
	damage atomic.Pointer[error]
}

type writeReq struct {
	fn  func(tx *bolt.Tx) error
	err chan error
}

// Open opens or creates the bbolt file at path and starts the group committer. A file
// that is damaged, not a state file, or in use by another process is an error that
// names the file and what to do, never a crash (see checkFile).
func Open(path string, opts ...Option) (*Store, error) {
	o := options{clock: nil}
	for _, f := range opts {
		f(&o)
	}
	if o.clock == nil {
		o.clock = clock.Real()
	}
	if o.log == nil {
		o.log = slog.Default()
	}
	if !o.template {
		startFromTemplate(path, !o.ephemeral)
	}
	db, err := openDB(path, o.noSync)
	if err != nil {
		return nil, err
	}
	// Creating buckets costs a write transaction; skip it when the file already has them
	// at the current layout, so a restart reaches its first answer without an fsync.
	current := false
	err = safeView(db, func(tx *bolt.Tx) error {
		current = true
		for _, b := range allBuckets {
			if tx.Bucket(b) == nil {
				current = false
			}
		}
		if m := tx.Bucket(bucketMeta); current && m != nil {
			current = beU64(m.Get(keyLayout)) == layoutVersion
		}
		return nil
	})
	if err == nil && !current {
		err = safeUpdate(db, func(tx *bolt.Tx) error {
			for _, b := range allBuckets {
				if _, err := tx.CreateBucketIfNotExists(b); err != nil {
					return err
				}
			}
			return migrate(tx)
		})
	}
	if err != nil {
		db.Close()
		return nil, damaged(path, err)
	}
	db.NoSync = o.noSync
	return &Store{db: db, clock: o.clock, log: o.log}, nil
}

// Option configures Open.
type Option func(*options)

type options struct {
	clock  *clock.Clock
	log    *slog.Logger
	noSync bool
	// template: this Open makes the empty state file itself, not from the embedded
	// copy (template_test.go compares the two).
	template bool
	// ephemeral: the file is thrown away at exit (Ephemeral).
	ephemeral bool
}

// WithoutSync skips the fsync of every commit (bbolt's NoSync, and NoFreelistSync):
// writes survive a killed process (the kernel holds the pages) but not a machine
// crash. Durability "process" uses it; so do tests that fill a store.
func WithoutSync() Option { return func(o *options) { o.noSync = true } }

// Ephemeral is WithoutSync for a file thrown away at exit (--ephemeral, sandboxtest):
// the same group commit, and a new file's first copy is not synced either.
func Ephemeral() Option { return func(o *options) { o.noSync, o.ephemeral = true, true } }

// WithClock makes the store read the time from c (token expiry, timestamps of
// settlements, ledger entries and callbacks); the default is clock.Real().
func WithClock(c *clock.Clock) Option { return func(o *options) { o.clock = c } }

// Now is the store's time: its clock's.
func (s *Store) Now() time.Time { return s.clock.Now() }

// Clock returns the clock the store reads.
func (s *Store) Clock() *clock.Clock { return s.clock }

// Close refuses new writes, lets the commit in progress finish, answers the writes
// still queued ErrClosed, then closes the file. It is safe to call more than once.
func (s *Store) Close() error {
	s.qmu.Lock()
	already := s.closed
	s.closed = true
	s.qmu.Unlock()
	if already {
		return nil
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.failQueued()
	return s.db.Close()
}

// failQueued answers every queued write ErrClosed; the caller holds wmu.
func (s *Store) failQueued() {
	s.qmu.Lock()
	batch := s.queue
	s.queue = nil
	s.qmu.Unlock()
	for _, r := range batch {
		r.err <- ErrClosed
	}
}

// view runs a read in a read transaction of its own, concurrent with the others and
// with the commits; a damaged page it meets is an error, and stops the writes
// (noteDamage).
func (s *Store) view(fn func(tx *bolt.Tx) error) (err error) {
	defer func() { s.noteDamage(err) }()
	return safeTx(s.db.View, fn)
}

// DB exposes the bbolt handle for read-only use by tests and benchmarks.
func (s *Store) DB() *bolt.DB { return s.db }

// write runs fn inside a group-committed transaction and returns once it is durable.
// When fn fails or panics, nothing it wrote is kept (see commit); fn may run more than
// once, so it must not change state outside tx except its own results.
func (s *Store) write(fn func(tx *bolt.Tx) error) error {
	// Two slots: a follower may be handed the lead (errLead) and, should Close come
	// before it leads, ErrClosed too, without Close blocking on a full channel.
	if err := s.refusal(); err != nil {
		return err
	}
	r := &writeReq{fn: fn, err: make(chan error, 2)}
	s.qmu.Lock()
	if s.closed {
		s.qmu.Unlock()
		return ErrClosed
	}
	s.queue = append(s.queue, r)
	lead := !s.leading
	s.leading = true
	s.qmu.Unlock()
	if !lead {
		if err := <-r.err; err != errLead {
			return err // a leader committed this write
		}
	}
	s.lead()
	return <-r.err
}

// errLead tells a queued write that it leads the next commit.
var errLead = errors.New("store: lead the next commit")

// lead commits one round: every write queued so far, its own among them. Then it
// passes the lead to the oldest write queued meanwhile, or gives it up, so that under
// a steady load no leader waits for more than its own round.
func (s *Store) lead() {
	s.wmu.Lock()
	s.qmu.Lock()
	batch, closed := s.queue, s.closed
	s.queue = nil
	s.qmu.Unlock()
	if closed {
		// Close has the file, or is waiting for it: it must not change any more.
		for _, q := range batch {
			q.err <- ErrClosed
		}
	}
	for !closed && len(batch) > 0 {
		n := min(len(batch), maxBatch)
		s.commit(batch[:n])
		batch = batch[n:]
	}
	s.wmu.Unlock()
	s.qmu.Lock()
	if len(s.queue) == 0 {
		s.leading = false
		s.qmu.Unlock()
		return
	}
	next := s.queue[0]
	s.qmu.Unlock()
	next.err <- errLead
}

// errRollback aborts a batch's transaction after one of its writes failed.
var errRollback = errors.New("store: batch rolled back")

// commit runs a batch in one transaction. When a write fails or panics, whatever it
// wrote before failing must not reach the file, and the transaction it shares holds
// the others' writes too: so the whole transaction is rolled back and the others run
// again without it. Each round drops one write, so a batch of n commits after at most
// n rounds; a rolled-back round costs no fsync. A dropped write met the batch's other
// writes uncommitted (a settlement that found the order another had just settled), so
// it runs again alone once they are committed and answers what it meets then:
// bbolt's own DB.Batch rule (trySolo). Answering the rolled-back round's error at once
// let a request answer before the write it had seen was committed.
func (s *Store) commit(batch []*writeReq) {
	var dropped []*writeReq
	for len(batch) > 0 {
		failed := -1
		err := s.db.Update(func(tx *bolt.Tx) error {
			for i, r := range batch {
				if err := runSafely(r.fn, tx); err != nil {
					failed = i
					return errRollback
				}
			}
			return nil
		})
		if failed < 0 {
			for _, r := range batch {
				r.err <- err
			}
			break
		}
		dropped = append(dropped, batch[failed])
		batch = append(batch[:failed], batch[failed+1:]...)
	}
	for _, r := range dropped {
		err := s.db.Update(func(tx *bolt.Tx) error { return runSafely(r.fn, tx) })
		s.noteDamage(err)
		r.err <- err
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

// getJSON decodes the record at key; found is false when there is none, and a record
// that does not decode is ErrCorrupt, never "absent".
func getJSON(b *bolt.Bucket, key []byte, v any) (found bool, err error) {
	data := b.Get(key)
	if data == nil {
		return false, nil
	}
	if err := json.Unmarshal(data, v); err != nil {
		return true, fmt.Errorf("%w: key %x: %v", ErrCorrupt, key, err)
	}
	return true, nil
}

func decodeOrder(v []byte) (*gateway.Order, error) {
	var o gateway.Order
	if err := json.Unmarshal(v, &o); err != nil {
		return nil, fmt.Errorf("%w: order: %v", ErrCorrupt, err)
	}
	return &o, nil
}

func decodeDelivery(v []byte) (*Delivery, error) {
	var d Delivery
	if err := json.Unmarshal(v, &d); err != nil {
		return nil, fmt.Errorf("%w: callback: %v", ErrCorrupt, err)
	}
	return &d, nil
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

// getOrder reads the order an index key names, with its number key; nil when there is
// none.
func getOrder(tx *bolt.Tx, key []byte) (*gateway.Order, []byte, error) {
	n := tx.Bucket(bucketOrders).Get(key)
	if n == nil {
		return nil, nil, nil
	}
	o, err := orderAt(tx, n)
	if err != nil || o == nil {
		return nil, nil, err
	}
	return o, append([]byte(nil), n...), nil
}

// orderAt reads the order stored under a number key; nil when there is none.
func orderAt(tx *bolt.Tx, n []byte) (*gateway.Order, error) {
	v := tx.Bucket(bucketNumbers).Get(n)
	if v == nil {
		return nil, nil
	}
	return decodeOrder(v)
}

// putOrder writes an order under its number.
func putOrder(tx *bolt.Tx, o *gateway.Order) error {
	b := tx.Bucket(bucketNumbers)
	b.FillPercent = appendFill
	return putJSON(b, u64(o.Number), o)
}
