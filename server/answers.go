package server

import "github.com/mxdns/mxdns/server/answer"

// initAnswers makes the answer pipeline every listener calls, from the
// handles it needs: the TSIG keyring, the transfer server, the metrics,
// the counters and the throttled log. Call it after initTransfers.
func (s *Server) initAnswers() {
	s.answers = answer.New(answer.Config{Log: s.log, Keys: s.keys, Transfers: s.transfers,
		Metrics: s.metrics, Counters: &s.counters, Warn: s.warnThrottled})
}
