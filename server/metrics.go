package server

import (
	"net/http"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the Prometheus series of one Server, in a registry of its
// own so that several servers (tests) never share or collide. A nil
// *metrics records nothing.
type metrics struct {
	reg *prometheus.Registry

	queries    *queryCounts // qtype, rcode, transport, link
	latency    *latencies   // transport
	reloads    prometheus.Counter
	reloadFail prometheus.Counter
	fileFaults prometheus.Gauge
	linkUp     *prometheus.GaugeVec
	linkCheck  *prometheus.HistogramVec // link, result
	transfers  *prometheus.CounterVec   // type, result
	notifies   *prometheus.CounterVec   // zone, result
}

func newMetrics() *metrics {
	m := &metrics{
		reg:        prometheus.NewRegistry(),
		queries:    newQueryCounts(),
		latency:    newLatencies(),
		reloads:    prometheus.NewCounter(prometheus.CounterOpts{Name: "mxdns_reloads_total", Help: "Reloads that put a new configuration into service."}),
		reloadFail: prometheus.NewCounter(prometheus.CounterOpts{Name: "mxdns_reload_failures_total", Help: "Reloads that kept the previous configuration."}),
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
			Name: "mxdns_transfers_total", Help: "Zone transfer requests by type (AXFR, IXFR) and result (ok, refused, notauth, formerr, soa-only, busy, aborted).",
		}, []string{"type", "result"}),
		notifies: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mxdns_notifies_total", Help: "NOTIFY messages by result: ok (acknowledged), retry (attempt failed) or failed (gave up).",
		}, []string{"result"}),
	}
	m.reg.MustRegister(m.queries, m.latency, m.reloads, m.reloadFail, m.fileFaults, m.linkUp, m.linkCheck, m.transfers, m.notifies,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// MetricsHandler serves the server's metrics in the Prometheus text format.
func (s *Server) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{Registry: s.metrics.reg})
}

// ObserveLinkCheck records one health check of link: whether it passed and
// how long it took. The health checker calls it after every check.
func (s *Server) ObserveLinkCheck(link string, ok bool, d time.Duration) {
	result := "fail"
	if ok {
		result = "ok"
	}
	s.metrics.linkCheck.WithLabelValues(link, result).Observe(d.Seconds())
}

// SetLinkUp records the verdict on link.
func (s *Server) SetLinkUp(link string, up bool) {
	v := 0.0
	if up {
		v = 1
	}
	s.metrics.linkUp.WithLabelValues(link).Set(v)
}

// forgetLink drops the up gauge and query counts of a link no longer
// configured, which would otherwise stay on /metrics for good.
func (m *metrics) forgetLink(link string) {
	if m != nil {
		m.linkUp.DeleteLabelValues(link)
		m.queries.forget(link)
	}
}

// forgetCheck drops the check durations of a link whose check is gone,
// the link itself included.
func (m *metrics) forgetCheck(link string) {
	if m != nil {
		m.linkCheck.DeletePartialMatch(prometheus.Labels{"link": link})
	}
}

// Query counts one answered query (answer.Metrics).
func (m *metrics) Query(qtype, rcode uint16, udp bool, link string, d time.Duration) {
	if m == nil {
		return
	}
	m.queries.add(qtype, rcode, udp, link, shardOf(d))
	m.latency.observe(udp, d)
}

func (m *metrics) reload(ok bool) {
	if m == nil {
		return
	}
	if ok {
		m.reloads.Inc()
	} else {
		m.reloadFail.Inc()
	}
}

func (m *metrics) filesInError(n int) {
	if m != nil {
		m.fileFaults.Set(float64(n))
	}
}

// Transfer counts one transfer request by its result (answer.Metrics).
func (m *metrics) Transfer(kind, result string) {
	if m != nil {
		m.transfers.WithLabelValues(kind, result).Inc()
	}
}

func (m *metrics) notify(result string) {
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
