package server

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/vpay88/vpay88-sandbox/clock"
	"github.com/vpay88/vpay88-sandbox/gateway"
)

// A move of the test clock is a job: POST /sandbox/api/clock queues it and waits for
// it at most its wait (5 s unless asked), then answers 202 with the job to poll at
// /sandbox/api/clock/jobs/{id}. One runner takes the jobs in the order they came, so
// no team's advance can overtake another's, and each job is bounded: it runs the
// work of the orders that existed when it was called (their timers, and their
// callbacks' attempts and retries) up to its target, and no more, however much
// traffic arrives meanwhile (issue 18, finding 7).

// Bounds of the clock's jobs (README, "The test clock").
const (
	// maxClockJobs is how many moves may wait behind the one running; the next is a
	// 429.
	maxClockJobs = 64
	// keptClockJobs is how many jobs GET /sandbox/api/clock/jobs/{id} remembers.
	keptClockJobs = 2 * maxClockJobs // more than can be live at once: a live job is always kept
	// timerBatch is how many due timers one transaction batch reads; timerWorkers
	// run them at once, so their commits are shared (store.write's group commit):
	// 100,000 payouts due together cost ~3,000 commits, not 100,000.
	timerBatch   = 512
	timerWorkers = 32
	// schedulerBatch is the scheduler's batch: one round of the workers, so that it
	// holds dueMu briefly between rounds.
	schedulerBatch = timerWorkers
)

// Job states.
const (
	jobQueued  = "queued"
	jobRunning = "running"
	jobDone    = "done"
	jobStopped = "stopped"
)

// ClockJob is a move of the clock as GET /sandbox/api/clock/jobs/{id} answers it.
type ClockJob struct {
	ID string `json:"id"`
	// State is queued, running, done, or stopped (the sandbox shut down or the move
	// failed: Error says why; what was not run stays due and runs when its time
	// comes, or at the next start).
	State  string    `json:"state"`
	Target time.Time `json:"target"`
	// Reached is the clock's time when the job last stopped to run something.
	Reached *time.Time `json:"reached,omitempty"`
	// Stops counts the instants the move stopped at (the answer's ran); TimersRun
	// the settlements, expiries and reversals it ran.
	Stops     int        `json:"stops"`
	TimersRun int        `json:"timers_run"`
	Created   time.Time  `json:"created"`
	Started   *time.Time `json:"started,omitempty"`
	Finished  *time.Time `json:"finished,omitempty"`
	Error     string     `json:"error,omitempty"`
	// Poll is where to ask for the job.
	Poll string `json:"poll"`
}

type clockJob struct {
	id       string
	target   time.Time
	unfreeze bool
	mark     uint64 // the orders that existed when the move was called
	done     chan struct{}

	mu sync.Mutex
	v  ClockJob
}

func (j *clockJob) view() ClockJob {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.v
}

func (j *clockJob) update(f func(v *ClockJob)) {
	j.mu.Lock()
	f(&j.v)
	j.mu.Unlock()
}

// clockJobs is the queue of moves and the last ones done.
type clockJobs struct {
	s     *Server
	queue chan *clockJob
	mu    sync.Mutex
	seq   int
	kept  []*clockJob // oldest first, at most keptClockJobs
}

func newClockJobs(s *Server) *clockJobs {
	return &clockJobs{s: s, queue: make(chan *clockJob, maxClockJobs)}
}

// submit queues a move to target; 429 when maxClockJobs are waiting.
func (q *clockJobs) submit(target time.Time, unfreeze bool) (*clockJob, error) {
	mark, err := q.s.store.OrderMark()
	if err != nil {
		return nil, err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.seq++
	id := "clk_" + strconv.Itoa(q.seq)
	j := &clockJob{id: id, target: target.UTC(), unfreeze: unfreeze, mark: mark, done: make(chan struct{})}
	j.v = ClockJob{ID: id, State: jobQueued, Target: j.target, Created: time.Now().UTC(), Poll: "/sandbox/api/clock/jobs/" + id}
	select {
	case q.queue <- j:
	default:
		q.seq--
		return nil, fail(http.StatusTooManyRequests, "too many clock moves waiting: at most "+strconv.Itoa(maxClockJobs)+" wait behind the one running")
	}
	q.kept = append(q.kept, j)
	if len(q.kept) > keptClockJobs {
		q.kept = q.kept[len(q.kept)-keptClockJobs:]
	}
	return j, nil
}

func (q *clockJobs) get(id string) *clockJob {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, j := range q.kept {
		if j.id == id {
			return j
		}
	}
	return nil
}

// run takes the jobs in turn until the server stops; the jobs left then are ended
// as stopped.
func (q *clockJobs) run() {
	s := q.s
	defer s.wg.Done()
	// A job stops as soon as shutdown begins (stopping), so that http.Server.Shutdown
	// does not wait on it: SIGTERM during an advance exits 0 within the deadline.
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	go func() {
		select {
		case <-s.stopping:
			cancel()
		case <-ctx.Done():
		}
	}()
	for {
		select {
		case <-ctx.Done():
			for {
				select {
				case j := <-q.queue:
					q.finish(j, errStopped)
				default:
					return
				}
			}
		case j := <-q.queue:
			q.finish(j, s.runJob(ctx, j))
		}
	}
}

var errStopped = errors.New("the sandbox is shutting down")

func (q *clockJobs) finish(j *clockJob, err error) {
	now := time.Now().UTC()
	j.update(func(v *ClockJob) {
		v.Finished = &now
		v.State = jobDone
		if err != nil {
			v.State = jobStopped
			if errors.Is(err, context.Canceled) {
				err = errStopped
			}
			v.Error = err.Error() + ": the move stopped"
			if v.Reached != nil {
				v.Error += " at " + v.Reached.Format(time.RFC3339Nano)
			}
			v.Error += "; what it had not run stays due and runs when its time comes (after a restart too)"
		}
	})
	close(j.done)
}

// runJob runs one move, then saves the clock and restarts it if asked.
func (s *Server) runJob(ctx context.Context, j *clockJob) error {
	started := time.Now().UTC()
	j.update(func(v *ClockJob) { v.State, v.Started = jobRunning, &started })
	err := s.runAdvance(ctx, j)
	if err == nil && j.unfreeze {
		s.store.Clock().Freeze(false)
	}
	// The clock is saved where the move left it, also when it stopped half-way: the
	// timers it passed and did not run are still stored, and run at the next start.
	if serr := s.store.SaveClock(); err == nil {
		err = serr
	}
	s.events.Publish("clock")
	v := j.view()
	s.log.Info("clock moved", "now", s.store.Now().UTC(), "target", j.target, "stops", v.Stops, "timers", v.TimersRun,
		"took", time.Since(started).Round(time.Millisecond), "err", err)
	return err
}

// runAdvance moves the clock to the job's target, stopping at each stretch of work
// of the job's orders (store.NextWork: the timers and callback attempts due within
// one second, run at the latest of their instants), in time order: a payout's
// settlement, then its callback, then the callback's retry a minute later, as they
// would have happened. Orders made after the call are not its work: the scheduler
// and the dispatcher run theirs as the clock reaches them. Each stop waits for the
// attempts of the job's callbacks then due (drainOf), so the attempt log reads as the
// real schedule would have written it. It stops between batches when ctx ends.
func (s *Server) runAdvance(ctx context.Context, j *clockJob) error {
	clk := s.store.Clock()
	var drained time.Time // callbacks due by then were waited for at a stop
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		s.dueMu.Lock()
		w, ok, err := s.store.NextWork(j.target, drained, j.mark, timerBatch)
		if err != nil || !ok {
			s.dueMu.Unlock()
			if err != nil {
				return err
			}
			break
		}
		if err := moveTo(clk, w.Last); err != nil {
			s.dueMu.Unlock()
			return err
		}
		s.runBatch(w.Timers)
		s.dueMu.Unlock()
		reached := clk.Now().UTC()
		j.update(func(v *ClockJob) { v.Stops++; v.TimersRun += len(w.Timers); v.Reached = &reached })
		if w.Full {
			continue // more timers due within the same second: their turn first
		}
		if err := s.drainOf(ctx, j.mark); err != nil {
			return err
		}
		drained = clk.Now()
	}
	if err := moveTo(clk, j.target); err != nil {
		return err
	}
	reached := clk.Now().UTC()
	j.update(func(v *ClockJob) { v.Reached = &reached })
	return nil
}

// moveTo sets the clock to at unless it is already there or past it (a running clock
// moves on its own, or an earlier job went further).
func moveTo(clk *clock.Clock, at time.Time) error {
	if err := clk.Set(at); err != nil && !errors.Is(err, clock.ErrBackwards) {
		return err
	}
	return nil
}

// runBatch runs due timers on timerWorkers goroutines, so that their transactions
// share commits. The caller holds dueMu; the orders are distinct (a timer key names
// one order, and an order has one timer due at a time).
func (s *Server) runBatch(due []*gateway.Order) {
	if len(due) < 2 {
		for _, o := range due {
			s.runDue(o)
		}
		return
	}
	next := make(chan *gateway.Order)
	var wg sync.WaitGroup
	for range min(timerWorkers, len(due)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for o := range next {
				s.runDue(o)
			}
		}()
	}
	for _, o := range due {
		next <- o
	}
	close(next)
	wg.Wait()
}

// drainOf returns once no callback of an order numbered up to mark is due at the
// clock's time: each has had its attempt (a failed one is rescheduled after now).
// Other orders' callbacks are not waited for, so traffic cannot hold it. It waits at
// most callbacks.timeout and a second: a receiver that hangs, with a backlog queued
// behind its per-host share, delays a stop by that much, not by its backlog; what is
// left is the dispatcher's, attempted as soon as a worker is free.
func (s *Server) drainOf(ctx context.Context, mark uint64) error {
	safety := time.NewTicker(100 * time.Millisecond) // a missed change notice costs this
	defer safety.Stop()
	limit := time.NewTimer(time.Duration(s.cfg.Callbacks.Timeout) + time.Second)
	defer limit.Stop()
	for {
		changed := s.dispatcher.Changed()
		pending, err := s.store.PendingOf(s.store.Now(), mark)
		if err != nil || !pending {
			return err
		}
		s.dispatcher.Notify()
		select {
		case <-changed:
		case <-safety.C:
		case <-limit.C:
			s.log.Info("clock move goes on: callbacks due are still waiting for their receivers", "after", time.Duration(s.cfg.Callbacks.Timeout)+time.Second)
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// active lists the moves queued or running, for GET /sandbox/api/clock.
func (q *clockJobs) active() []ClockJob {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []ClockJob
	for _, j := range q.kept {
		if v := j.view(); v.State == jobQueued || v.State == jobRunning {
			out = append(out, v)
		}
	}
	return out
}
