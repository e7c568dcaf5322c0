// Package faults is the queue of faults on the merchant's own requests, queued by the admin API
// (POST /sandbox/api/faults) or opened as maintenance windows: each is matched
// against every vendor request by endpoint, merchant and field patterns, and hits
// count times (or with a probability drawn from the --seed source, so a run with a
// frozen clock repeats). The queue is stored with the state, so a restart keeps it.
// Injecting a fault into an answer is the server's (Echo) work; the queue, its
// matching, its saver and the admin API's parsing of a fault are here.
package faults

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vpay88/vpay88-sandbox/gateway"
)

// Bounds of the fault queue (README, guessed behaviours), checked before a fault is
// queued: the queue is matched against every vendor request and stored with the state,
// so its size is what one busy team could make every other team pay (10,000
// never-matching faults once took generate_orders from 25,235 to 1,069 answers per 4 s,
// and 60 faults with 900 KB messages 551 MB).
const (
	// maxEnded bounds how many spent faults the list keeps, for their hit counts.
	maxEnded = 200
	// MaxFaults bounds the live faults and windows queued by the admin API.
	MaxFaults = 1000
	// maxMatches bounds a fault's field patterns (match.<field>).
	maxMatches = 8
	// maxMatchFieldBytes and maxMatchPatternBytes bound each pattern's field name and
	// glob; a request's field is at most 2 KiB (gateway.FieldLimits), a glob for it
	// need not be longer than a few of its values.
	maxMatchFieldBytes   = 64
	maxMatchPatternBytes = 256
)

// saveInterval is how often hit counts are stored at most: a hit is counted in
// memory at once and stored by the one saver within this interval (and at shutdown),
// so traffic never starts a save of its own. Adding or removing a fault stores the
// queue before the call answers.
const saveInterval = time.Second

// Fault is one queued fault or maintenance window, as the admin API shows it.
type Fault struct {
	ID int64 `json:"id"`
	gateway.FaultSpec
	// Endpoints it hits (empty: every vendor endpoint).
	Endpoints []gateway.Endpoint `json:"endpoints"`
	// Merchant, when set, limits it to that merchant's requests.
	Merchant string `json:"merchant,omitempty"`
	// Match holds field patterns (path.Match globs): every one must match.
	Match map[string]string `json:"match,omitempty"`
	// Count is how many requests it hits (0: no limit); Probability, when set, is the
	// chance that a matching request is hit.
	Count       int     `json:"count"`
	Probability float64 `json:"probability,omitempty"`
	Hits        int     `json:"hits"`
	// Remaining is Count - Hits when Count is set.
	Remaining *int `json:"remaining,omitempty"`
	// Source says who queued it: "api", or the rule that opened a window.
	Source    string    `json:"source"`
	CreatedAt time.Time `json:"created_at"`
	// Until ends a maintenance window (by the sandbox clock).
	Until time.Time `json:"until,omitzero"`
	Ended bool      `json:"ended"`

	// globs are Match compiled for matching (rearm fills them).
	globs []fieldGlob
}

// key files a live fault by an endpoint and a merchant it hits ("": any).
type key struct {
	endpoint gateway.Endpoint
	merchant string
}

// Queue is the sandbox's queue of faults: matched on every vendor request, kept in
// the store's meta records by its one saver. It is safe for concurrent use.
type Queue struct {
	saveMu sync.Mutex // serialises store
	mu     sync.Mutex
	next   int64
	faults []*Fault
	rand   *rand.Rand
	// armed says a fault is live; every vendor request reads it, without the lock.
	armed atomic.Bool
	// index holds the live faults by endpoint and merchant, each list oldest first, so
	// a request tries only the faults that can hit it; live counts them, and nextEnd is
	// the earliest end of a live window (zero: none), when the index must be rebuilt.
	index   map[key][]*Fault
	live    int
	nextEnd time.Time
	// kick asks the saver to store the hit counts; a full channel means a save is
	// pending already, so a hit never waits and never starts a goroutine.
	kick chan struct{}

	// st keeps the queue; onSave tells the dashboards it changed.
	st     Store
	log    *slog.Logger
	onSave func()
}

// New returns an empty queue: seed draws its probabilities (the --seed source), st
// keeps it, log hears of a failed save, and onSave (when set) is called after each save.
func New(seed int64, st Store, log *slog.Logger, onSave func()) *Queue {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Queue{rand: rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15)), kick: make(chan struct{}, 1),
		st: st, log: log, onSave: onSave}
}

// InputError is a fault or an admin request the queue refuses: the admin API answers
// it 400 with its message.
type InputError struct{ msg string }

func (e *InputError) Error() string { return e.msg }

func bad(format string, args ...any) error { return &InputError{msg: fmt.Sprintf(format, args...)} }

// errQueueFull refuses a fault past MaxFaults.
var errQueueFull = bad("the fault queue holds %d live faults, its limit: delete some first (DELETE /sandbox/api/faults/{id})", MaxFaults)

// Add queues f and returns the stored copy; past MaxFaults live faults it refuses.
func (q *Queue) Add(f Fault) (Fault, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.rearm(f.CreatedAt)
	if q.live >= MaxFaults {
		return Fault{}, errQueueFull
	}
	q.next++
	f.ID = q.next
	q.faults = append(q.faults, &f)
	q.rearm(f.CreatedAt)
	return f.view(), nil
}

// Window opens a maintenance window a rule asked for: a live window of the same rule,
// merchant and endpoints is extended rather than another queued (false: not added), so
// a rule matched by every request keeps one window, and rule windows stay as many as
// the rules.
func (q *Queue) Window(f Fault) (Fault, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.rearm(f.CreatedAt)
	for _, open := range q.faults {
		if !open.Ended && open.Kind == gateway.FaultMaintenance && open.Source == f.Source && open.Merchant == f.Merchant && slices.Equal(open.Endpoints, f.Endpoints) {
			if f.Until.After(open.Until) {
				open.Until = f.Until
			}
			q.rearm(f.CreatedAt)
			// A rule's window extended by one more matched request: saved like a
			// hit, never a write on the request's path.
			q.hitSaved()
			return open.view(), false
		}
	}
	q.next++
	f.ID = q.next
	q.faults = append(q.faults, &f)
	q.rearm(f.CreatedAt)
	return f.view(), true
}

// view is the fault as listed: Remaining filled in.
func (f Fault) view() Fault {
	if f.Count > 0 {
		left := max(0, f.Count-f.Hits)
		f.Remaining = &left
	}
	f.Endpoints = slices.Clone(f.Endpoints)
	if f.Endpoints == nil {
		f.Endpoints = []gateway.Endpoint{}
	}
	return f
}

func (f *Fault) spent(now time.Time) bool {
	return (f.Count > 0 && f.Hits >= f.Count) || (!f.Until.IsZero() && !now.Before(f.Until))
}

// rearm marks the ended faults, drops the oldest ended ones past the bound, rebuilds
// the index and recomputes armed. It walks the queue: it runs when the queue changes
// (an add, a removal, a fault spent, a window's end), never on a plain hit. Callers
// hold mu.
func (q *Queue) rearm(now time.Time) {
	ended := 0
	q.live, q.nextEnd = 0, time.Time{}
	clear(q.index)
	if q.index == nil {
		q.index = map[key][]*Fault{}
	}
	for _, f := range q.faults {
		f.Ended = f.spent(now)
		if f.Ended {
			ended++
			continue
		}
		q.live++
		if f.globs == nil && len(f.Match) > 0 {
			f.globs = compileGlobs(f.Match)
		}
		if !f.Until.IsZero() && (q.nextEnd.IsZero() || f.Until.Before(q.nextEnd)) {
			q.nextEnd = f.Until
		}
		for _, e := range anyEndpoint(f.Endpoints) {
			k := key{endpoint: e, merchant: f.Merchant}
			q.index[k] = append(q.index[k], f)
		}
	}
	for i := 0; ended > maxEnded && i < len(q.faults); {
		if q.faults[i].Ended {
			q.faults = slices.Delete(q.faults, i, i+1)
			ended--
			continue
		}
		i++
	}
	q.armed.Store(q.live > 0)
}

// anyAnd is the keys a request's value v is looked up under: any ("") and v itself.
func anyAnd[T ~string](v T) []T {
	if v == "" {
		return []T{""}
	}
	return []T{"", v}
}

// anyEndpoint is the endpoints a fault is filed under: its own, or "" (every one).
func anyEndpoint(es []gateway.Endpoint) []gateway.Endpoint {
	if len(es) == 0 {
		return []gateway.Endpoint{""}
	}
	return es
}

// List returns the faults, oldest first.
func (q *Queue) List(now time.Time) []Fault {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.rearm(now)
	out := make([]Fault, 0, len(q.faults))
	for _, f := range q.faults {
		out = append(out, f.view())
	}
	return out
}

// Remove deletes one fault (id > 0) or all; it reports whether any was removed.
func (q *Queue) Remove(id int64, now time.Time) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := len(q.faults)
	if id == 0 {
		q.faults = nil
	} else {
		q.faults = slices.DeleteFunc(q.faults, func(f *Fault) bool { return f.ID == id })
	}
	q.rearm(now)
	return len(q.faults) < n
}

// Request is what a fault is matched against.
type Request struct {
	Endpoint gateway.Endpoint
	Merchant string
	// Fields reads a request's field by name ("" when absent).
	Fields func(string) string
}

// Hit finds the oldest live fault that matches r, counts the hit, and returns a copy;
// the saver stores the count within saveInterval.
// It tries only the faults filed under r's endpoint and merchant (or any), so its cost
// does not grow with faults queued for other endpoints or merchants.
func (q *Queue) Hit(r Request, now time.Time) (Fault, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.armed.Load() {
		return Fault{}, false
	}
	if !q.nextEnd.IsZero() && !now.Before(q.nextEnd) {
		q.rearm(now) // a window ended
	}
	var lists [4][]*Fault
	n := 0
	for _, e := range anyAnd(r.Endpoint) {
		for _, m := range anyAnd(r.Merchant) {
			if l := q.index[key{e, m}]; len(l) > 0 {
				lists[n] = l
				n++
			}
		}
	}
	for {
		// The oldest head of the lists: faults are tried oldest first, as queued.
		best := -1
		for j := 0; j < n; j++ {
			if len(lists[j]) > 0 && (best < 0 || lists[j][0].ID < lists[best][0].ID) {
				best = j
			}
		}
		if best < 0 {
			return Fault{}, false
		}
		f := lists[best][0]
		lists[best] = lists[best][1:]
		if f.spent(now) || !f.matches(r) {
			continue
		}
		if f.Probability > 0 && q.rand.Float64() >= f.Probability {
			continue
		}
		f.Hits++
		if f.spent(now) {
			q.rearm(now)
		}
		q.hitSaved()
		return f.view(), true
	}
}

func (f *Fault) matches(r Request) bool {
	if len(f.Endpoints) > 0 && !slices.Contains(f.Endpoints, r.Endpoint) {
		return false
	}
	if f.Merchant != "" && f.Merchant != r.Merchant {
		return false
	}
	if f.globs == nil && len(f.Match) > 0 {
		f.globs = compileGlobs(f.Match)
	}
	for _, g := range f.globs {
		v := r.Fields(g.field)
		if !strings.HasPrefix(v, g.prefix) {
			return false
		}
		if ok, _ := path.Match(g.pattern, v); !ok {
			return false
		}
	}
	return true
}

// fieldGlob is one of a fault's field patterns, with the literal text it starts with:
// a value without that prefix is refused by one comparison, so a request pays a few
// nanoseconds for each of the never-matching faults of its endpoint, not a glob match
// (1000 of them once cost a generate_orders 130 µs of CPU).
type fieldGlob struct {
	field, pattern, prefix string
}

// compileGlobs lists a fault's patterns, in field order.
func compileGlobs(match map[string]string) []fieldGlob {
	out := make([]fieldGlob, 0, len(match))
	for field, pat := range match {
		prefix := pat
		if i := strings.IndexAny(pat, `*?[\`); i >= 0 {
			prefix = pat[:i]
		}
		out = append(out, fieldGlob{field: field, pattern: pat, prefix: prefix})
	}
	slices.SortFunc(out, func(a, b fieldGlob) int { return strings.Compare(a.field, b.field) })
	return out
}

// snapshot and restore carry the queue across restarts (store meta "faults").
type snapshotJSON struct {
	Next   int64    `json:"next"`
	Faults []*Fault `json:"faults"`
}

func (q *Queue) snapshot() ([]byte, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return json.Marshal(snapshotJSON{Next: q.next, Faults: q.faults})
}

func (q *Queue) restore(b []byte, now time.Time) error {
	var snap snapshotJSON
	if err := json.Unmarshal(b, &snap); err != nil {
		return err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.next, q.faults = snap.Next, snap.Faults
	q.rearm(now)
	return nil
}
