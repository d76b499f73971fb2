package server

import (
	"github.com/mxdns/mxdns/server/health"
	"github.com/mxdns/mxdns/server/ops"
	"github.com/mxdns/mxdns/zone"
)

// linkChecks fills in the checks of l and their latest results. Callers
// hold mu.
func (s *Server) linkChecks(ls *ops.LinkStatus, l zone.Link) {
	if len(l.Checks) == 0 {
		return
	}
	results, ups := s.checks.Results(l.Name), s.checks.CheckUp(l.Name)
	ls.Require = l.Require.String()
	for i, c := range l.Checks {
		ci := ops.CheckInfo{Check: health.Describe(c), Up: true}
		if i < len(ups) {
			ci.Up = ups[i]
		}
		if i < len(results) && !results[i].Time.IsZero() {
			ci.LastCheck = checkStatus(results[i])
		}
		ls.Checks = append(ls.Checks, ci)
	}
	ls.Check, ls.LastCheck = ls.Checks[0].Check, ls.Checks[0].LastCheck
}

func checkStatus(r health.Result) *ops.CheckStatus {
	cs := &ops.CheckStatus{Time: r.Time, OK: r.OK, Result: r.Result, LatencyMS: float64(r.Latency.Microseconds()) / 1000}
	if !r.CertExpiry.IsZero() {
		t := r.CertExpiry
		cs.CertExpiry = &t
	}
	return cs
}
