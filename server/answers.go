package server

import "github.com/mxdns/mxdns/server/answer"

// initAnswers makes the answer pipeline every listener calls, from the
// handles it needs: the TSIG keyring, the transfer server, the updater,
// the metrics, the counters and the throttled log. Call it after
// initTransfers and initUpdates.
func (s *Server) initAnswers() {
	var updates answer.Updates
	if s.updates != nil { // nil only in servers tests assemble by hand
		updates = s.updates
	}
	s.answers = answer.New(answer.Config{Log: s.log, Keys: s.keys, Transfers: s.transfers, Updates: updates,
		Metrics: s.metrics, Counters: &s.counters, Warn: s.warnThrottled})
}
