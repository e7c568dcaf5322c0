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
