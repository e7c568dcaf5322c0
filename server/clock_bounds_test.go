package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/clock"
	"github.com/vpay88/vpay88-sandbox/config"
	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/internal/inproc"
	"github.com/vpay88/vpay88-sandbox/server"
	"github.com/vpay88/vpay88-sandbox/store"
)

// savedClockTime is the instant the state file's clock holds.
func savedClockTime(tb testing.TB, e *testEnv) time.Time {
	tb.Helper()
	st, ok, err := e.Store.SavedClock()
	require.NoError(tb, err)
	require.True(tb, ok)
	if st.Frozen {
		return st.At
	}
	return time.Now().Add(st.Offset)
}

// TestClockRefusesMovesItCannotHold replays issue 18's finding 4 through HTTP: the
// offset wrapped after three advances of 36525 days (2026 → 2126 → 2226 → 1742), a
// set to 9999 landed in 2319, the zero time was answered 200, and an advance of
// 9223372036854775807ns was taken. Each is now refused, names the limit, and moves
// neither the clock nor the stored clock; on a frozen clock and on a running one.
func TestClockRefusesMovesItCannotHold(t *testing.T) {
	for _, frozen := range []bool{true, false} {
		t.Run(fmt.Sprintf("frozen=%v", frozen), func(t *testing.T) {
			o := inproc.Options{}
			if frozen {
				o.Clock = clock.Frozen(t0)
			}
			e := openEnv(t, o)
			v := e.advance(t, "36525d")
			assert.InDelta(t, 2126, v.Now.Year(), 1, "a hundred years on")
			at := v.Now
			limit := "2200-01-01T00:00:00Z"
			for _, tc := range []struct {
				fields map[string]string
				code   int
				msg    string
			}{
				{map[string]string{"advance": "36525d"}, http.StatusBadRequest, limit},
				{map[string]string{"advance": "9223372036854775807ns"}, http.StatusBadRequest, limit},
				{map[string]string{"advance": "99999d"}, http.StatusBadRequest, limit},
				{map[string]string{"advance": "9223372036854775808ns"}, http.StatusBadRequest, "advance must be a duration"},
				{map[string]string{"set": "9999-12-31T23:59:59Z"}, http.StatusBadRequest, limit},
				{map[string]string{"set": "2200-01-01T00:00:00.000000001Z"}, http.StatusBadRequest, limit},
				{map[string]string{"set": "0001-01-01T00:00:00Z"}, http.StatusBadRequest, "1970-01-01T00:00:00Z to " + limit},
				{map[string]string{"set": "1969-12-31T23:59:59Z"}, http.StatusBadRequest, "1970-01-01T00:00:00Z"},
				{map[string]string{"set": "2100-01-01T00:00:00Z"}, http.StatusConflict, "never goes backwards"},
				{map[string]string{"advance": "1m", "wait": "61s"}, http.StatusBadRequest, "wait must be a duration from 0s to 1m0s"},
			} {
				code, b := e.PostForm(t, "/sandbox/api/clock", tc.fields)
				assert.Equal(t, tc.code, code, "%v: %s", tc.fields, b)
				var answer map[string]string
				require.NoError(t, json.Unmarshal(b, &answer), "a JSON error: %s", b)
				assert.Contains(t, answer["error"], tc.msg, "%v", tc.fields)
			}
			var now server.ClockView
			getJSON(t, e.URL+"/sandbox/api/clock", &now)
			assert.False(t, now.Now.Before(at), "the clock never reads behind its last reading")
			assert.Equal(t, at.Year(), now.Now.Year())
			assert.InDelta(t, float64(at.Unix()), float64(savedClockTime(t, e).Unix()), 60, "the stored clock is the clock, never a wrapped value")

			v = e.moveClock(t, map[string]string{"set": limit})
			assert.Equal(t, clock.Max, v.Now.Truncate(time.Second), "the last instant itself is held")
			code, b := e.PostForm(t, "/sandbox/api/clock", map[string]string{"advance": "1s"})
			assert.Equal(t, http.StatusBadRequest, code, "%s", b)
			assert.False(t, savedClockTime(t, e).After(clock.Max.Add(time.Minute)))
		})
	}
}

// pollJob asks for a clock job until it is no longer queued or running (at most
// 5 minutes: the test fails then).
func (e *testEnv) pollJob(tb testing.TB, poll string) server.ClockJob {
	tb.Helper()
	var j server.ClockJob
	deadline := time.Now().Add(5 * time.Minute) // a failure's bound, not a speed goal (-race on a busy machine)
	for {
		getJSON(tb, e.URL+poll, &j)
		if j.State != "queued" && j.State != "running" {
			return j
		}
		require.True(tb, time.Now().Before(deadline), "job %s still %s after 5 minutes: %+v", j.ID, j.State, j)
		time.Sleep(20 * time.Millisecond) // polling for the job's end, as a client does
	}
}

// startJob posts a move with wait=0s, which answers 202 with the job at once.
func (e *testEnv) startJob(tb testing.TB, fields map[string]string) server.ClockJob {
	tb.Helper()
	fields["wait"] = "0s"
	code, b := e.PostForm(tb, "/sandbox/api/clock", fields)
	require.Equal(tb, http.StatusAccepted, code, "%s", b)
	var j server.ClockJob
	require.NoError(tb, json.Unmarshal(b, &j))
	require.NotEmpty(tb, j.Poll)
	return j
}

// makePayouts stores n payouts of 10 MYR of the first merchant directly, each due
// at from + i*step with the completed outcome, as withdraw_orders stores them.
func makePayouts(tb testing.TB, e *testEnv, prefix string, n int, from time.Time, step time.Duration) {
	tb.Helper()
	m := e.Cfg.MerchantList()[0]
	cc, ok := m.Currency("MYR")
	require.True(tb, ok)
	amount, err := gateway.ParseMoney("10")
	require.NoError(tb, err)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				o := &gateway.Order{Kind: gateway.KindWithdrawal, Merchant: m.Username, OrderID: fmt.Sprintf("%s-%05d", prefix, i),
					Amount: amount, Currency: "MYR", Status: gateway.StatusPending, BankID: "1", BankName: "Maybank",
					HolderName: "Clock Test", AccountNo: "1234567890", Reserved: gateway.PayoutReserve(amount, cc),
					CreatedAt: e.Store.Now(), SettleAt: from.Add(time.Duration(i) * step),
					SettleOutcome: &gateway.Outcome{Kind: gateway.OutcomeCompleted}}
				if err := e.Store.CreateWithdrawal(o); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	require.NoError(tb, <-errs)
}

// TestClockAdvanceOverManyDueTimers: 20,000 payouts due over a minute. POST advance
// answers 202 with a job at once (wait=0s), the job completes, and every payout was
// settled once: one payout_complete ledger entry each, nothing left reserved, the
// balance exact, each settled in its own second and not before it was due.
// (Callbacks delivered once each: TestClockAdvanceIsNotHeldByTraffic.)
func TestClockAdvanceOverManyDueTimers(t *testing.T) {
	n := 20000
	if testing.Short() {
		n = 2000 // -short: due over 6 s, 6 stops
	}
	e := frozenEnv(t)
	m := e.Cfg.MerchantList()[0]
	before, err := e.Store.Balances(m.Username)
	require.NoError(t, err)
	makePayouts(t, e, "MANY", n, t0.Add(time.Minute), 3*time.Millisecond)

	j := e.startJob(t, map[string]string{"advance": "5m"})
	assert.Contains(t, []string{"queued", "running"}, j.State)
	j = e.pollJob(t, j.Poll)
	require.Equal(t, "done", j.State, "%+v", j)
	assert.Equal(t, t0.Add(5*time.Minute), *j.Reached)
	assert.Equal(t, n, j.TimersRun, "a frozen clock: the job ran every timer")
	// Each stop runs what is due within one second: 60 s of payouts, 60 stops.
	assert.Equal(t, (n*3+999)/1000, j.Stops, "stops")

	ledger, err := e.Store.Ledger(m.Username)
	require.NoError(t, err)
	completions := map[string]int{}
	for _, en := range ledger {
		if en.Reason == gateway.ReasonPayoutComplete {
			completions[en.OrderID]++
		}
	}
	assert.Len(t, completions, n, "every payout completed")
	for id, c := range completions {
		if c != 1 {
			t.Errorf("%s: completed %d times", id, c)
		}
	}
	for i := 0; i < n; i++ {
		o, err := e.Store.Order(gateway.KindWithdrawal, m.Username, fmt.Sprintf("MANY-%05d", i))
		require.NoError(t, err)
		require.Equal(t, gateway.StatusCompleted, o.Status, o.OrderID)
		due := t0.Add(time.Minute + time.Duration(i)*3*time.Millisecond)
		require.False(t, o.SettledAt.Before(due), "%s settled before it was due", o.OrderID)
		require.Equal(t, due.Truncate(time.Second), o.SettledAt.Truncate(time.Second), "%s settled in its own second", o.OrderID)
	}
	after, err := e.Store.Balances(m.Username)
	require.NoError(t, err)
	cc, _ := m.Currency("MYR")
	each := gateway.PayoutReserve(gateway.MustMoney("10"), cc)
	for i, b := range after {
		if b.Currency == "MYR" {
			assert.Equal(t, before[i].Available-each*gateway.Money(n), b.Available, "each payout paid out once")
			assert.Zero(t, b.Reserved, "nothing left reserved")
		}
	}
	var v server.ClockView
	getJSON(t, e.URL+"/sandbox/api/clock", &v)
	assert.Nil(t, v.NextDue, "nothing left due")
	assert.Empty(t, v.Jobs)
}

// TestClockAdvanceIsNotHeldByTraffic: while an advance waits on its first callback,
// traffic makes 300 payouts due before the advance's target. The advance runs the
// orders that existed when it was called and answers; the later orders keep their
// own timers, which the scheduler runs as the clock passed them.
func TestClockAdvanceIsNotHeldByTraffic(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	rc := newRecorder(t, func(n int, w http.ResponseWriter, r *http.Request, stop <-chan struct{}) {
		if n == 1 {
			select { // the first callback waits until the traffic is made
			case <-release:
			case <-stop:
			}
		}
		acknowledge(n, w, r, stop)
	})
	e := frozenEnv(t, withCallback(rc.URL), func(c *config.Config) {
		c.WithdrawalDelay = config.Duration(time.Minute)
		c.Callbacks.Timeout = config.Duration(30 * time.Second)
	})
	makePayouts(t, e, "OLD", 50, t0.Add(time.Minute), time.Second)
	j := e.startJob(t, map[string]string{"advance": "10m"})
	// Traffic: payouts made through the API while the job waits on the first
	// callback, each due a minute after it is made, before the job's target.
	waitFor(t, func() bool { return rc.Count() >= 1 })
	for i := 0; i < 300; i++ {
		e.Withdraw(t, fmt.Sprintf("NEW-%03d", i), nil)
	}
	once.Do(func() { close(release) })
	j = e.pollJob(t, j.Poll)
	require.Equal(t, "done", j.State, "%+v", j)
	assert.Equal(t, 50, j.TimersRun, "the job ran the 50 orders that existed when it was called, and only those")
	assert.Equal(t, t0.Add(10*time.Minute), *j.Reached)
	perOrder := map[string]int{}
	for _, d := range rc.Deliveries() {
		require.NotNil(t, d.Callback)
		perOrder[d.Callback.OrderID]++
	}
	for i := 0; i < 50; i++ {
		o, err := e.Store.Order(gateway.KindWithdrawal, e.Cfg.MerchantList()[0].Username, fmt.Sprintf("OLD-%05d", i))
		require.NoError(t, err)
		assert.Equal(t, gateway.StatusCompleted, o.Status)
		assert.Equal(t, 1, perOrder[o.OrderID], "%s: its callback delivered once, before the job was done", o.OrderID)
	}
	// The later orders are due (the clock passed them): the scheduler runs them.
	waitFor(t, func() bool {
		for i := 0; i < 300; i++ {
			o, err := e.Store.Order(gateway.KindWithdrawal, e.Cfg.MerchantList()[0].Username, fmt.Sprintf("NEW-%03d", i))
			if err != nil || o.Status != gateway.StatusCompleted {
				return false
			}
		}
		return true
	})
}

// waitFor checks cond until it holds (at most 30 s: the test fails then): it waits
// for something to happen, never for nothing to.
func waitFor(tb testing.TB, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		require.True(tb, time.Now().Before(deadline), "condition not met within 30 s")
		time.Sleep(10 * time.Millisecond)
	}
}

// TestClockMovesQueueInTurn: three moves posted at once all complete, in the order
// they came; one whose target an earlier one passed is done without moving the
// clock back.
func TestClockMovesQueueInTurn(t *testing.T) {
	e := frozenEnv(t)
	makePayouts(t, e, "Q", 10, t0.Add(time.Minute), time.Minute)
	a := e.startJob(t, map[string]string{"advance": "1h"})
	b := e.startJob(t, map[string]string{"advance": "30m"}) // target t0+30m, behind a's
	c := e.startJob(t, map[string]string{"set": t0.Add(2 * time.Hour).Format(time.RFC3339)})
	for _, j := range []server.ClockJob{a, b, c} {
		j = e.pollJob(t, j.Poll)
		assert.Equal(t, "done", j.State, "%+v", j)
	}
	a, b, c = e.pollJob(t, a.Poll), e.pollJob(t, b.Poll), e.pollJob(t, c.Poll)
	assert.Equal(t, 10, a.TimersRun)
	assert.Zero(t, b.TimersRun)
	assert.Equal(t, t0.Add(time.Hour), *b.Reached, "b's target was passed: the clock stayed")
	assert.False(t, b.Started.Before(*a.Finished), "in turn")
	assert.False(t, c.Started.Before(*b.Finished), "in turn")
	var v server.ClockView
	getJSON(t, e.URL+"/sandbox/api/clock", &v)
	assert.Equal(t, t0.Add(2*time.Hour), v.Now)

	resp, err := http.Get(e.URL + "/sandbox/api/clock/jobs/clk_999")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}

// TestClockShutdownMidAdvanceLosesNothing: the sandbox stops while an advance waits
// on a callback; the job ends stopped, and after a restart on the same file what the
// advance had not run is still due, runs once, and what it had run is not run again.
func TestClockShutdownMidAdvanceLosesNothing(t *testing.T) {
	path := t.TempDir() + "/sandbox.db"
	var mu sync.Mutex
	hold := true
	rc := newRecorder(t, func(n int, w http.ResponseWriter, r *http.Request, stop <-chan struct{}) {
		mu.Lock()
		h := hold
		mu.Unlock()
		if h && n == 1 {
			<-stop // the first callback hangs until the recorder closes
			return
		}
		acknowledge(n, w, r, stop)
	})
	cfg := func(c *config.Config) {
		c.Callbacks.Schedule = config.Default().Callbacks.Schedule
		c.Callbacks.Timeout = config.Duration(time.Hour) // only the shutdown ends the attempt
		c.Merchants[0].CallbackURL = rc.URL
	}
	e := openEnv(t, inproc.Options{Path: path, Clock: clock.Frozen(t0), Changes: []func(*config.Config){cfg}})
	makePayouts(t, e, "SIG", 20, t0.Add(time.Minute), time.Minute) // 20 stops, a minute apart
	e.startJob(t, map[string]string{"advance": "1h"})
	waitFor(t, func() bool { return rc.Count() >= 1 }) // the job waits on the first callback
	stopped := make(chan struct{})
	go func() { e.Close(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("the sandbox did not stop within 10 s of the shutdown during an advance")
	}
	mu.Lock()
	hold = false
	mu.Unlock()

	st, err := store.Open(path)
	require.NoError(t, err)
	merchant := e.Cfg.MerchantList()[0].Username
	done := 0
	for i := 0; i < 20; i++ {
		o, err := st.Order(gateway.KindWithdrawal, merchant, fmt.Sprintf("SIG-%05d", i))
		require.NoError(t, err)
		if o.Status == gateway.StatusCompleted {
			done++
		} else {
			assert.False(t, o.SettleAt.IsZero(), "%s: not run, and still due", o.OrderID)
		}
	}
	saved, ok, err := st.SavedClock()
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, st.Close())
	assert.Less(t, done, 20, "the shutdown came before the end of the advance")
	assert.True(t, saved.Frozen)
	assert.False(t, saved.At.After(t0.Add(time.Minute)), "the clock was saved where the job stopped: %v", saved.At)

	e2 := openEnv(t, inproc.Options{Path: path, Clock: clock.Frozen(t0), Changes: []func(*config.Config){cfg}})
	require.NoError(t, e2.Store.Clock().Restore(saved))
	v := e2.advance(t, "1h")
	assert.Equal(t, saved.At.Add(time.Hour), v.Now)
	for i := 0; i < 20; i++ {
		o, err := e2.Store.Order(gateway.KindWithdrawal, merchant, fmt.Sprintf("SIG-%05d", i))
		require.NoError(t, err)
		assert.Equal(t, gateway.StatusCompleted, o.Status)
		dels, err := e2.Store.Deliveries(gateway.KindWithdrawal, merchant, o.OrderID)
		require.NoError(t, err)
		assert.Len(t, dels, 1, "%s settled once: one callback", o.OrderID)
	}
}

// TestClockAdvanceNotHeldByAHangingReceiver: a stop waits for its callbacks at most
// callbacks.timeout and a second. Ten payouts settle at one stop, their receiver
// hangs, one attempt at a time (per_host 1, timeout 1 s): the job is done while
// callbacks of that stop have not had their first attempt yet, and the dispatcher
// still holds them.
func TestClockAdvanceNotHeldByAHangingReceiver(t *testing.T) {
	rc := newRecorder(t, func(_ int, _ http.ResponseWriter, r *http.Request, stop <-chan struct{}) {
		select { // hang until the sandbox gives up on the attempt
		case <-stop:
		case <-r.Context().Done():
		}
	})
	e := frozenEnv(t, withCallback(rc.URL), func(c *config.Config) {
		c.Callbacks.Timeout = config.Duration(time.Second)
		c.Callbacks.Concurrency, c.Callbacks.PerHost = 4, 1
	})
	makePayouts(t, e, "HANG", 10, t0.Add(time.Minute), 0)
	j := e.pollJob(t, e.startJob(t, map[string]string{"advance": "2m"}).Poll)
	require.Equal(t, "done", j.State, "%+v", j)
	assert.Equal(t, 10, j.TimersRun)
	untried := 0
	for i := 0; i < 10; i++ {
		dels, err := e.Store.Deliveries(gateway.KindWithdrawal, e.Cfg.MerchantList()[0].Username, fmt.Sprintf("HANG-%05d", i))
		require.NoError(t, err)
		require.Len(t, dels, 1)
		if dels[0].Attempts == 0 {
			untried++
		}
	}
	assert.Positive(t, untried, "the move went on before the hanging receiver's backlog was tried")
}

// TestClockMovesWaitingAreBounded: while a move waits on a receiver that hangs, 64
// more are queued (202 each) and the next is refused 429 naming the limit; a
// shutdown ends them all.
func TestClockMovesWaitingAreBounded(t *testing.T) {
	rc := newRecorder(t, func(_ int, _ http.ResponseWriter, r *http.Request, stop <-chan struct{}) {
		select {
		case <-stop:
		case <-r.Context().Done():
		}
	})
	e := frozenEnv(t, withCallback(rc.URL), func(c *config.Config) { c.Callbacks.Timeout = config.Duration(time.Hour) })
	makePayouts(t, e, "BUSY", 1, t0.Add(time.Minute), 0)
	e.startJob(t, map[string]string{"advance": "2m"})
	waitFor(t, func() bool { return rc.Count() >= 1 }) // the first move waits on the hanging callback
	for i := 0; i < 64; i++ {
		e.startJob(t, map[string]string{"advance": "1s"})
	}
	code, b := e.PostForm(t, "/sandbox/api/clock", map[string]string{"advance": "1s", "wait": "0s"})
	assert.Equal(t, http.StatusTooManyRequests, code, "%s", b)
	assert.Contains(t, string(b), "at most 64 wait behind the one running")
	var v server.ClockView
	getJSON(t, e.URL+"/sandbox/api/clock", &v)
	assert.Len(t, v.Jobs, 65, "the one running and the 64 waiting")
	assert.Equal(t, "running", v.Jobs[0].State)
}
