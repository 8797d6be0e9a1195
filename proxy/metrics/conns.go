package metrics

import (
	"context"
	"net"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/oauthbridge/oauthbridge/proxy"
)

// Wrap returns a Handler that serves connections with h while counting
// them and the bytes they relay.
func (m *Metrics) Wrap(h proxy.Handler) proxy.Handler { return counted{m, h} }

type counted struct {
	m    *Metrics
	next proxy.Handler
}

// ServeConn implements proxy.Handler.
func (h counted) ServeConn(ctx context.Context, conn net.Conn, s *proxy.Session) {
	labels := []string{s.Listener, Protocol(s.Listener)}
	h.m.connTotal.WithLabelValues(labels...).Inc()
	open := h.m.connOpen.WithLabelValues(labels...)
	open.Inc()
	h.m.bytes.add(s)
	defer func() {
		h.m.bytes.done(s)
		open.Dec()
	}()
	h.next.ServeConn(ctx, conn, s)
}

// relayBytes is a collector for oauthbridge_relayed_bytes_total: the
// bytes of closed sessions plus the live counters of open ones.
type relayBytes struct {
	desc *prometheus.Desc

	mu     sync.Mutex
	live   map[*proxy.Session]string // session -> protocol
	closed map[bytesKey]int64
}

type bytesKey struct{ protocol, direction string }

// Directions of relayed bytes.
const (
	toUpstream = "client_to_upstream"
	toClient   = "upstream_to_client"
)

func newRelayBytes() *relayBytes {
	return &relayBytes{
		desc: prometheus.NewDesc(namespace+"_relayed_bytes_total",
			"Bytes relayed after login, by protocol and direction (counted while sessions run).",
			[]string{"protocol", "direction"}, nil),
		live:   map[*proxy.Session]string{},
		closed: map[bytesKey]int64{},
	}
}

func (r *relayBytes) add(s *proxy.Session) {
	p := Protocol(s.Listener)
	r.mu.Lock()
	r.live[s] = p
	r.mu.Unlock()
}

// done moves a session's bytes from live to closed in one step.
func (r *relayBytes) done(s *proxy.Session) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.live[s]
	delete(r.live, s)
	r.closed[bytesKey{p, toUpstream}] += s.BytesIn.Load()
	r.closed[bytesKey{p, toClient}] += s.BytesOut.Load()
}

// Describe implements prometheus.Collector.
func (r *relayBytes) Describe(ch chan<- *prometheus.Desc) { ch <- r.desc }

// Collect implements prometheus.Collector.
func (r *relayBytes) Collect(ch chan<- prometheus.Metric) {
	for k, v := range r.totals() {
		ch <- prometheus.MustNewConstMetric(r.desc, prometheus.CounterValue, float64(v), k.protocol, k.direction)
	}
}

func (r *relayBytes) totals() map[bytesKey]int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	t := make(map[bytesKey]int64, len(r.closed)+2)
	for k, v := range r.closed {
		t[k] = v
	}
	for s, p := range r.live {
		t[bytesKey{p, toUpstream}] += s.BytesIn.Load()
		t[bytesKey{p, toClient}] += s.BytesOut.Load()
	}
	return t
}
