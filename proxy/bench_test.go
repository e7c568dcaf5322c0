package proxy_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/vpay88/vpay88-sandbox/inproc"
	"github.com/vpay88/vpay88-sandbox/proxy"
)

// BenchmarkProxyLatency measures what the proxy adds to a check_status: the same
// request straight to the target and through the proxy (whose shadow runs off the
// answer's path), with 1 and 16 clients. Run with
//
//	go test ./proxy -run '^$' -bench ProxyLatency -benchtime 3000x
func BenchmarkProxyLatency(b *testing.B) {
	target, err := inproc.Start(inproc.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer target.Close()
	shadow, err := inproc.Start(inproc.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer shadow.Close()
	p, err := proxy.New(proxy.Options{Target: target.URL, Shadow: shadow.URL})
	if err != nil {
		b.Fatal(err)
	}
	front := httptest.NewServer(p)
	defer front.Close()
	defer p.Close()
	form := url.Values{"username": {"vpay88-test"}, "id": {"none"}}.Encode()
	tr := &http.Transport{MaxIdleConnsPerHost: 32}
	client := &http.Client{Transport: tr}
	call := func(base string) {
		resp, err := client.Post(base+"/merchant/check_status", "application/x-www-form-urlencoded", strings.NewReader(form))
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	for _, conns := range []int{1, 16} {
		for name, base := range map[string]string{"direct": target.URL, "proxy": front.URL} {
			b.Run(name+"/conns="+string(rune('0'+conns/10))+string(rune('0'+conns%10)), func(b *testing.B) {
				b.SetParallelism(conns)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						call(base)
					}
				})
			})
		}
	}
}
