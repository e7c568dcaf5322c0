package faults

import (
	"fmt"
	"testing"
	"time"

	"github.com/vpay88/vpay88-sandbox/gateway"
)

// BenchmarkFaultHit: what a request pays to be matched against the queue: 1000
// never-matching faults on its endpoint, 1000 on other endpoints, or one.
func BenchmarkFaultHit(b *testing.B) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	fields := map[string]string{"orderid": "QUEUE-123", "username": "john"}
	r := Request{Endpoint: gateway.EndpointGenerateOrders, Merchant: "vpay88-test", Fields: func(k string) string { return fields[k] }}
	for _, tc := range []struct {
		name     string
		n        int
		endpoint gateway.Endpoint
	}{
		{"One", 1, gateway.EndpointGenerateOrders},
		{"1000SameEndpoint", MaxFaults, gateway.EndpointGenerateOrders},
		{"1000OtherEndpoint", MaxFaults, gateway.EndpointCheckStatus},
	} {
		q := New(1, nil, nil, nil)
		for i := 0; i < tc.n; i++ {
			if _, err := q.Add(Fault{FaultSpec: gateway.FaultSpec{Kind: gateway.FaultStatus}, Endpoints: []gateway.Endpoint{tc.endpoint},
				Match: map[string]string{"orderid": fmt.Sprintf("NEVER-%d-*", i)}, CreatedAt: now}); err != nil {
				b.Fatal(err)
			}
		}
		b.Run(tc.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, ok := q.Hit(r, now); ok {
					b.Fatal("hit")
				}
			}
		})
	}
}
