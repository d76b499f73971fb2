package server

import (
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/zone"
)

// parentTimeout bounds one question to a parent's server.
const parentTimeout = 3 * time.Second

// askParents asks, for each signed zone whose new key waits for its DS,
// the servers its dnssec.parents lists, and marks the DS seen once every
// one of them publishes the DS of the key submitted (RFC 7344 §4.1: the
// CDS the zone publishes names it).
func (s *Server) askParents(snap *zone.Snapshot) {
	kk, ok := s.keeper.(KeyKeeper)
	if !ok {
		return
	}
	for _, origin := range snap.SignedZones() {
		keys := snap.Keys(origin)
		p, _ := snap.Signing(origin)
		if keys == nil || !keys.WaitingForDS || len(p.Parents) == 0 || kk.DSSeenMarked(origin) {
			continue
		}
		cds, _ := keys.CDS(0)
		seen := true
		for _, parent := range p.Parents {
			if !parentPublishes(parent, origin, cds) {
				seen = false
				break
			}
		}
		if !seen {
			continue
		}
		if err := kk.MarkDSSeen(origin, s.now()); err != nil {
			s.log.Error("dnssec: the parent's DS is seen but cannot be recorded", "zone", origin, "err", err)
			continue
		}
		s.log.Info("dnssec: the parent publishes the new DS", "zone", origin, "parents", strings.Join(p.Parents, ","))
	}
}

// parentPublishes reports whether the server at addr answers origin's DS
// set with a DS for each of the CDS records.
func parentPublishes(addr, origin string, cds []dns.RR) bool {
	m := new(dns.Msg)
	m.SetQuestion(origin, dns.TypeDS)
	m.RecursionDesired = false
	c := &dns.Client{Timeout: parentTimeout}
	r, _, err := c.Exchange(m, addr)
	if err != nil && r == nil || r.Rcode != dns.RcodeSuccess {
		return false
	}
	for _, want := range cds {
		w := want.(*dns.CDS)
		found := false
		for _, rr := range r.Answer {
			if ds, ok := rr.(*dns.DS); ok && ds.KeyTag == w.KeyTag && ds.Algorithm == w.Algorithm &&
				ds.DigestType == w.DigestType && strings.EqualFold(ds.Digest, w.Digest) {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return len(cds) > 0
}
