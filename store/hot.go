package store

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// An ephemeral store (Ephemeral) keeps one write transaction open across requests:
// new orders go into it and are acknowledged at once, and it is committed a few
// milliseconds later, or at 256 writes, before any other write, and at Close. Its
// state is thrown away at exit, so no commit has to come before an answer; what a
// commit per order cost (Begin, rebalance, spill and a write for each of eight pages,
// the meta page) was most of an --ephemeral generate_orders' CPU at one connection,
// and a page a write dirties stays decoded for the next write instead of being read
// again. Reads that come while the transaction holds writes run inside it, so every
// acknowledged write is seen at once.
//
// A write that fails must leave no trace, and the open transaction holds other
// writes, already acknowledged. So a write that fails after it may have changed the
// transaction rolls the transaction back, and the writes before it run again, in
// order, on the same state (replay): each must be deterministic and must touch no
// memory but its own when replayed.

// hotMax bounds the writes one open transaction gathers (and so a replay).
const hotMax = 256

// hotDelay is how long the open transaction stays open after its first write: long
// enough that one commit serves tens of writes at one connection.
const hotDelay = 10 * time.Millisecond

// hotApply is one write to the open transaction. replay is true when it runs again
// after a later write failed: it must then write nothing but its own memory (its
// caller has its answer already).
type hotApply func(tx *bolt.Tx, replay bool) error

// errUntouched wraps the error of a hotApply that failed before it changed anything,
// so the open transaction can stay as it is.
type errUntouched struct{ err error }

func (e errUntouched) Error() string { return e.err.Error() }
func (e errUntouched) Unwrap() error { return e.err }

// untouched marks err as returned before any change to the transaction.
func untouched(err error) error { return errUntouched{err} }

type hotTx struct {
	mu      sync.Mutex
	tx      *bolt.Tx
	applies []hotApply
	timer   *time.Timer
	delay   time.Duration // hotDelay; tests hold the transaction open longer
	closed  bool
	// open is set while tx holds writes, for readers to check without the lock.
	open atomic.Bool
}

// Ephemeral is WithoutSync plus the open transaction above: for state thrown away at
// exit (--ephemeral, sandboxtest), never for a file that must survive a killed
// process, as acknowledged writes can wait a few milliseconds in memory.
func Ephemeral() Option {
	return func(o *options) { o.noSync, o.hot = true, true }
}

// writeHot runs apply in the open transaction, opening one when there is none, and
// returns once it ran: the write is acknowledged before its commit.
func (s *Store) writeHot(apply hotApply) error {
	if err := s.refusal(); err != nil {
		return err
	}
	h := s.hot
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return ErrClosed
	}
	if h.tx == nil {
		tx, err := s.db.Begin(true)
		if err != nil {
			return err
		}
		h.tx = tx
		h.open.Store(true)
		h.timer = time.AfterFunc(h.delay, s.flushHot)
	}
	if err := runHot(apply, h.tx, false); err != nil {
		var u errUntouched
		if errors.As(err, &u) {
			return u.err
		}
		s.replayLocked()
		return err
	}
	h.applies = append(h.applies, apply)
	if len(h.applies) >= hotMax {
		s.commitHotLocked()
	}
	return nil
}

func runHot(apply hotApply, tx *bolt.Tx, replay bool) error {
	return runSafely(func(tx *bolt.Tx) error { return apply(tx, replay) }, tx)
}

// replayLocked rolls the open transaction back and runs the writes it held again in a
// new one. They ran on the same state before, so they succeed again; one that does
// not is dropped, as its error says its own change never happened.
func (s *Store) replayLocked() {
	_ = s.hot.tx.Rollback()
	s.rerunLocked()
}

// rerunLocked runs the writes held so far again, in a new transaction. It reports
// false when none can begin (the file is closed or broken): then nothing can hold
// them any more.
func (s *Store) rerunLocked() bool {
	h := s.hot
	tx, err := s.db.Begin(true)
	if err != nil {
		h.tx, h.applies = nil, nil
		h.open.Store(false)
		return false
	}
	h.tx = tx
	kept := h.applies[:0]
	for _, a := range h.applies {
		if runHot(a, tx, true) == nil {
			kept = append(kept, a)
		}
	}
	h.applies = kept
	return true
}

// flushHot commits the open transaction (hotDelay after its first write).
func (s *Store) flushHot() {
	s.hot.mu.Lock()
	defer s.hot.mu.Unlock()
	s.commitHotLocked()
}

// commitHotLocked commits the open transaction, if any. Should the commit fail (a full
// disk), its writes are run again in a new transaction, which a later commit tries
// again: they were acknowledged, so they stay readable as long as the process lives.
func (s *Store) commitHotLocked() {
	h := s.hot
	if h.tx == nil {
		return
	}
	h.timer.Stop()
	if err := h.tx.Commit(); err != nil && s.rerunLocked() {
		h.timer = time.AfterFunc(h.delay, s.flushHot)
		return
	}
	h.tx, h.applies = nil, nil
	h.open.Store(false)
}

// view runs a read: inside the open transaction while it holds writes, else in a read
// transaction of its own, concurrent with the others.
func (s *Store) view(fn func(tx *bolt.Tx) error) (err error) {
	defer func() { s.noteDamage(err) }()
	if h := s.hot; h != nil && h.open.Load() {
		h.mu.Lock()
		if h.tx != nil {
			defer h.mu.Unlock()
			return safeTx(func(fn func(*bolt.Tx) error) error { return fn(h.tx) }, fn)
		}
		h.mu.Unlock()
	}
	return safeTx(s.db.View, fn)
}

// holdHot commits the open transaction and keeps new ones from opening until release
// is called: a write of the group commit, or Close, needs bbolt's one write
// transaction.
func (s *Store) holdHot() (release func()) {
	h := s.hot
	if h == nil {
		return func() {}
	}
	h.mu.Lock()
	s.commitHotLocked()
	return h.mu.Unlock
}

// closeHot commits the open transaction and refuses hot writes from now on.
func (s *Store) closeHot() {
	h := s.hot
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	s.commitHotLocked()
	h.closed = true
}
