// Package clock is the sandbox's one clock: real time plus an offset, optionally
// frozen. Every part that reads the time or waits for it (the store's timestamps and
// token expiry, the settlement scheduler, the callback dispatcher, the journal) takes a
// *Clock, so a test can freeze time and move it forward, and every timer that came due
// fires at once instead of the test sleeping.
//
// Production runs on Real(): the offset is zero and timers are Go timers. A frozen
// clock's timers fire only when Advance or Set moves the time past them; an unfrozen
// clock with an offset keeps running in real time from wherever it was moved to.
package clock

import (
	"errors"
	"sync"
	"time"
)

// ErrBackwards refuses a Set to an earlier time: every stored deadline, token expiry
// and attempt log assumes that time only moves forward.
var ErrBackwards = errors.New("clock: time never goes backwards")

// Min and Max bound every instant the clock may be moved, set, started or restored
// to. The store keys timers, callback attempts and lists by Unix nanoseconds in an
// unsigned 64-bit integer, so an instant before 1970 sorts after every other and one
// after 2262-04-11T23:47:16Z does not fit (time.Time.UnixNano is undefined there);
// Max leaves 62 years below that for the delays, retries and expiries counted from
// the clock's time. A running clock is real time plus a time.Duration, which holds
// ±292 years: within Min..Max it never wraps while real time is within them too.
var (
	Min = time.Unix(0, 0).UTC()
	Max = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// ErrRange refuses a move to an instant outside Min..Max (errors.Is matches every
// *RangeError).
var ErrRange = errors.New("clock: instant out of range")

// RangeError is a move refused because its instant is outside Min..Max; it names the
// instant and the limit it crossed.
type RangeError struct {
	At    time.Time // the instant refused (zero when it cannot be represented)
	Limit time.Time // Min or Max
}

func (e *RangeError) Error() string {
	side := "after the latest"
	if e.Limit.Equal(Min) {
		side = "before the earliest"
	}
	return "clock: " + e.At.UTC().Format(time.RFC3339Nano) + " is " + side + " instant the sandbox clock holds, " + e.Limit.Format(time.RFC3339)
}

// Is makes errors.Is(err, ErrRange) true.
func (e *RangeError) Is(target error) bool { return target == ErrRange }

// CheckRange returns a *RangeError when t is outside Min..Max.
func CheckRange(t time.Time) error {
	switch {
	case t.Before(Min):
		return &RangeError{At: t, Limit: Min}
	case t.After(Max):
		return &RangeError{At: t, Limit: Max}
	}
	return nil
}

// Clock is a clock that tests can stop and move. The zero value is not usable: use
// Real or Frozen.
type Clock struct {
	mu     sync.Mutex
	offset time.Duration // added to real time while running
	frozen bool
	at     time.Time // the time while frozen
	timers map[*Timer]struct{}
	// last is the latest time read: a running clock never reads behind it, even
	// when the machine's clock is stepped back (NTP, a VM resumed).
	last time.Time
	// now is time.Now, unless a test of this package replaces it.
	now func() time.Time
}

// Real returns a running clock at real time.
func Real() *Clock { return &Clock{now: time.Now, timers: map[*Timer]struct{}{}} }

// Frozen returns a clock stopped at t: it moves only by Advance, Set or Freeze(false).
func Frozen(t time.Time) *Clock {
	c := Real()
	c.frozen, c.at = true, t.Round(0)
	return c
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nowLocked()
}

// nowLocked reads the clock, never behind its last reading. The monotonic reading
// is stripped: the clock's times are compared with stored ones, which have none.
func (c *Clock) nowLocked() time.Time {
	t := c.at
	if !c.frozen {
		t = c.now().Add(c.offset).Round(0)
	}
	if t.Before(c.last) {
		return c.last
	}
	c.last = t
	return t
}

// Since is Now().Sub(t).
func (c *Clock) Since(t time.Time) time.Duration { return c.Now().Sub(t) }

// IsFrozen reports whether the clock is stopped.
func (c *Clock) IsFrozen() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.frozen
}

// Offset returns how far the clock is from real time.
func (c *Clock) Offset() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nowLocked().Sub(c.now())
}

// Advance moves the clock forward by d and fires every timer that came due, in
// deadline order, before it returns. A negative d is ErrBackwards; a move past Max
// is a *RangeError, and the clock stays where it was.
func (c *Clock) Advance(d time.Duration) error {
	if d < 0 {
		return ErrBackwards
	}
	c.mu.Lock()
	err := c.setLocked(c.nowLocked().Add(d))
	c.mu.Unlock()
	if err == nil {
		c.fireDue()
	}
	return err
}

// Set moves the clock to t, which must not be before its time now (ErrBackwards) nor
// outside Min..Max (*RangeError), and fires what came due.
func (c *Clock) Set(t time.Time) error {
	c.mu.Lock()
	err := c.setLocked(t)
	c.mu.Unlock()
	if err == nil {
		c.fireDue()
	}
	return err
}

// setLocked moves the clock to t. A running clock's new offset is computed from t
// and checked: time.Time.Sub saturates at ±292 years, so an offset that does not
// land exactly on t is refused rather than stored.
func (c *Clock) setLocked(t time.Time) error {
	now := c.nowLocked()
	if t.Before(now) {
		return ErrBackwards
	}
	if err := CheckRange(t); err != nil {
		return err
	}
	t = t.Round(0)
	if c.frozen {
		c.at = t
	} else {
		real := c.now()
		off := t.Sub(real)
		if !real.Add(off).Equal(t) {
			return &RangeError{At: t, Limit: Max}
		}
		c.offset = off
	}
	c.last = t
	return nil
}

// Freeze stops (true) or restarts (false) the clock where it is. A restarted clock
// runs on from its frozen time, so it does not jump.
func (c *Clock) Freeze(frozen bool) {
	c.mu.Lock()
	if frozen == c.frozen {
		c.mu.Unlock()
		return
	}
	if frozen {
		c.at, c.frozen = c.nowLocked(), true
	} else {
		c.offset, c.frozen = c.at.Sub(c.now()), false
	}
	timers := c.pendingLocked()
	c.mu.Unlock()
	for _, t := range timers {
		t.arm()
	}
}

// Timer fires once on C when the clock reaches its deadline.
type Timer struct {
	C        <-chan time.Time
	c        chan time.Time
	clock    *Clock
	deadline time.Time
	real     *time.Timer // the Go timer that wakes it while the clock runs
}

// NewTimer returns a timer that fires when the clock has moved d past now.
func (c *Clock) NewTimer(d time.Duration) *Timer {
	ch := make(chan time.Time, 1)
	t := &Timer{C: ch, c: ch, clock: c}
	c.mu.Lock()
	t.deadline = c.nowLocked().Add(d)
	c.timers[t] = struct{}{}
	c.mu.Unlock()
	t.arm()
	return t
}

// Stop prevents the timer from firing; it reports whether it was still waiting.
func (t *Timer) Stop() bool {
	c := t.clock
	c.mu.Lock()
	_, waiting := c.timers[t]
	delete(c.timers, t)
	if t.real != nil {
		t.real.Stop()
	}
	c.mu.Unlock()
	return waiting
}

// arm sets the Go timer that wakes t while the clock runs (none while it is frozen),
// or fires t at once when it is due.
func (t *Timer) arm() {
	c := t.clock
	c.mu.Lock()
	if _, waiting := c.timers[t]; !waiting {
		c.mu.Unlock()
		return
	}
	if t.real != nil {
		t.real.Stop()
		t.real = nil
	}
	left := t.deadline.Sub(c.nowLocked())
	if left <= 0 {
		c.mu.Unlock()
		c.fireDue()
		return
	}
	if !c.frozen {
		t.real = time.AfterFunc(left, c.fireDue)
	}
	c.mu.Unlock()
}

// fireDue fires every waiting timer whose deadline has come, earliest first.
func (c *Clock) fireDue() {
	c.mu.Lock()
	now := c.nowLocked()
	var due []*Timer
	for t := range c.timers {
		if !t.deadline.After(now) {
			due = append(due, t)
		}
	}
	for i := 1; i < len(due); i++ { // a few timers at most: insertion sort
		for j := i; j > 0 && due[j].deadline.Before(due[j-1].deadline); j-- {
			due[j], due[j-1] = due[j-1], due[j]
		}
	}
	for _, t := range due {
		delete(c.timers, t)
		if t.real != nil {
			t.real.Stop()
		}
		select {
		case t.c <- now:
		default:
		}
	}
	rest := c.pendingLocked()
	c.mu.Unlock()
	// A Go timer may fire early against an offset that moved backwards in real terms
	// (Freeze then restart): re-arm what is still waiting.
	if len(due) == 0 {
		for _, t := range rest {
			t.arm()
		}
	}
}

func (c *Clock) pendingLocked() []*Timer {
	out := make([]*Timer, 0, len(c.timers))
	for t := range c.timers {
		out = append(out, t)
	}
	return out
}

// State is what a clock is, for saving across restarts: its offset from real time
// while it runs, or the instant it is frozen at.
type State struct {
	Offset time.Duration `json:"offset"`
	Frozen bool          `json:"frozen"`
	At     time.Time     `json:"at,omitzero"`
}

// State returns the clock's state.
func (c *Clock) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.frozen {
		return State{Frozen: true, At: c.at}
	}
	return State{Offset: c.offset}
}

// Restore puts the clock in st, as a restarted sandbox resumes its saved clock; it
// refuses a state whose time is outside Min..Max (a *RangeError: a wrapped clock
// saved by an older version is not resumed), and one whose time is before the
// clock's own when timers are waiting, as they were armed on it.
func (c *Clock) Restore(st State) error {
	c.mu.Lock()
	at := st.At
	if !st.Frozen {
		at = c.now().Add(st.Offset)
	}
	if err := CheckRange(at); err != nil {
		c.mu.Unlock()
		return err
	}
	if len(c.timers) > 0 {
		now := c.nowLocked()
		if (st.Frozen && st.At.Before(now)) || (!st.Frozen && c.now().Add(st.Offset).Before(now)) {
			c.mu.Unlock()
			return ErrBackwards
		}
	}
	c.frozen, c.at, c.offset = st.Frozen, st.At.Round(0), st.Offset
	if !st.Frozen {
		c.at = time.Time{}
	}
	c.last = time.Time{} // a restored state is a new start: its time is the reading
	c.last = c.nowLocked()
	timers := c.pendingLocked()
	c.mu.Unlock()
	for _, t := range timers {
		t.arm()
	}
	return nil
}
