package answer

import (
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/dnssec"
	"github.com/mxdns/mxdns/zone"
)

// Signers are the signers of the signed zones of one snapshot, by origin.
type Signers map[string]*dnssec.Signer

// signed adds to r, the result of a DO query, the RRSIGs of every RRset
// the zone is authoritative for (RFC 4035 §3.1.1): answer, authority
// (SOA, NSEC, a DS), and in-zone addresses in additional. A referral's
// NS and glue are the child's and stay unsigned (§2.2). A zone with no
// signer (not signed) is left as it is. A signing failure is an error:
// the caller answers SERVFAIL rather than a reply that cannot validate.
func (st *State) signed(r zone.Result, now time.Time) (zone.Result, error) {
	s := st.signers[r.Zone]
	if s == nil {
		return r, nil
	}
	var err error
	sign := func(rrs []dns.RR, referral bool) []dns.RR {
		if err != nil || len(rrs) == 0 {
			return rrs
		}
		var out []dns.RR
		out, err = st.signSection(s, r, rrs, referral, now)
		return out
	}
	referral := r.Kind == zone.KindReferral
	r.Answer = sign(r.Answer, false)
	r.Ns = sign(r.Ns, referral)
	if !referral {
		r.Extra = sign(r.Extra, false)
	}
	return r, err
}

// signSection returns rrs with each RRset followed by its RRSIGs. In a
// referral the cut's NS stays unsigned, and so does glue.
func (st *State) signSection(s *dnssec.Signer, r zone.Result, rrs []dns.RR, referral bool, now time.Time) ([]dns.RR, error) {
	return withSignatures(rrs, func(set []dns.RR) ([]dns.RR, error) {
		h := set[0].Header()
		if referral && h.Rrtype == dns.TypeNS {
			return nil, nil
		}
		source, ok := h.Name, true
		if h.Rrtype != dns.TypeNSEC3 { // a hashed owner is no name of the zone
			source, ok = st.Snap.Source(r.Zone, h.Name)
		}
		if !ok {
			return nil, nil // glue below a delegation
		}
		return s.Sign(set, source, now)
	})
}

// withSignatures returns rrs with each RRset followed by the RRSIGs sigs
// gives it, none for a set that stays unsigned. A lookup and a transfer
// write a set's records together.
func withSignatures(rrs []dns.RR, sigs func(set []dns.RR) ([]dns.RR, error)) ([]dns.RR, error) {
	out := make([]dns.RR, 0, 2*len(rrs))
	for i := 0; i < len(rrs); {
		j := setEnd(rrs, i)
		set := rrs[i:j]
		out = append(out, set...)
		i = j
		made, err := sigs(set)
		if err != nil {
			return nil, err
		}
		out = append(out, made...)
	}
	return out, nil
}

// signZone signs a transfer of the zone origin made at the request: rrs,
// the zone's records as Snapshot.Transferred gives them. A zone journaled
// for IXFR is sent as journaled instead (TransferRecords).
func (st *State) signZone(origin string, rrs []dns.RR) ([]dns.RR, error) {
	s := st.signers[origin]
	if s == nil {
		return rrs, nil
	}
	return signTransfer(st.Snap, s, origin, rrs, nil, time.Now())
}

// setEnd is the index after the RRset that starts at rrs[i]: the records
// that follow with its owner and type (a lookup and a transfer write a
// set's records together).
func setEnd(rrs []dns.RR, i int) int {
	h := rrs[i].Header()
	j := i + 1
	for j < len(rrs) && rrs[j].Header().Rrtype == h.Rrtype && rrs[j].Header().Name == h.Name {
		j++
	}
	return j
}
