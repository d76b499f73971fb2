package zone

import (
	"slices"
	"strings"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/dnssec"
)

// KeySource gives a signed zone's DNSKEY records, making its keys on
// first use. The server's is its state directory; without one (mxdns
// check) zones are built without their DNSKEY.
type KeySource interface {
	DNSKEYs(origin string, p dnssec.Policy) ([]dns.RR, error)
}

// signingPolicy is the zone's dnssec: setting, or the top level's when it
// writes none; nil when the zone is not signed.
func signingPolicy(pz *parsedZone, cfg *parsedConfig) *dnssec.Policy {
	d := pz.dnssec
	if d == nil {
		d = cfg.dnssec
	}
	if d == nil || !d.on {
		return nil
	}
	p := d.policy
	return &p
}

// sign marks z as signed under its policy and puts its DNSKEY set at the
// apex, so that lookups, NSEC type maps and transfers see it like any
// set. Keys that cannot be had are an error: a zone whose parent may hold
// its DS must not be served unsigned.
func (z *zoneData) sign(pz *parsedZone, cfg *parsedConfig, keys KeySource, diags *Diagnostics) {
	z.dnssec = signingPolicy(pz, cfg)
	if z.dnssec == nil || keys == nil {
		return
	}
	rrs, err := keys.DNSKEYs(z.origin, *z.dnssec)
	if err != nil {
		pos := pz.pos
		if pz.dnssec != nil {
			pos = pz.dnssec.pos
		}
		diags.add(pos, Error, "zone %s: dnssec: %v", strings.TrimSuffix(z.origin, "."), err)
		return
	}
	for i, rr := range rrs {
		rrs[i] = withTTL(rr, pz.ttl)
	}
	apex := z.nodes.at(z.origin)
	apex.sets = append(apex.sets, &rrset{rtype: dns.TypeDNSKEY, ttl: pz.ttl, rrs: rrs})
	slices.SortFunc(apex.sets, func(a, b *rrset) int { return int(a.rtype) - int(b.rtype) })
}

// Signing returns the signing policy of the zone origin, if it is signed.
func (s *Snapshot) Signing(origin string) (dnssec.Policy, bool) {
	z := s.zones[origin]
	if z == nil || z.dnssec == nil {
		return dnssec.Policy{}, false
	}
	return *z.dnssec, true
}

// SignedZones lists the origins of the zones that are signed.
func (s *Snapshot) SignedZones() []string {
	var out []string
	for origin, z := range s.zones {
		if z.dnssec != nil {
			out = append(out, origin)
		}
	}
	slices.Sort(out)
	return out
}

// Source is the name that owns, in zone origin, the records a Result
// gives under owner: owner itself, or the wildcard that synthesised them
// (RFC 4035 §5.3.2 signs those under the wildcard's name). It is false
// for a name below a delegation, whose addresses are glue the zone does
// not sign.
func (s *Snapshot) Source(origin, owner string) (string, bool) {
	z := s.zones[origin]
	if z == nil {
		return owner, false
	}
	if z.cutAbove(owner, false) != nil {
		return owner, false
	}
	if z.nodes.at(owner) != nil || !z.wildcard {
		return owner, true
	}
	if w := z.wildcardFor(owner); w != nil {
		return w.name, true
	}
	return owner, true
}

// Serves reports whether origin is a zone of the snapshot.
func (s *Snapshot) Serves(origin string) bool { return s.zones[origin] != nil }
