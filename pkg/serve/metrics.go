// Package serve exports finished termination timelines for always-on use in a cluster:
// Prometheus metrics with labels bounded by owners (never per pod), health endpoints, and the
// same JSON lines as --json. It sees only what the engine produced.
package serve

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/drainwatch/kubectl-drainwatch/pkg/timeline"
)

// Metrics are the Prometheus metrics of finished terminations and of the watch itself.
type Metrics struct {
	reg          *prometheus.Registry
	terminations *prometheus.CounterVec
	findings     *prometheus.CounterVec
	shutdown     *prometheus.HistogramVec
	margin       *prometheus.HistogramVec
	synced       prometheus.Gauge
	restarts     prometheus.Counter
	dropped      prometheus.Counter
	leader       prometheus.Gauge
	standby      prometheus.Gauge
	ready        atomic.Bool
	lastDropped  int
}

var ownerLabels = []string{"namespace", "owner_kind", "owner"}

// NewMetrics registers the metrics (and the Go and process collectors) in a registry of its own.
func NewMetrics() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.terminations = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "drainwatch_terminations_total",
		Help: "Pod terminations seen end to end, by owner and verdict (graceful, at-risk, failed, killed, incomplete)."},
		append(ownerLabels, "verdict"))
	m.findings = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "drainwatch_findings_total",
		Help: "Findings of finished terminations, by owner, finding ID and cause."},
		append(ownerLabels, "id", "cause"))
	m.shutdown = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "drainwatch_shutdown_seconds",
		Help:    "Seconds from the deletion request to the last container's exit.",
		Buckets: []float64{0.5, 1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120, 300}}, ownerLabels)
	m.margin = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "drainwatch_drain_margin_seconds",
		Help:    "Seconds the app kept serving after its endpoint turned not ready, minus the drain budget (negative: it stopped too soon).",
		Buckets: []float64{-30, -10, -5, -2, -1, -0.5, 0, 0.5, 1, 2, 5, 10, 30}}, ownerLabels)
	m.synced = prometheus.NewGauge(prometheus.GaugeOpts{Name: "drainwatch_cache_synced",
		Help: "1 once every informer listed, 0 before."})
	m.restarts = prometheus.NewCounter(prometheus.CounterOpts{Name: "drainwatch_watch_restarts_total",
		Help: "Watch errors after which an informer relisted."})
	m.dropped = prometheus.NewCounter(prometheus.CounterOpts{Name: "drainwatch_dropped_events_total",
		Help: "Events about pods never seen terminating that were dropped at the buffer limit."})
	m.leader = prometheus.NewGauge(prometheus.GaugeOpts{Name: "drainwatch_leader",
		Help: "1 while this replica exports (it holds the Lease, or runs alone), 0 while it stands by."})
	m.standby = prometheus.NewGauge(prometheus.GaugeOpts{Name: "drainwatch_standby_timelines",
		Help: "Finished timelines a standby replica keeps for a takeover."})
	m.reg.MustRegister(m.terminations, m.findings, m.shutdown, m.margin, m.synced, m.restarts, m.dropped, m.leader, m.standby,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Timeline counts one finished termination.
func (m *Metrics) Timeline(tl timeline.PodTimeline) {
	kind, name := tl.OwnerOf()
	owner := []string{tl.Namespace, kind, name}
	m.terminations.WithLabelValues(append(owner, string(tl.Verdict))...).Inc()
	for _, f := range tl.Findings {
		m.findings.WithLabelValues(append(owner, string(f.ID), f.Cause)...).Inc()
	}
	if tl.ShutdownSeconds != nil {
		m.shutdown.WithLabelValues(owner...).Observe(*tl.ShutdownSeconds)
	}
	if mg, ok := tl.DrainMargin(); ok {
		m.margin.WithLabelValues(owner...).Observe(mg)
	}
}

// Synced says the caches are synced: /readyz answers 200 from then on.
func (m *Metrics) Synced() {
	m.synced.Set(1)
	m.ready.Store(true)
}

// Leading sets drainwatch_leader.
func (m *Metrics) Leading(yes bool) {
	if yes {
		m.leader.Set(1)
	} else {
		m.leader.Set(0)
	}
}

// Kept sets how many finished timelines a standby keeps.
func (m *Metrics) Kept(n int) { m.standby.Set(float64(n)) }

// WatchRestart counts a watch error after which an informer relists.
func (m *Metrics) WatchRestart() { m.restarts.Inc() }

// Dropped sets the count of dropped Events to the engine's total so far.
func (m *Metrics) Dropped(total int) {
	if d := total - m.lastDropped; d > 0 {
		m.dropped.Add(float64(d))
		m.lastDropped = total
	}
}

// Handler serves /metrics, /healthz (the process answers) and /readyz (caches synced).
func (m *Metrics) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !m.ready.Load() {
			http.Error(w, "caches not synced yet", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	return mux
}

// Serve listens on addr until ctx is done; ready is called once it listens, with its address.
func Serve(ctx context.Context, addr string, h http.Handler, ready func(net.Addr)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	if ready != nil {
		ready(ln.Addr())
	}
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
