package server

import "sync/atomic"

// counters are the hardening counters, bumped lock-free on the query path.
type counters struct {
	rrlDropped, rrlSlipped atomic.Uint64
	udpShort, udpResponse  atomic.Uint64
	tcpRejected, panics    atomic.Uint64
}

// RateLimitStats counts what the abuse limits did since the server started.
type RateLimitStats struct {
	RRLDropped  uint64 // UDP replies not sent because of response rate limiting
	RRLSlipped  uint64 // rate-limited replies sent truncated (TC=1) instead
	UDPShort    uint64 // datagrams shorter than a DNS header, dropped
	UDPResponse uint64 // datagrams with QR set, dropped
	TCPRejected uint64 // TCP connections closed at once: tcp_max_conns reached
	Panics      uint64 // handler panics recovered and answered with SERVFAIL
}

// RateLimitStats returns the abuse-limit counters (for metrics).
func (s *Server) RateLimitStats() RateLimitStats {
	c := &s.counters
	return RateLimitStats{
		RRLDropped:  c.rrlDropped.Load(),
		RRLSlipped:  c.rrlSlipped.Load(),
		UDPShort:    c.udpShort.Load(),
		UDPResponse: c.udpResponse.Load(),
		TCPRejected: c.tcpRejected.Load(),
		Panics:      c.panics.Load(),
	}
}
