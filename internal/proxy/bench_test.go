package proxy_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vpay88/vpay88-sandbox/internal/inproc"
	"github.com/vpay88/vpay88-sandbox/internal/proxy"
)

// BenchmarkProxyLatency measures what the proxy adds to a check_status: the same
// request straight to the target (an in-process sandbox) and through the proxy (its
// shadow, another in-process sandbox, working off the answer's path), with 1 and 16
// clients, reporting p50 and p99 per request. Run with
//
//	go test ./proxy -run '^$' -bench ProxyLatency -benchtime 2000x
func BenchmarkProxyLatency(b *testing.B) {
	target, err := inproc.Start(inproc.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer target.Close()
	p, err := proxy.New(proxy.Options{Target: target.URL, Username: username, APIKey: apiKey})
	if err != nil {
		b.Fatal(err)
	}
	front := httptest.NewServer(p)
	defer front.Close()
	defer p.Close()
	form := url.Values{"username": {username}, "id": {"none"}}.Encode()
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
	call := func(base string) time.Duration {
		start := time.Now()
		resp, err := hc.Post(base+"/merchant/check_status", "application/x-www-form-urlencoded", strings.NewReader(form))
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return time.Since(start)
	}
	for _, conns := range []int{1, 16} {
		for _, side := range []struct{ name, base string }{{"direct", target.URL}, {"proxy", front.URL}} {
			b.Run(fmt.Sprintf("%s/conns=%d", side.name, conns), func(b *testing.B) {
				var mu sync.Mutex
				var took []time.Duration
				var wg sync.WaitGroup
				next := make(chan struct{})
				b.ResetTimer()
				for range conns {
					wg.Go(func() {
						var mine []time.Duration
						for range next {
							mine = append(mine, call(side.base))
						}
						mu.Lock()
						took = append(took, mine...)
						mu.Unlock()
					})
				}
				for range b.N {
					next <- struct{}{}
				}
				close(next)
				wg.Wait()
				b.StopTimer()
				slices.Sort(took)
				q := func(f float64) float64 { return float64(took[int(f*float64(len(took)-1))].Microseconds()) }
				b.ReportMetric(q(0.50), "p50-µs")
				b.ReportMetric(q(0.99), "p99-µs")
			})
		}
	}
	b.Logf("shadow: %+v", struct{ Dropped int64 }{p.Summary().Dropped})
}
