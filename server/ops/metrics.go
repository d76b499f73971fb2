package ops

import (
	"net/http"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the Prometheus series of one server, in a registry of its
// own so that several servers (tests) never share or collide. A nil
// *Metrics records nothing.
type Metrics struct {
	reg  *prometheus.Registry
	fams families

	queries    *queryCounts // qtype, rcode, transport, link
	kinds      *kindCounts  // kind, transport
	latency    *latencies   // transport
	reloads    prometheus.Counter
	reloadFail prometheus.Counter
	reloadTook prometheus.Histogram
	fileFaults prometheus.Gauge
	linkUp     *prometheus.GaugeVec
	linkCheck  *prometheus.HistogramVec // link, result
	transfers  *prometheus.CounterVec   // type, result
	notifies   *prometheus.CounterVec   // zone, result
	checks     *checkSeries             // link, check
	updates    *prometheus.CounterVec   // result
}

func NewMetrics() *Metrics {
	m := &Metrics{
		reg:        prometheus.NewRegistry(),
		queries:    newQueryCounts(),
		kinds:      newKindCounts(),
		latency:    newLatencies(),
		reloads:    prometheus.NewCounter(prometheus.CounterOpts{Name: "mxdns_reloads_total", Help: "Reloads that put a new configuration into service."}),
		reloadFail: prometheus.NewCounter(prometheus.CounterOpts{Name: "mxdns_reload_failures_total", Help: "Reloads that kept the previous configuration."}),
		// Up to minutes: a first reload of ten thousand signed zones.
		reloadTook: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "mxdns_reload_duration_seconds",
			Help:    "Time a reload took, served or not: reading, building and signing the zones, then the swap.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120}}),
		fileFaults: prometheus.NewGauge(prometheus.GaugeOpts{Name: "mxdns_files_in_error",
			Help: "Files in error: each is served from its last good copy, or not at all when none is known."}),
		linkUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "mxdns_link_up", Help: "1 when the link is considered up, 0 when down.",
		}, []string{"link"}),
		linkCheck: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "mxdns_link_check_duration_seconds", Help: "Duration of link health checks, by result.",
			Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"link", "result"}),
		transfers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mxdns_transfers_total", Help: "Zone transfer requests by type (AXFR, IXFR) and result: ok (the whole zone sent, for IXFR too), incremental (an IXFR answered with the changes from the journal), soa-only, refused, notauth, formerr, busy, servfail, aborted.",
		}, []string{"type", "result"}),
		notifies: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mxdns_notifies_total", Help: "NOTIFY messages by result: ok (acknowledged), retry (attempt failed) or failed (gave up).",
		}, []string{"result"}),
		updates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mxdns_updates_total", Help: "RFC 2136 updates by result: ok, refused, notauth (bad TSIG or a zone not served), formerr, notzone, prereq (a prerequisite failed) or servfail.",
		}, []string{"result"}),
	}
	m.checks = newCheckSeries()
	m.register(m.queries, m.kinds, m.latency, m.reloads, m.reloadFail, m.reloadTook, m.fileFaults, m.linkUp, m.linkCheck, m.transfers, m.notifies, m.updates,
		m.checks.ok, m.checks.latency, m.checks.expiry,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// CounterFunc adds a counter read from f when the metrics are scraped,
// for counts kept elsewhere, lock-free.
func (m *Metrics) CounterFunc(name, help string, f func() float64) {
	m.register(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, f))
}

// LinkCheck records one health check of link: whether it passed and how
// long it took.
func (m *Metrics) LinkCheck(link string, ok bool, d time.Duration) {
	if m == nil {
		return
	}
	result := "fail"
	if ok {
		result = "ok"
	}
	m.linkCheck.WithLabelValues(link, result).Observe(d.Seconds())
}

// LinkUp records the verdict on link.
func (m *Metrics) LinkUp(link string, up bool) {
	if m == nil {
		return
	}
	v := 0.0
	if up {
		v = 1
	}
	m.linkUp.WithLabelValues(link).Set(v)
}

// ForgetLink drops the up gauge and query counts of a link no longer
// configured, which would otherwise stay on /metrics for good.
func (m *Metrics) ForgetLink(link string) {
	if m != nil {
		m.linkUp.DeleteLabelValues(link)
		m.queries.forget(link)
	}
}

// ForgetCheck drops the check durations of a link whose check is gone,
// the link itself included.
func (m *Metrics) ForgetCheck(link string) {
	if m != nil {
		m.linkCheck.DeletePartialMatch(prometheus.Labels{"link": link})
	}
}

// Query counts one answered query (answer.Metrics), and the kind of its
// answer: answer, nodata, nxdomain, referral, refused or error.
func (m *Metrics) Query(qtype, rcode uint16, kind AnswerKind, udp bool, link string, d time.Duration) {
	if m == nil {
		return
	}
	shard := shardOf(d)
	m.queries.add(qtype, rcode, udp, link, shard)
	m.kinds.add(kind, udp, shard)
	m.latency.observe(udp, d)
}

// Reload counts a reload that put its configuration into service (ok)
// or kept the previous one.
func (m *Metrics) Reload(ok bool) {
	if m == nil {
		return
	}
	if ok {
		m.reloads.Inc()
	} else {
		m.reloadFail.Inc()
	}
}

// ReloadDuration records how long one reload took, whatever its outcome.
func (m *Metrics) ReloadDuration(d time.Duration) {
	if m != nil {
		m.reloadTook.Observe(d.Seconds())
	}
}

// FilesInError sets how many files are in error.
func (m *Metrics) FilesInError(n int) {
	if m != nil {
		m.fileFaults.Set(float64(n))
	}
}

// Transfer counts one transfer request by its result (answer.Metrics).
func (m *Metrics) Transfer(kind, result string) {
	if m != nil {
		m.transfers.WithLabelValues(kind, result).Inc()
	}
}

// Notify counts a NOTIFY message by its result.
func (m *Metrics) Notify(result string) {
	if m != nil {
		m.notifies.WithLabelValues(result).Inc()
	}
}

// typeName keeps the label set bounded: a qtype we do not know by name is
// "other", whatever number a client sends.
func typeName(t uint16) string {
	if s, ok := dns.TypeToString[t]; ok {
		return s
	}
	return "other"
}

func transport(udp bool) string {
	if udp {
		return "udp"
	}
	return "tcp"
}
