package store

import (
	"encoding/json"

	"github.com/vpay88/vpay88-sandbox/clock"
)

// keyClock holds the test clock's state in the meta bucket, so a sandbox restarted
// on the same file resumes the time QA moved it to instead of going back to real time.
var keyClock = []byte("clock")

// SaveClock stores the clock's state (called after every move of the test clock).
func (s *Store) SaveClock() error {
	b, err := json.Marshal(s.clock.State())
	if err != nil {
		return err
	}
	return s.putMeta(keyClock, b)
}

// SavedClock returns the clock state a previous run saved, if any.
func (s *Store) SavedClock() (clock.State, bool, error) {
	var st clock.State
	b, err := s.meta(keyClock)
	if err != nil || b == nil {
		return st, false, err
	}
	return st, true, json.Unmarshal(b, &st)
}
