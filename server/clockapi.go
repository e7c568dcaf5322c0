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
	"github.com/vpay88/vpay88-sandbox/store"
)

// The test clock (Stripe's test clocks are the model): the sandbox's time is real
// time plus an offset, optionally frozen, and moving it forward runs everything that
// came due before the call answers, in time order: scheduled settlements, payouts'
// withdrawal_delay, deposit expiry, reversals and callback retries on their real
// schedule. Token expiry needs no run: a token is checked against the clock when used.

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
	// Jobs are the moves queued or running (clockjobs.go), oldest first.
	Jobs []ClockJob `json:"jobs,omitempty"`
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
	v.Jobs = s.clockJobs.active()
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
	// wait is how long the call waits for its move before answering 202 with a job.
	wait time.Duration
}

// Bounds of POST /sandbox/api/clock's wait: how long a move may hold its call before
// it answers 202 with a job to poll (README, "The test clock").
const (
	defaultClockWait = 5 * time.Second
	maxClockWait     = 60 * time.Second
)

// clockLimits names the instants the clock holds, for the errors that refuse a move.
var clockLimits = clock.Min.Format(time.RFC3339) + " to " + clock.Max.Format(time.RFC3339)

// parseClockMove reads advance, set, freeze and wait from a form, a query or a JSON
// body, and refuses a value the clock cannot hold (400) before anything moves.
func parseClockMove(c echo.Context) (clockMove, error) {
	f, err := adminFields(c)
	if err != nil {
		return clockMove{}, err
	}
	m := clockMove{wait: defaultClockWait}
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
		if t.IsZero() || clock.CheckRange(t) != nil {
			return m, fail(http.StatusBadRequest, "set must be an instant the sandbox clock holds, "+clockLimits+", not "+strconv.Quote(v))
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
	if v := f.Get("wait"); v != "" {
		d, err := parseDuration(v)
		if err != nil || d > maxClockWait {
			return m, fail(http.StatusBadRequest, "wait must be a duration from 0s to "+maxClockWait.String()+", not "+strconv.Quote(v))
		}
		m.wait = d
	}
	return m, nil
}

// handleSetClock is POST /sandbox/api/clock: freeze=true applies first (so the move
// lands exactly), then advance or set, running what came due, then freeze=false. The
// move runs as a job (clockjobs.go): the call answers 200 with the clock once the job
// is done, or 202 with the job to poll when it is still running after wait.
func (s *Server) handleSetClock(c echo.Context) error {
	m, err := parseClockMove(c)
	if err != nil {
		return err
	}
	clk := s.store.Clock()
	if m.freeze != nil && *m.freeze {
		clk.Freeze(true)
	}
	now := clk.Now()
	target := now.Add(m.advance)
	if err := clock.CheckRange(target); err != nil {
		return fail(http.StatusBadRequest, "advance="+m.advance.String()+" would take the clock from "+
			now.UTC().Format(time.RFC3339Nano)+" to "+target.UTC().Format(time.RFC3339Nano)+", past the latest instant it holds, "+clock.Max.Format(time.RFC3339))
	}
	if !m.set.IsZero() {
		if m.set.Before(now) {
			return fail(http.StatusConflict, "time never goes backwards: the sandbox is at "+now.UTC().Format(time.RFC3339Nano))
		}
		target = m.set
	}
	j, err := s.clockJobs.submit(target, m.freeze != nil && !*m.freeze)
	if err != nil {
		return err
	}
	accepted := func() error {
		c.Response().Header().Set(echo.HeaderLocation, j.view().Poll)
		return c.JSON(http.StatusAccepted, j.view())
	}
	if m.wait == 0 {
		return accepted() // wait=0s: always the job, even when it would be quick
	}
	t := time.NewTimer(m.wait)
	defer t.Stop()
	select {
	case <-j.done:
	case <-t.C:
		return accepted()
	case <-c.Request().Context().Done():
		return c.Request().Context().Err() // the client left; the job goes on
	}
	v := j.view()
	if v.State != jobDone {
		return fail(http.StatusServiceUnavailable, v.Error)
	}
	cv := s.clockView()
	cv.Ran = v.Stops
	return c.JSON(http.StatusOK, cv)
}

// handleClockJob is GET /sandbox/api/clock/jobs/{id}: a move's progress.
func (s *Server) handleClockJob(c echo.Context) error {
	j := s.clockJobs.get(c.Param("id"))
	if j == nil {
		return fail(http.StatusNotFound, "no clock job "+strconv.Quote(c.Param("id"))+" (the last "+strconv.Itoa(keptClockJobs)+" are kept, until a restart)")
	}
	return c.JSON(http.StatusOK, j.view())
}

// Advance moves the sandbox clock forward by d and runs what came due (AdvanceTo).
func (s *Server) Advance(ctx context.Context, d time.Duration) (int, error) {
	if d < 0 {
		return 0, clock.ErrBackwards
	}
	return s.AdvanceTo(ctx, s.store.Clock().Now().Add(d))
}

// AdvanceTo moves the sandbox clock to target, as POST /sandbox/api/clock does (a
// job, behind the moves called before it), and waits for it: once it returns,
// everything the orders that existed when it was called had due by target has run
// (runAdvance). It returns how many stops the move made. When ctx ends first it
// returns ctx's error and the move goes on.
func (s *Server) AdvanceTo(ctx context.Context, target time.Time) (int, error) {
	if err := clock.CheckRange(target); err != nil {
		return 0, err
	}
	if target.Before(s.store.Clock().Now()) {
		return 0, clock.ErrBackwards
	}
	j, err := s.clockJobs.submit(target, false)
	if err != nil {
		return 0, err
	}
	select {
	case <-j.done:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	v := j.view()
	if v.State != jobDone {
		return v.Stops, errors.New(v.Error)
	}
	return v.Stops, nil
}

// runTimers runs the settlement, expiry and reversal timers due now, in batches of
// schedulerBatch (runBatch). The scheduler loop and an advance both run timers; dueMu
// keeps them from running one twice (a reversal run twice would reverse the order
// back). dueMu is let go after each batch, one round of the workers, so that an
// advance waits for it no longer than a round of commits even when traffic keeps
// timers coming due.
func (s *Server) runTimers() {
	for s.ctx.Err() == nil {
		s.dueMu.Lock()
		due, _, err := s.store.DueOf(s.store.Now(), store.AllOrders, schedulerBatch)
		if err != nil {
			s.dueMu.Unlock()
			s.log.Error("read settlement timers", "err", err)
			return
		}
		s.runBatch(due)
		s.dueMu.Unlock()
		if len(due) < schedulerBatch {
			return
		}
	}
}

// parseDuration reads a duration as the config file writes one ("90s", "31m", "2d").
func parseDuration(v string) (time.Duration, error) {
	var d gateway.Duration
	err := d.UnmarshalText([]byte(v))
	return time.Duration(d), err
}
