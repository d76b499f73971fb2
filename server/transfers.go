package server

import (
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/server/xfr"
)

// NOTIFY retries (xfr.NotifyConfig): variables so that tests can
// shorten them; a Server takes them when it is made.
var (
	notifyAttempts = 5
	notifyTimeout  = 2 * time.Second
	notifyBackoff  = 2 * time.Second
)

// initTransfers makes the transfer server, the IXFR journal, the NOTIFY
// queue and the TSIG keyring, which reads the keys of the snapshot being
// served.
func (s *Server) initTransfers() {
	s.keys = xfr.Keyring{Snapshot: s.Snapshot}
	s.journal = s.newJournal()
	// The counts read s.metrics when they count: tests swap it.
	s.transfers = xfr.NewServer(xfr.Config{Log: s.log, Warn: s.warnThrottled, Journal: s.journal,
		Count: func(kind, result string) { s.metrics.Transfer(kind, result) }, SignedSent: s.signaturesSent})
	s.notifier = xfr.NewNotifier(xfr.NotifyConfig{Log: s.log, Count: func(result string) { s.metrics.Notify(result) },
		Attempts: notifyAttempts, Timeout: notifyTimeout, Backoff: notifyBackoff})
}

// warnThrottled logs a warning a client can provoke at will at most once
// a second per message, with the count of those suppressed since.
func (s *Server) warnThrottled(msg string, args ...any) {
	n, ok := s.xfrLog.allow(msg)
	if !ok {
		return
	}
	if n > 0 {
		args = append(args, "suppressed", n)
	}
	s.log.Warn(msg, args...)
}

// signaturesSent counts the signatures of a signed version sent as
// journaled as handed out, for the soonest expiry /status and the
// metrics show: a hidden primary's only signatures go out in transfers.
func (s *Server) signaturesSent(origin string, rrs []dns.RR) {
	if st := s.state.Load(); st != nil {
		if signer := st.Signers()[origin]; signer != nil {
			signer.NoteExpiry(rrs)
		}
	}
}
