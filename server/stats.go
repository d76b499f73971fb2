package server

import (
	"sync/atomic"
)

// RateLimitStats counts what the abuse limits did since the server started.
type RateLimitStats struct {
	RRLDropped  uint64 // UDP replies not sent because of response rate limiting
	RRLSlipped  uint64 // rate-limited replies sent truncated (TC=1) instead
	UDPShort    uint64 // datagrams shorter than a DNS header, dropped
	UDPResponse uint64 // datagrams with QR set, dropped
	TCPRejected uint64 // TCP connections closed at once: tcp_max_conns or the per-source cap reached
	Panics      uint64 // handler panics recovered and answered with SERVFAIL
}

// RateLimitStats returns the abuse-limit counters (for metrics).
func (s *Server) RateLimitStats() RateLimitStats {
	c := &s.counters
	return RateLimitStats{
		RRLDropped:  c.RRLDropped.Load(),
		RRLSlipped:  c.RRLSlipped.Load(),
		UDPShort:    c.UDPShort.Load(),
		UDPResponse: c.UDPResponse.Load(),
		TCPRejected: c.TCPRejected.Load(),
		Panics:      c.Panics.Load(),
	}
}

// exportLimits publishes the abuse-limit counters on /metrics, read at
// scrape time so the query path keeps its lock-free counters.
func (s *Server) exportLimits() {
	c := &s.counters
	for _, m := range []struct {
		name, help string
		v          *atomic.Uint64
	}{
		{"mxdns_rrl_dropped_total", "UDP replies not sent because of response rate limiting.", &c.RRLDropped},
		{"mxdns_rrl_slipped_total", "Rate-limited UDP replies sent truncated (TC=1) instead.", &c.RRLSlipped},
		{"mxdns_udp_short_total", "Datagrams shorter than a DNS header, dropped.", &c.UDPShort},
		{"mxdns_udp_response_total", "Datagrams with QR set, dropped.", &c.UDPResponse},
		{"mxdns_tcp_rejected_total", "TCP connections closed at once because tcp_max_conns or tcp_max_conns_per_source was reached.", &c.TCPRejected},
		{"mxdns_panics_total", "Panics while answering, recovered.", &c.Panics},
	} {
		v := m.v
		s.metrics.CounterFunc(m.name, m.help, func() float64 { return float64(v.Load()) })
	}
}
