package server

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/vpay88/vpay88-sandbox/clock"
	"github.com/vpay88/vpay88-sandbox/gateway"
)

// The test clock (Stripe's test clocks are the model): the sandbox's time is real
// time plus an offset, optionally frozen, and moving it forward runs everything that
// came due before the call answers, in time order: scheduled settlements, payouts'
// withdrawal_delay, deposit expiry, reversals and callback retries on their real
// schedule. Token expiry needs no run: a token is checked against the clock when used.

// maxAdvanceSteps bounds one advance: each step runs at least one due timer or
// delivery, so only a runaway (a timer that re-arms itself) could reach it.
const maxAdvanceSteps = 100000

// ClockView is the sandbox clock as GET and POST /sandbox/api/clock answer it.
type ClockView struct {
	// Now is the sandbox's time; Real the machine's.
	Now  time.Time `json:"now"`
	Real time.Time `json:"real"`
	// Offset is Now - Real, as a Go duration ("1h0m0s"), and in seconds.
	Offset        string  `json:"offset"`
	OffsetSeconds float64 `json:"offset_seconds"`
	Frozen        bool    `json:"frozen"`
	// NextDue is the earliest scheduled settlement, reversal, expiry or callback
	// attempt still to come.
	NextDue *time.Time `json:"next_due,omitempty"`
	// Ran counts, in a POST's answer, the instants the move stopped at to run what
	// was due there (settlements, expiries, reversals, callback attempts).
	Ran int `json:"ran"`
}

func (s *Server) clockView() ClockView {
	clk := s.store.Clock()
	now := clk.Now()
	real := time.Now()
	off := clk.Offset().Round(time.Millisecond)
	v := ClockView{Now: now.UTC(), Real: real.UTC(), Offset: off.String(), OffsetSeconds: off.Seconds(), Frozen: clk.IsFrozen()}
	if at, ok := s.nextDue(); ok {
		at = at.UTC()
		v.NextDue = &at
	}
	return v
}

// nextDue is when the earliest timer or pending callback attempt is due.
func (s *Server) nextDue() (time.Time, bool) {
	at, ok, err := s.store.NextDue()
	if err != nil {
		ok = false
	}
	if d, dok, err := s.store.NextDelivery(); err == nil && dok && (!ok || d.Before(at)) {
		at, ok = d, true
	}
	return at, ok
}

func (s *Server) handleGetClock(c echo.Context) error {
	return c.JSON(http.StatusOK, s.clockView())
}

// clockMove is a parsed POST /sandbox/api/clock.
type clockMove struct {
	advance time.Duration
	set     time.Time
	freeze  *bool
}

// parseClockMove reads advance, set and freeze from a form, a query or a JSON body.
func parseClockMove(c echo.Context) (clockMove, error) {
	f, err := adminFields(c)
	if err != nil {
		return clockMove{}, err
	}
	var m clockMove
	if v := f.Get("advance"); v != "" {
		d, err := parseDuration(v)
		if err != nil || d < 0 {
			return m, fail(http.StatusBadRequest, "advance must be a duration such as 90s, 31m or 2h, not "+strconv.Quote(v)+" (time never goes backwards)")
		}
		m.advance = d
	}
	if v := f.Get("set"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return m, fail(http.StatusBadRequest, "set must be an RFC 3339 time such as 2026-12-01T09:00:00Z, not "+strconv.Quote(v))
		}
		m.set = t
	}
	if m.advance > 0 && !m.set.IsZero() {
		return m, fail(http.StatusBadRequest, "give advance or set, not both")
	}
	if v := f.Get("freeze"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return m, fail(http.StatusBadRequest, "freeze must be true or false, not "+strconv.Quote(v))
		}
		m.freeze = &b
	}
	return m, nil
}

// handleSetClock is POST /sandbox/api/clock: freeze=true applies first (so the move
// lands exactly), then advance or set, running what came due, then freeze=false.
func (s *Server) handleSetClock(c echo.Context) error {
	m, err := parseClockMove(c)
	if err != nil {
		return err
	}
	clk := s.store.Clock()
	if m.freeze != nil && *m.freeze {
		clk.Freeze(true)
	}
	target := clk.Now().Add(m.advance)
	if !m.set.IsZero() {
		if m.set.Before(clk.Now()) {
			return fail(http.StatusConflict, "time never goes backwards: the sandbox is at "+clk.Now().UTC().Format(time.RFC3339Nano))
		}
		target = m.set
	}
	ran, err := s.AdvanceTo(c.Request().Context(), target)
	if err != nil {
		return err
	}
	if m.freeze != nil && !*m.freeze {
		clk.Freeze(false)
	}
	if err := s.store.SaveClock(); err != nil {
		return err
	}
	s.events.publish("clock")
	v := s.clockView()
	v.Ran = ran
	s.log.Info("clock moved", "now", v.Now, "offset", v.Offset, "frozen", v.Frozen, "ran", ran)
	return c.JSON(http.StatusOK, v)
}

// Advance moves the sandbox clock forward by d and runs what came due (AdvanceTo).
func (s *Server) Advance(ctx context.Context, d time.Duration) (int, error) {
	if d < 0 {
		return 0, clock.ErrBackwards
	}
	n, err := s.AdvanceTo(ctx, s.store.Clock().Now().Add(d))
	if err == nil {
		err = s.store.SaveClock()
	}
	s.events.publish("clock")
	return n, err
}

// AdvanceTo moves the sandbox clock to target, stopping at each due timer or callback
// attempt on the way, in time order, to run it: a payout's settlement, then its
// callback, then the callback's retry a minute later, each at its own instant, as
// they would have happened. It returns how many instants it stopped at; once it
// returns, nothing due at target is left to run (a callback attempt in flight has
// ended).
func (s *Server) AdvanceTo(ctx context.Context, target time.Time) (int, error) {
	s.advanceMu.Lock()
	defer s.advanceMu.Unlock()
	clk := s.store.Clock()
	ran := 0
	for step := 0; step < maxAdvanceSteps; step++ {
		if err := ctx.Err(); err != nil {
			return ran, err
		}
		at, ok := s.nextDue()
		if !ok || at.After(target) {
			break
		}
		if at.After(clk.Now()) {
			if err := clk.Set(at); err != nil && !errors.Is(err, clock.ErrBackwards) {
				return ran, err
			}
		}
		// The scheduler may run a timer the clock fired before runDueNow gets to it:
		// the instant counts, whoever ran it.
		ran++
		if err := s.runDueNow(ctx); err != nil {
			return ran, err
		}
	}
	if target.After(clk.Now()) {
		if err := clk.Set(target); err != nil && !errors.Is(err, clock.ErrBackwards) {
			return ran, err
		}
	}
	return ran, s.runDueNow(ctx)
}

// runDueNow runs every timer due at the clock's time, then waits for the callbacks
// due (the new ones included) to have their attempts.
func (s *Server) runDueNow(ctx context.Context) error {
	s.runTimers()
	return s.dispatcher.Drain(ctx)
}

// runTimers runs the settlement, expiry and reversal timers due now. The scheduler
// loop and an advance both run timers; dueMu keeps them from running one twice (a
// reversal run twice would reverse the order back).
func (s *Server) runTimers() {
	s.dueMu.Lock()
	defer s.dueMu.Unlock()
	due, err := s.store.Due(s.store.Now())
	if err != nil {
		s.log.Error("read settlement timers", "err", err)
		return
	}
	for _, o := range due {
		s.runDue(o)
	}
}

// parseDuration reads a duration as the config file writes one ("90s", "31m", "2d").
func parseDuration(v string) (time.Duration, error) {
	var d gateway.Duration
	err := d.UnmarshalText([]byte(v))
	return time.Duration(d), err
}
