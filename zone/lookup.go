package zone

import (
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// Client is what the server knows about a query besides its question.
type Client struct {
	Link   int     // index of the link the query arrived over, -1 for none
	Up     LinkSet // links that are up now
	Rotate uint32  // varies from answer to answer; picks the rotation of RRsets
	// DNSSEC is the query's DO bit: a signed zone then adds the NSEC
	// records that prove a negative or wildcard answer. The signatures
	// are the caller's: they depend on keys and the time.
	DNSSEC bool
}

// NoLink is the Client.Link of a query that arrived on no link's address.
const NoLink = -1

// Result is an answer before it is put into a message. Its records may
// be the snapshot's own: they are read only.
type Result struct {
	Kind          Kind
	Rcode         int
	Authoritative bool
	Answer        []dns.RR
	Ns            []dns.RR
	Extra         []dns.RR
	// Rotations is how many different answers Client.Rotate can pick:
	// the result for Rotate r equals the one for r % Rotations. It is 0
	// when there are too many to enumerate.
	Rotations uint32
	// Zone is the origin of the zone that answered ("" when none did) and
	// Wildcard the owner of the wildcard that synthesised the answer: rate
	// limiting counts answers by them, as BIND and NSD do.
	Zone, Wildcard string
	// Cut is the delegated name of a KindReferral (after any CNAME that
	// led there), else "": the server needs it to tell in-domain glue,
	// whose loss sets TC (RFC 9471), and rate limiting counts referrals
	// by it.
	Cut string
}

// maxRotations bounds Result.Rotations; beyond it callers should not try
// to enumerate every rotation.
const maxRotations = 64

// maxChain bounds how many CNAMEs one answer follows.
const maxChain = 8

// Lookup answers q (its name as the client wrote it) from the snapshot,
// following RFC 1034 §4.3.2 in named steps: find the zone, stop at a
// delegation, match exactly, follow a CNAME, synthesise from a wildcard,
// or answer negatively. Names in no zone served give REFUSED without AA.
func (s *Snapshot) Lookup(q dns.Question, c Client) Result {
	name := strings.ToLower(dns.Fqdn(q.Name))
	var z *zoneData
	if q.Qtype == dns.TypeDS && name != "." {
		// DS lives on the parent side of a cut (RFC 4035 §3.1.4.1): the
		// zone holding the parent name answers, which for a name below
		// an apex is the zone holding the name. When no zone holds the
		// parent, only a zone whose apex is name can hold name.
		if z = s.findZone(parentName(name)); z == nil {
			z = s.zones[name]
		}
	} else {
		z = s.findZone(name)
	}
	if z == nil {
		return Result{Kind: KindRefused, Rcode: dns.RcodeRefused}
	}
	l := &lookup{snap: s, zone: z, client: c, qtype: q.Qtype}
	l.res.Kind = KindAnswer // until a referral or a negative step says otherwise
	l.res.Authoritative = true
	l.res.Rotations = 1
	l.res.Zone = z.origin
	l.resolve(name, dns.Fqdn(q.Name))
	return l.res
}

// lookup is the state of one answer being assembled.
type lookup struct {
	snap   *Snapshot
	zone   *zoneData
	client Client
	qtype  uint16
	res    Result
	// extraDone holds targets whose addresses are already in Extra.
	extraDone []string
}

// resolve answers for name, writing owner (the name as asked) in records
// owned by it, and follows CNAMEs within the zone.
func (l *lookup) resolve(name, owner string) {
	visited := []string{name}
	for {
		if cut := l.zone.cutAbove(name, true); cut != nil && !(cut.name == name && l.qtype == dns.TypeDS) {
			l.referral(cut)
			return
		}
		n := l.zone.nodes.at(name)
		wild := false
		if n == nil {
			n = l.zone.wildcardFor(name)
			wild = n != nil
			if wild && l.res.Wildcard == "" {
				l.res.Wildcard = n.name
			}
		}
		if n == nil {
			l.negative(dns.RcodeNameError)
			if l.signed() {
				l.proveNoName(name)
			}
			return
		}
		if cname := n.set(dns.TypeCNAME); cname != nil && followsCNAME(l.qtype) {
			l.answer(cname.rrs, owner)
			if wild && l.signed() {
				l.proveSynthesised(name)
			}
			next := cname.rrs[0].(*dns.CNAME).Target
			if !inZone(next, l.zone.origin) || slices.Contains(visited, next) || len(visited) > maxChain {
				return // the client resolves the rest itself
			}
			visited = append(visited, next)
			name, owner = next, next
			continue
		}
		set := l.pick(n)
		if set == nil && l.qtype == dns.TypeNSEC && l.signed() && !wild {
			if nsec := l.nsecOf(name); nsec != nil {
				l.answer(nsec, owner)
				return
			}
		}
		if set == nil {
			l.negative(dns.RcodeSuccess)
			if l.signed() {
				l.proveNoType(name, n, wild)
			}
			return
		}
		l.answer(l.records(set), owner)
		if wild && l.signed() {
			l.proveSynthesised(name)
		}
		return
	}
}

// followsCNAME reports whether a query for qtype at a CNAME's name is
// answered from the canonical name. Not for CNAME and ANY, which the CNAME
// answers itself, nor for RRSIG and NSEC, which RFC 4035 §2.5 lets live
// beside a CNAME, so that they are asked of the name itself (as Knot and
// BIND do).
func followsCNAME(qtype uint16) bool {
	switch qtype {
	case dns.TypeCNAME, dns.TypeANY, dns.TypeRRSIG, dns.TypeNSEC:
		return false
	}
	return true
}

// pick chooses the set answering the question at n. ANY gets one set
// (RFC 8482): the first by type number.
func (l *lookup) pick(n *node) *rrset {
	if l.qtype == dns.TypeANY {
		if len(n.sets) == 0 {
			return nil
		}
		return n.sets[0]
	}
	return n.set(l.qtype)
}

// wildcardFor finds the wildcard that synthesises name (RFC 4592 §3.3.1):
// "*." under the closest encloser, the nearest existing ancestor.
func (z *zoneData) wildcardFor(name string) *node {
	if !z.wildcard {
		return nil
	}
	for ce := parentName(name); ce != ""; ce = parentName(ce) {
		// The apex always has a node: the walk ends there at the latest.
		if z.nodes.at(ce) != nil {
			return z.nodes.at("*." + ce)
		}
	}
	return nil
}

// referral points the client at a delegated child (RFC 1034 §4.3.2 step
// 3b): the cut's NS in authority, glue in additional, AA clear unless a
// CNAME already answered authoritatively.
func (l *lookup) referral(cut *node) {
	ns := cut.set(dns.TypeNS)
	l.res.Ns = append(l.res.Ns, ns.rrs...)
	l.res.Kind, l.res.Cut = KindReferral, cut.name
	if len(l.res.Answer) == 0 {
		l.res.Authoritative = false
	}
	// With DO, the DS at the cut and its signatures, or the proof that
	// there is none: the delegation is then insecure (RFC 4035 §3.1.4).
	if l.signed() {
		if ds := cut.set(dns.TypeDS); ds != nil {
			l.res.Ns = append(l.res.Ns, ds.rrs...)
		} else {
			l.proveNoDS(cut)
		}
	}
	for _, rr := range ns.rrs {
		l.addAddresses(rr.(*dns.NS).Ns, true)
	}
}

// negative answers NXDOMAIN or NODATA with the SOA in authority.
func (l *lookup) negative(rcode int) {
	l.res.Kind, l.res.Rcode = KindNoData, rcode
	if rcode == dns.RcodeNameError {
		l.res.Kind = KindNXDomain
	}
	l.res.Ns = append(l.res.Ns, l.zone.negSOA)
}

// answer puts rrs into the answer section under owner, and adds the
// addresses of the hosts they name. Their TTLs are already those to
// answer with: link-dependent records are capped at build.
func (l *lookup) answer(rrs []dns.RR, owner string) {
	if l.res.Answer == nil {
		l.res.Answer = make([]dns.RR, 0, len(rrs))
	}
	for _, rr := range rrs {
		rr = withOwner(rr, owner)
		l.res.Answer = append(l.res.Answer, rr)
		switch rr := rr.(type) {
		case *dns.MX:
			l.addAddresses(rr.Mx, false)
		case *dns.SRV:
			l.addAddresses(rr.Target, false)
		case *dns.NS:
			l.addAddresses(rr.Ns, true)
		}
	}
}

// addAddresses puts the A and AAAA of host into the additional section
// when host is in this zone. Glue (below a cut) is used only for referrals
// and NS answers.
func (l *lookup) addAddresses(host string, glue bool) {
	if host == "." || !inZone(host, l.zone.origin) || slices.Contains(l.extraDone, host) {
		return
	}
	l.extraDone = append(l.extraDone, host)
	if !glue && l.zone.cutAbove(host, true) != nil {
		return
	}
	n := l.zone.nodes.at(host)
	if n == nil {
		return
	}
	for _, t := range []uint16{dns.TypeA, dns.TypeAAAA} {
		if set := n.set(t); set != nil {
			l.res.Extra = append(l.res.Extra, l.records(set)...)
		}
	}
}

// records returns what a set answers now: addresses chosen by link state,
// MX chosen by target health, rotated from answer to answer.
func (l *lookup) records(set *rrset) []dns.RR {
	switch {
	case len(set.links) > 0:
		return l.rotate(l.linkAddresses(set))
	case set.rtype == dns.TypeMX:
		return l.mxRecords(set)
	case set.rtype == dns.TypeA || set.rtype == dns.TypeAAAA:
		return l.rotate(set.rrs)
	default:
		return set.rrs
	}
}

// withOwner is rr owned by owner: rr itself when it already is, which is
// the common case (not for a wildcard), else a copy. Records in a Result
// may thus be the snapshot's own, and are read only.
func withOwner(rr dns.RR, owner string) dns.RR {
	if rr.Header().Name == owner {
		return rr
	}
	rr = dns.Copy(rr)
	rr.Header().Name = owner
	return rr
}

// rotate starts rrs at the client's rotation, and notes the rotation's
// period in the result.
func (l *lookup) rotate(rrs []dns.RR) []dns.RR {
	if len(rrs) < 2 {
		return rrs
	}
	l.res.Rotations = lcmBounded(l.res.Rotations, uint32(len(rrs)))
	k := int(l.client.Rotate % uint32(len(rrs)))
	if k == 0 {
		return rrs
	}
	out := make([]dns.RR, 0, len(rrs))
	return append(append(out, rrs[k:]...), rrs[:k]...)
}

// lcmBounded is the least common multiple of a and b, or 0 (unbounded)
// once it passes maxRotations.
func lcmBounded(a, b uint32) uint32 {
	if a == 0 {
		return 0
	}
	x, y := a, b
	for y != 0 {
		x, y = y, x%y
	}
	if m := a / x * b; m <= maxRotations {
		return m
	}
	return 0
}
