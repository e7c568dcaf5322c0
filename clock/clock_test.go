package clock

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

func fired(tm *Timer) bool {
	select {
	case <-tm.C:
		return true
	default:
		return false
	}
}

func TestFrozenClockFiresTimersWhenMoved(t *testing.T) {
	c := Frozen(t0)
	a, b, never := c.NewTimer(time.Minute), c.NewTimer(2*time.Minute), c.NewTimer(time.Hour)
	require.NoError(t, c.Advance(59*time.Second))
	assert.False(t, fired(a), "not before its time")
	require.NoError(t, c.Advance(time.Second))
	assert.True(t, fired(a), "Advance fires what came due before it returns")
	assert.False(t, fired(b))
	require.NoError(t, c.Set(t0.Add(3*time.Minute)))
	assert.True(t, fired(b))
	assert.True(t, never.Stop(), "still waiting")
	require.NoError(t, c.Advance(2*time.Hour))
	assert.False(t, fired(never), "a stopped timer never fires")
	assert.Equal(t, t0.Add(2*time.Hour+3*time.Minute), c.Now())
	assert.True(t, c.IsFrozen())
}

func TestTimeNeverGoesBackwards(t *testing.T) {
	c := Frozen(t0)
	assert.ErrorIs(t, c.Advance(-time.Second), ErrBackwards)
	assert.ErrorIs(t, c.Set(t0.Add(-time.Second)), ErrBackwards)
	assert.Equal(t, t0, c.Now())
}

func TestFreezeAndRun(t *testing.T) {
	real := t0
	c := Real()
	c.now = func() time.Time { return real }
	require.NoError(t, c.Advance(time.Hour))
	assert.Equal(t, t0.Add(time.Hour), c.Now(), "real time plus the offset")
	assert.Equal(t, time.Hour, c.Offset())
	c.Freeze(true)
	real = real.Add(10 * time.Minute)
	assert.Equal(t, t0.Add(time.Hour), c.Now(), "frozen: real time passes, the clock does not")
	c.Freeze(false)
	assert.Equal(t, t0.Add(time.Hour), c.Now(), "restarted where it stopped, no jump")
	real = real.Add(time.Minute)
	assert.Equal(t, t0.Add(time.Hour+time.Minute), c.Now())
}

func TestRunningClockTimerFiresInRealTime(t *testing.T) {
	c := Real()
	tm := c.NewTimer(20 * time.Millisecond)
	select {
	case <-tm.C:
	case <-time.After(5 * time.Second):
		t.Fatal("a running clock's timer did not fire")
	}
	now := Real().NewTimer(0)
	select {
	case <-now.C:
	case <-time.After(5 * time.Second):
		t.Fatal("a timer of 0 did not fire at once")
	}
}

// TestMovesTheClockCannotHoldAreRefused replays issue 18's finding 4: three advances
// of 36525 days wrapped the offset and took the clock from 2226 back to 1742. Every
// move past Max is now refused and leaves the clock where it was.
func TestMovesTheClockCannotHoldAreRefused(t *testing.T) {
	real := t0
	for _, frozen := range []bool{false, true} {
		c := Real()
		c.now = func() time.Time { return real }
		if frozen {
			c = Frozen(t0)
		}
		require.NoError(t, c.Advance(36525*24*time.Hour))
		assert.Equal(t, 2126, c.Now().Year())
		before := c.Now()
		for _, move := range []func() error{
			func() error { return c.Advance(36525 * 24 * time.Hour) },
			func() error { return c.Advance(time.Duration(1<<63 - 1)) },
			func() error { return c.Set(time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)) },
			func() error { return c.Set(Max.Add(time.Nanosecond)) },
		} {
			err := move()
			assert.ErrorIs(t, err, ErrRange, "frozen=%v", frozen)
			var re *RangeError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, Max, re.Limit)
			assert.Contains(t, err.Error(), "2200-01-01T00:00:00Z")
			assert.Equal(t, before, c.Now(), "a refused move leaves the clock")
		}
		assert.ErrorIs(t, c.Set(time.Time{}), ErrBackwards, "the zero time is before now")
		require.NoError(t, c.Set(Max), "Max itself is held")
		assert.Equal(t, Max, c.Now())
		st := c.State()
		if !frozen {
			assert.Equal(t, Max.Sub(real), st.Offset)
		}
	}
}

// TestClockNeverReadsBehindItsLastReading: a machine clock stepped back (NTP) holds
// a running sandbox clock still until real time catches up.
func TestClockNeverReadsBehindItsLastReading(t *testing.T) {
	real := t0
	c := Real()
	c.now = func() time.Time { return real }
	assert.Equal(t, t0, c.Now())
	real = t0.Add(-time.Minute)
	assert.Equal(t, t0, c.Now(), "the machine went back a minute: the clock holds")
	real = t0.Add(time.Second)
	assert.Equal(t, t0.Add(time.Second), c.Now())
}

// TestRestoreRefusesAWrappedState: a state saved by a version that let the offset
// wrap (1742) or saturate is not resumed.
func TestRestoreRefusesAWrappedState(t *testing.T) {
	c := Real()
	assert.ErrorIs(t, c.Restore(State{Frozen: true, At: time.Date(1742, 1, 1, 0, 0, 0, 0, time.UTC)}), ErrRange)
	assert.ErrorIs(t, c.Restore(State{Frozen: true, At: time.Date(2319, 1, 1, 0, 0, 0, 0, time.UTC)}), ErrRange)
	assert.ErrorIs(t, c.Restore(State{Offset: time.Duration(-1 << 63)}), ErrRange)
	assert.False(t, c.IsFrozen())
	require.NoError(t, c.Restore(State{Frozen: true, At: t0}))
	assert.Equal(t, t0, c.Now())
}
