package server

import (
	"net/http"
	"time"

	"github.com/mxdns/mxdns/server/health"
	"github.com/mxdns/mxdns/zone"
)

// MetricsHandler serves the server's metrics in the Prometheus text format.
func (s *Server) MetricsHandler() http.Handler { return s.metrics.Handler() }

// ObserveLinkCheck records one health check of link: whether it passed and
// how long it took. The health checker calls it after every check.
func (s *Server) ObserveLinkCheck(link string, ok bool, d time.Duration) {
	s.metrics.LinkCheck(link, ok, d)
}

// SetLinkUp records the verdict on link.
func (s *Server) SetLinkUp(link string, up bool) { s.metrics.LinkUp(link, up) }

// keepCheckSeries drops the per-check series of checks no longer
// configured. Callers hold mu.
func (s *Server) keepCheckSeries(links []zone.Link) {
	configured := make(map[string]bool, len(links))
	for _, l := range links {
		configured[l.Name] = true
		descs := make([]string, len(l.Checks))
		for i, c := range l.Checks {
			descs[i] = health.Describe(c)
		}
		s.metrics.KeepChecks(l.Name, descs)
	}
	for _, name := range s.metrics.KnownCheckLinks() {
		if !configured[name] {
			s.metrics.KeepChecks(name, nil)
		}
	}
}

// MetricFamilies names every metric family the server registers for
// /metrics, those with no sample yet included (a scrape leaves them out):
// what a dashboard or an alert may query.
func (s *Server) MetricFamilies() []string { return s.metrics.Families() }
