package ops

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// checkSeries are the series of each health check of each link, by the
// check as /status describes it: its last result, latency and, for an
// SMTP check with STARTTLS, its certificate's expiry.
type checkSeries struct {
	ok      *prometheus.GaugeVec
	latency *prometheus.GaugeVec
	expiry  *prometheus.GaugeVec

	mu    sync.Mutex
	known map[string]map[string]bool // link → checks with series
}

func newCheckSeries() *checkSeries {
	labels := []string{"link", "check"}
	return &checkSeries{
		ok: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "mxdns_check_ok", Help: "1 when the latest probe of the check passed, 0 when it failed.",
		}, labels),
		latency: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "mxdns_check_latency_seconds", Help: "How long the latest probe of the check took.",
		}, labels),
		expiry: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "mxdns_check_cert_expiry_timestamp_seconds", Help: "When the certificate an SMTP check with STARTTLS was last shown expires, in Unix seconds.",
		}, labels),
		known: make(map[string]map[string]bool),
	}
}

// CheckResult records the latest probe of one check of link.
func (m *Metrics) CheckResult(link, check string, ok bool, latency time.Duration, certExpiry time.Time) {
	if m == nil {
		return
	}
	c := m.checks
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.known[link] == nil {
		c.known[link] = make(map[string]bool)
	}
	c.known[link][check] = true
	v := 0.0
	if ok {
		v = 1
	}
	c.ok.WithLabelValues(link, check).Set(v)
	c.latency.WithLabelValues(link, check).Set(latency.Seconds())
	if !certExpiry.IsZero() {
		c.expiry.WithLabelValues(link, check).Set(float64(certExpiry.Unix()))
	}
}

// KeepChecks drops the series of link's checks that are not among
// checks: a check removed or changed at a reload, or a link gone (nil).
func (m *Metrics) KeepChecks(link string, checks []string) {
	if m == nil {
		return
	}
	c := m.checks
	keep := make(map[string]bool, len(checks))
	for _, k := range checks {
		keep[k] = true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for check := range c.known[link] {
		if !keep[check] {
			labels := prometheus.Labels{"link": link, "check": check}
			c.ok.Delete(labels)
			c.latency.Delete(labels)
			c.expiry.Delete(labels)
			delete(c.known[link], check)
		}
	}
	if len(c.known[link]) == 0 {
		delete(c.known, link)
	}
}

// KnownCheckLinks lists the links with check series.
func (m *Metrics) KnownCheckLinks() []string {
	if m == nil {
		return nil
	}
	m.checks.mu.Lock()
	defer m.checks.mu.Unlock()
	out := make([]string, 0, len(m.checks.known))
	for l := range m.checks.known {
		out = append(out, l)
	}
	return out
}
