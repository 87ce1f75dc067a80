package gateway

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/plakar-gw/plakar-gw/engine"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the Prometheus counters of one gateway process.
// prometheus/client_golang does the exposition format and the process and
// Go runtime collectors, which are not worth rewriting.
type Metrics struct {
	reg          *prometheus.Registry
	requests     *prometheus.CounterVec
	bytes        *prometheus.CounterVec
	duration     *prometheus.HistogramVec
	inflight     *prometheus.GaugeVec
	jobRuns      *prometheus.CounterVec
	jobDuration  *prometheus.HistogramVec
	ingestBytes  *prometheus.CounterVec
	storedBytes  *prometheus.CounterVec
	dedupRatio   *prometheus.GaugeVec
	snapshots    prometheus.Gauge
	lastJobStart *prometheus.GaugeVec
}

// NewMetrics registers the gateway's metrics in a fresh registry.
func NewMetrics() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "plakar_gw_requests_total",
		Help: "Requests answered, by frontend, method and status class."}, []string{"frontend", "method", "code"})
	m.bytes = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "plakar_gw_response_bytes_total",
		Help: "Response body bytes sent, by frontend."}, []string{"frontend"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "plakar_gw_request_duration_seconds",
		Help: "Time to answer a request, by frontend.", Buckets: prometheus.ExponentialBuckets(0.001, 4, 9)}, []string{"frontend"})
	m.inflight = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "plakar_gw_requests_in_flight",
		Help: "Requests being answered, by frontend."}, []string{"frontend"})
	m.jobRuns = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "plakar_gw_job_runs_total",
		Help: "Ingest job runs, by job and result (ok, partial, failed)."}, []string{"job", "result"})
	m.jobDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "plakar_gw_job_duration_seconds",
		Help: "Duration of ingest job runs.", Buckets: prometheus.ExponentialBuckets(1, 4, 8)}, []string{"job"})
	m.ingestBytes = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "plakar_gw_ingest_bytes_total",
		Help: "Logical bytes of the snapshots made by jobs."}, []string{"job"})
	m.storedBytes = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "plakar_gw_ingest_stored_bytes_total",
		Help: "New bytes stored by jobs after dedup and compression."}, []string{"job"})
	m.dedupRatio = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "plakar_gw_job_dedup_ratio",
		Help: "Logical bytes over new stored bytes of the job's last snapshot (higher is better)."}, []string{"job"})
	m.lastJobStart = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "plakar_gw_job_last_success_timestamp_seconds",
		Help: "When the job last made a snapshot."}, []string{"job"})
	m.snapshots = prometheus.NewGauge(prometheus.GaugeOpts{Name: "plakar_gw_snapshots",
		Help: "Snapshots served, after the signature policy."})
	m.reg.MustRegister(m.requests, m.bytes, m.duration, m.inflight, m.jobRuns, m.jobDuration, m.ingestBytes,
		m.storedBytes, m.dedupRatio, m.snapshots, m.lastJobStart,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// WatchCache exports the repository's cache counters.
func (m *Metrics) WatchCache(stats func() engine.CacheStats) {
	for _, c := range []struct {
		cache, result string
		get           func(engine.CacheStats) uint64
	}{
		{"tree", "hit", func(s engine.CacheStats) uint64 { return s.NodeHits }},
		{"tree", "miss", func(s engine.CacheStats) uint64 { return s.NodeMisses }},
		{"chunk", "hit", func(s engine.CacheStats) uint64 { return s.ChunkHits }},
		{"chunk", "miss", func(s engine.CacheStats) uint64 { return s.ChunkMisses }},
		{"readahead", "hit", func(s engine.CacheStats) uint64 { return s.ChunkReadAhead }},
		{"chunk_disk", "hit", func(s engine.CacheStats) uint64 { return s.DiskHits }},
		{"chunk_disk", "miss", func(s engine.CacheStats) uint64 { return s.DiskMisses }},
	} {
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "plakar_gw_cache_lookups_total",
			Help:        "Lookups in the repository's caches, by cache (tree nodes, file chunks in memory, chunks a sequential reader found loaded ahead, chunks in the disk cache of a repository on object storage) and result.",
			ConstLabels: prometheus.Labels{"cache": c.cache, "result": c.result}},
			func() float64 { return float64(c.get(stats())) }))
	}
}

// Handler serves /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// JobDone records one job run.
func (m *Metrics) JobDone(res JobResult) {
	result := "ok"
	switch {
	case res.Err != nil:
		result = "failed"
	case !res.Snapshot.Header.Complete:
		result = "partial"
	}
	m.jobRuns.WithLabelValues(res.Job, result).Inc()
	m.jobDuration.WithLabelValues(res.Job).Observe(res.Duration.Seconds())
	if res.Snapshot == nil {
		return
	}
	h := res.Snapshot.Header
	m.ingestBytes.WithLabelValues(res.Job).Add(float64(h.Summary.Subtree.Bytes))
	m.storedBytes.WithLabelValues(res.Job).Add(float64(h.Stats.StoredAdded))
	if h.Stats.StoredAdded > 0 {
		m.dedupRatio.WithLabelValues(res.Job).Set(float64(h.Summary.Subtree.Bytes) / float64(h.Stats.StoredAdded))
	}
	m.lastJobStart.WithLabelValues(res.Job).Set(float64(h.Time.Unix()))
}

// statusWriter records the status and the body bytes of a response. It
// passes Flush through, since WebDAV streams big PROPFIND answers.
type statusWriter struct {
	http.ResponseWriter
	code  int
	bytes int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// instrument wraps a frontend: one log line and the metrics per request.
// The user logged is the one the request claims (S3 access key id or
// Basic user name); the frontend decides whether the claim holds, and
// the status says what it decided.
func instrument(frontend string, h http.Handler, m *Metrics, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		var seen string
		r = r.WithContext(context.WithValue(r.Context(), seenUserKey{}, &seen))
		if m != nil {
			m.inflight.WithLabelValues(frontend).Inc()
		}
		defer func() {
			code := sw.code
			if code == 0 {
				code = http.StatusOK
			}
			aborted := recover()
			if aborted != nil {
				code = 599 // the connection was cut: an integrity failure mid-stream
			}
			d := time.Since(start)
			if m != nil {
				m.inflight.WithLabelValues(frontend).Dec()
				m.requests.WithLabelValues(frontend, r.Method, strconv.Itoa(code)).Inc()
				m.bytes.WithLabelValues(frontend).Add(float64(sw.bytes))
				m.duration.WithLabelValues(frontend).Observe(d.Seconds())
			}
			if log != nil {
				user := seen
				if user == "" {
					user = claimedUser(r)
				}
				log.Info("request", "frontend", frontend, "method", r.Method, "path", r.URL.Path, "status", code,
					"bytes", sw.bytes, "duration", d.Round(time.Microsecond), "user", user, "remote", r.RemoteAddr)
			}
			if aborted != nil {
				panic(aborted)
			}
		}()
		h.ServeHTTP(sw, r)
	})
}

type seenUserKey struct{}

// seenUser records the user a frontend resolved itself (the web UI's
// session), for the access log line of the request.
func seenUser(r *http.Request, user string) {
	if p, ok := r.Context().Value(seenUserKey{}).(*string); ok {
		*p = user
	}
}

// claimedUser returns the user a request names, without checking it, or "-".
func claimedUser(r *http.Request) string {
	if u := basicClaim(r); u != "" {
		return u
	}
	if k := s3Claim(r); k != "" {
		return k
	}
	return "-"
}

// basicClaim is the user name of HTTP Basic credentials.
func basicClaim(r *http.Request) string {
	u, _, _ := r.BasicAuth()
	return u
}

// s3Claim is the access key id of a SigV4 request, from the header or a
// presigned URL.
func s3Claim(r *http.Request) string {
	auth := r.Header.Get("Authorization")
	if strings.HasPrefix(auth, "AWS4-HMAC-SHA256") {
		if _, cred, ok := strings.Cut(auth, "Credential="); ok {
			key, _, _ := strings.Cut(cred, "/")
			return key
		}
	}
	if cred := r.URL.Query().Get("X-Amz-Credential"); cred != "" {
		key, _, _ := strings.Cut(cred, "/")
		return key
	}
	return ""
}
