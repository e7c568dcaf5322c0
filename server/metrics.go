package server

import (
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/store"
)

// metrics are per Server (its own registry), so tests that run several sandboxes in
// one process count each one apart.
type metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec
	orders    *prometheus.CounterVec
	settled   *prometheus.CounterVec
	callbacks *prometheus.CounterVec
	latency   prometheus.Histogram
	apiTime   *prometheus.HistogramVec
	faults    *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vpay88_requests_total", Help: "Vendor API requests by endpoint and result message (OK for success).",
		}, []string{"endpoint", "message"}),
		orders: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vpay88_orders_created_total", Help: "Orders accepted, by kind and currency.",
		}, []string{"kind", "currency"}),
		settled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vpay88_orders_settled_total", Help: "Orders that reached a final status, by kind and status.",
		}, []string{"kind", "status"}),
		callbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vpay88_callback_attempts_total", Help: "Callback attempts by result (delivered, http_error, network_error).",
		}, []string{"result"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "vpay88_callback_attempt_seconds", Help: "Latency of callback attempts.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 4, 10),
		}),
		apiTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "vpay88_request_seconds", Help: "Vendor API latency by endpoint.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10),
		}, []string{"endpoint"}),
		faults: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vpay88_faults_injected_total", Help: "Vendor API requests hit by an injected fault, by kind.",
		}, []string{"kind"}),
	}
	m.reg.MustRegister(append([]prometheus.Collector{m.requests, m.orders, m.settled, m.callbacks, m.latency, m.apiTime, m.faults},
		processCollectors()...)...)
	return m
}

// processCollectors are the Go runtime's and the process's collectors, made once: they
// describe the process, not a server, and building them was a quarter of what a
// sandboxtest.New cost. A collector may be registered with many registries.
var processCollectors = sync.OnceValue(func() []prometheus.Collector {
	return []prometheus.Collector{collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})}
})

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

func (m *metrics) observeRequest(endpoint, message string, d time.Duration) {
	m.requests.WithLabelValues(endpoint, message).Inc()
	m.apiTime.WithLabelValues(endpoint).Observe(d.Seconds())
}

func (m *metrics) faultInjected(kind string) { m.faults.WithLabelValues(kind).Inc() }

func (m *metrics) orderCreated(o *gateway.Order) {
	m.orders.WithLabelValues(string(o.Kind), o.Currency).Inc()
}

func (m *metrics) orderSettled(o *gateway.Order) {
	m.settled.WithLabelValues(string(o.Kind), string(o.Status)).Inc()
}

func (m *metrics) observeAttempt(a store.Attempt, delivered bool) {
	result := "delivered"
	switch {
	case delivered:
	case a.Error != "":
		result = "network_error"
	default:
		result = "http_error"
	}
	m.callbacks.WithLabelValues(result).Inc()
	m.latency.Observe(a.LatencyMS / 1000)
}
