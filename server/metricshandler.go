package server

import (
	"net/http"
	"time"
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
