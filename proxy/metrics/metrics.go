package metrics

import (
	"net/http"
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/oauthbridge/oauthbridge/proxy"
)

// namespace prefixes every metric name.
const namespace = "oauthbridge"

// Latency buckets in seconds. Upstream logins take tens of milliseconds
// to a few seconds (a refusing Dovecot waits 2 s); refreshes the same,
// up to the broker's 20 s deadline.
var latencyBuckets = []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 20, 30}

// Metrics holds the proxy's metrics and their registry. Create it with
// New; it is safe for concurrent use.
type Metrics struct {
	reg *prometheus.Registry

	connOpen    *prometheus.GaugeVec
	connTotal   *prometheus.CounterVec
	logins      *prometheus.CounterVec
	upstreamDur *prometheus.HistogramVec
	refreshes   *prometheus.CounterVec
	refreshDur  *prometheus.HistogramVec
	reloads     *prometheus.CounterVec
	reloadTime  prometheus.Gauge
	bytes       *relayBytes
}

// New creates the metrics, registered in a new registry together with
// the Go runtime and process collectors and oauthbridge_build_info.
func New(version string) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), bytes: newRelayBytes()}
	m.connOpen = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: namespace,
		Name: "connections_open", Help: "Client connections open now."}, []string{"listener", "protocol"})
	m.connTotal = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace,
		Name: "connections_total", Help: "Client connections accepted (after implicit TLS, within the connection limit)."},
		[]string{"listener", "protocol"})
	m.logins = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace,
		Name: "logins_total", Help: "Login attempts by protocol and result."}, []string{"protocol", "result"})
	m.upstreamDur = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace,
		Name: "upstream_login_duration_seconds", Help: "Upstream logins: connect, TLS, greeting and XOAUTH2/OAUTHBEARER, by protocol and result.",
		Buckets: latencyBuckets}, []string{"protocol", "result"})
	m.refreshes = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace,
		Name: "token_refreshes_total", Help: "Token refreshes by provider and result."}, []string{"provider", "result"})
	m.refreshDur = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace,
		Name: "token_refresh_duration_seconds", Help: "Token refreshes at the identity provider, store update included, by provider and result.",
		Buckets: latencyBuckets}, []string{"provider", "result"})
	m.reloads = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace,
		Name: "config_reloads_total", Help: "Configuration reloads (SIGHUP) by result."}, []string{"result"})
	m.reloadTime = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace,
		Name: "config_last_reload_success_timestamp_seconds", Help: "When the configuration was last loaded successfully (start or reload)."})
	build := prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: "build_info",
		Help: "Always 1; the labels name the running build.", ConstLabels: prometheus.Labels{"version": version, "goversion": runtime.Version()}})
	build.Set(1)
	m.reloadTime.SetToCurrentTime()
	m.reg.MustRegister(m.connOpen, m.connTotal, m.logins, m.upstreamDur, m.refreshes, m.refreshDur,
		m.reloads, m.reloadTime, build, m.bytes,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry returns the registry, for tests and extra collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorLog: nil, Timeout: 10 * time.Second})
}

// LoginDone counts one login attempt; the front ends call it on the
// session's goroutine with the attempt's error (nil: success).
func (m *Metrics) LoginDone(s *proxy.Session, err error) {
	m.logins.WithLabelValues(Protocol(s.Listener), LoginResult(err)).Inc()
}

// UpstreamDone records how long one upstream login took and how it ended.
func (m *Metrics) UpstreamDone(s *proxy.Session, d time.Duration, err error) {
	m.upstreamDur.WithLabelValues(Protocol(s.Listener), upstreamResult(err)).Observe(d.Seconds())
}

// RefreshDone records one token refresh (the broker's observer).
func (m *Metrics) RefreshDone(provider, result string, d time.Duration) {
	r := refreshResult(result)
	m.refreshes.WithLabelValues(provider, r).Inc()
	m.refreshDur.WithLabelValues(provider, r).Observe(d.Seconds())
}

// Reloaded records a configuration reload attempt.
func (m *Metrics) Reloaded(ok bool) {
	if !ok {
		m.reloads.WithLabelValues("rejected").Inc()
		return
	}
	m.reloads.WithLabelValues("ok").Inc()
	m.reloadTime.SetToCurrentTime()
}
