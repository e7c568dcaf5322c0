package server_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/config"
)

// BenchmarkCallbackDelivery settles b.N deposits through the admin API (16 clients at
// once, or one at a time) and waits until a local receiver has every callback. It reports callbacks
// delivered per second and the latency from the settle request to the callback's
// arrival (p50, p99), plus duplicate deliveries seen (should be 0: the receiver always
// answers 200). Run it with a fixed count, for example:
//
//	go test ./server -run '^$' -bench CallbackDelivery -benchtime 2000x
func BenchmarkCallbackDelivery(b *testing.B) {
	for _, c := range []struct{ workers, clients int }{{8, 16}, {16, 16}, {32, 16}, {16, 1}} {
		b.Run(fmt.Sprintf("concurrency=%d/clients=%d", c.workers, c.clients), func(b *testing.B) {
			benchDelivery(b, c.workers, c.clients)
		})
	}
}

// benchDelivery settles with the given number of admin clients at once (1: one
// settle at a time, the latency of an idle sandbox) against a dispatcher with the
// given number of workers.
func benchDelivery(b *testing.B, workers, clients int) {
	var mu sync.Mutex
	arrived := map[string]time.Time{}
	dups := 0
	all := make(chan struct{})
	n := b.N
	rc := newRecorder(b, func(_ int, w http.ResponseWriter, r *http.Request, _ <-chan struct{}) {
		at := time.Now()
		var cb struct {
			OrderID string `json:"order_id"`
		}
		body, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(body, &cb)
		mu.Lock()
		if _, seen := arrived[cb.OrderID]; seen {
			dups++
		} else {
			arrived[cb.OrderID] = at
			if len(arrived) == n {
				close(all)
			}
		}
		mu.Unlock()
		_, _ = io.WriteString(w, "success")
	})
	e := MustOpenEnv(b, withCallback(rc.URL), func(c *config.Config) { c.Callbacks.Concurrency = workers })

	// Create the deposits first; only settling and delivery are timed.
	auth := e.Auth(b)
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("BENCH-%06d", i)
	}
	runParallel(b, 16, ids, func(id string) error {
		resp, err := http.PostForm(e.URL+"/merchant/generate_orders", url.Values{"username": {"john"}, "auth": {auth},
			"amount": {"100"}, "currency": {"MYR"}, "orderid": {id}, "email": {"john@example.com"}, "phone_number": {"601012456789"}})
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"status":true`) {
			return fmt.Errorf("generate_orders %s: %d %s", id, resp.StatusCode, body)
		}
		return nil
	})

	settled := make(map[string]time.Time, n)
	var smu sync.Mutex
	b.ResetTimer()
	start := time.Now()
	runParallel(b, clients, ids, func(id string) error {
		t0 := time.Now()
		smu.Lock()
		settled[id] = t0
		smu.Unlock()
		resp, err := http.PostForm(e.URL+"/sandbox/api/deposits/"+url.PathEscape(id)+"/settle", url.Values{"outcome": {"completed"}})
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("settle %s: %d", id, resp.StatusCode)
		}
		return nil
	})
	select {
	case <-all:
	case <-time.After(2 * time.Minute):
		mu.Lock()
		got := len(arrived)
		mu.Unlock()
		b.Fatalf("only %d of %d callbacks arrived", got, n)
	}
	elapsed := time.Since(start)
	b.StopTimer()

	mu.Lock()
	defer mu.Unlock()
	lat := make([]time.Duration, 0, n)
	for id, at := range arrived {
		lat = append(lat, at.Sub(settled[id]))
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(float64(n)/elapsed.Seconds(), "callbacks/s")
	b.ReportMetric(pct(0.50), "p50_ms")
	b.ReportMetric(pct(0.99), "p99_ms")
	b.ReportMetric(float64(dups), "duplicates")
	b.ReportMetric(0, "ns/op") // the per-op time of a batch is not meaningful here
}

// runParallel calls fn for every id with the given number of goroutines.
func runParallel(tb testing.TB, workers int, ids []string, fn func(string) error) {
	tb.Helper()
	ch := make(chan string)
	errs := make(chan error, len(ids))
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range ch {
				if err := fn(id); err != nil {
					errs <- err
				}
			}
		}()
	}
	for _, id := range ids {
		ch <- id
	}
	close(ch)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(tb, err)
	}
}
