package store

import (
	"errors"
	"fmt"
	"log/slog"
)

// A read that finds a damaged page or record (bbolt panics on a page of the wrong
// type; a record that does not decode is ErrCorrupt) means the file is no longer what
// the store wrote. Writing on would build on that damage, and each write's answer
// would hide it; so the store refuses every write from then on, and says so once, at
// ERROR, naming the file and what to do. Reads go on: what is whole stays readable,
// for a last look or an export.

// noteDamage turns the store read-only if err says the file is damaged.
func (s *Store) noteDamage(err error) {
	if err == nil || !(errors.Is(err, ErrCorrupt) || errors.Is(err, ErrDamaged)) {
		return
	}
	refusal := fmt.Errorf("state file %s is damaged (%v): writes are refused from now on, so that nothing is built on it; stop the sandbox, then restore a copy of the file or start on a fresh --data: %w", s.db.Path(), err, ErrDamaged)
	if s.damage.CompareAndSwap(nil, &refusal) {
		s.log.Error("state file damaged: refusing writes", "data", s.db.Path(), "err", err)
	}
}

// refusal is the error every write answers once the file was found damaged; nil else.
func (s *Store) refusal() error {
	if p := s.damage.Load(); p != nil {
		return *p
	}
	return nil
}

// WithLogger gives the store a logger for what it must tell the operator itself (a
// damaged file found by a read); the default is slog.Default().
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }
