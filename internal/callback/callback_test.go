package callback

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/store"
)

// gauge counts the requests a test receiver is serving, and the most at once.
type gauge struct {
	mu        sync.Mutex
	now, peak int
	total     int
}

func (g *gauge) enter() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.now++
	g.total++
	g.peak = max(g.peak, g.now)
}

func (g *gauge) leave() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.now--
}

func (g *gauge) read() (now, peak, total int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.now, g.peak, g.total
}

// waitFor polls cond (bounded in time): the dispatcher works in the background.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			require.FailNow(t, "timed out waiting: "+what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func enqueue(t *testing.T, st *store.Store, merchant, u string, n int) []*store.Delivery {
	t.Helper()
	dels := make([]*store.Delivery, n)
	for i := range dels {
		dels[i] = &store.Delivery{Merchant: merchant, Kind: gateway.KindDeposit, OrderID: merchant + "-" + string(rune('a'+i)),
			URL: u, Body: []byte(`{}`), NextAt: st.Now().UTC()}
	}
	require.NoError(t, st.Enqueue(dels))
	return dels
}

// TestPerHostCap: a receiver that hangs holds at most PerHost workers; deliveries to
// another receiver, queued behind its backlog, go at once; the hung receiver's
// skipped deliveries go as its slots free.
func TestPerHostCap(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "cb.db"))
	require.NoError(t, err)
	defer st.Close()

	release := make(chan struct{})
	var hung, ok gauge
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hung.enter()
		defer hung.leave()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	fast := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ok.enter()
		ok.leave()
	}))
	defer fast.Close()

	// The hung receiver's backlog is older than the other's deliveries, and larger
	// than the workers: without the cap it would hold every one of them.
	slowDels := enqueue(t, st, "a", slow.URL+"/cb", 10)
	fastDels := enqueue(t, st, "b", fast.URL+"/cb", 5)

	d := New(Options{Store: st, Client: NewHTTPClient(10 * time.Second), Concurrency: 4, PerHost: 2,
		Schedule: []time.Duration{0, time.Hour}})
	d.Start()
	defer d.Close()
	assert.Equal(t, 2, d.PerHost())

	waitFor(t, 5*time.Second, "the other receiver's 5 callbacks", func() bool { _, _, n := ok.read(); return n == 5 })
	waitFor(t, 5*time.Second, "the hung receiver's share", func() bool { n, _, _ := hung.read(); return n == 2 })
	waitFor(t, 5*time.Second, "the other deliveries recorded", func() bool { return allDelivered(st, fastDels) })
	// Its other eight were skipped, not started: the receiver saw two requests, and
	// all ten are pending with no attempt recorded (two are in flight).
	_, _, seen := hung.read()
	assert.Equal(t, 2, seen)
	for _, del := range slowDels {
		cur, err := st.Delivery(del.ID)
		require.NoError(t, err)
		assert.Equal(t, store.DeliveryPending, cur.State)
		assert.Zero(t, cur.Attempts)
	}

	// Once it answers, its finishing attempts free its slots and the rest follow.
	close(release)
	waitFor(t, 5*time.Second, "the hung receiver's 10 callbacks", func() bool { return allDelivered(st, slowDels) })
	_, peak, total := hung.read()
	assert.Equal(t, 2, peak, "never more than PerHost at once")
	assert.Equal(t, 10, total, "each delivered once")
}

func allDelivered(st *store.Store, dels []*store.Delivery) bool {
	for _, del := range dels {
		if cur, err := st.Delivery(del.ID); err != nil || cur.State != store.DeliveryDelivered {
			return false
		}
	}
	return true
}

func TestRoundRobin(t *testing.T) {
	mk := func(spec ...string) []*store.Delivery {
		var out []*store.Delivery
		for i, m := range spec {
			out = append(out, &store.Delivery{ID: uint64(i + 1), Merchant: m})
		}
		return out
	}
	ids := func(ds []*store.Delivery) []uint64 {
		var out []uint64
		for _, d := range ds {
			out = append(out, d.ID)
		}
		return out
	}
	due := mk("a", "a", "a", "b", "c", "b")
	assert.Equal(t, []uint64{1, 4, 5, 2, 6, 3}, ids(roundRobin(due, "")), "merchants take turns, each in due order")
	assert.Equal(t, []uint64{4, 5, 1, 6, 2, 3}, ids(roundRobin(due, "a")), "the turn resumes after the last merchant served")
	assert.Equal(t, []uint64{1, 4, 5, 2, 6, 3}, ids(roundRobin(due, "c")), "and wraps")
	assert.Equal(t, []uint64{5, 1, 4, 2, 6, 3}, ids(roundRobin(due, "bb")), "a merchant no longer due is passed over")
	assert.Equal(t, []uint64{1, 2}, ids(roundRobin(mk("a", "a"), "a")))
}

func TestHostKey(t *testing.T) {
	assert.Equal(t, "127.0.0.1:8080", hostKey("http://127.0.0.1:8080/cb?x=1"))
	assert.Equal(t, "example.com:80", hostKey("http://example.com/cb"))
	assert.Equal(t, hostKey("http://example.com:80/a"), hostKey("http://example.com/b"))
	assert.Equal(t, "example.com:443", hostKey("https://example.com/cb"))
	assert.Equal(t, "[::1]:9000", hostKey("http://[::1]:9000/"))
}
