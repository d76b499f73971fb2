package zone

import (
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/dnssec"
)

// KeySource gives a signed zone its keys as they stand now, moved through
// their rollovers under t, and makes them on first use. The server's is
// its state directory; without one (mxdns check) zones are built without
// their DNSKEY.
type KeySource interface {
	Keys(origin string, p dnssec.Policy, t dnssec.Timing) (*dnssec.ZoneKeys, error)
	// HasKeys reports whether a zone has keys in use: one whose dnssec:
	// was removed is then taken towards unsigned by Unsign, which gives
	// the keys to keep signing with meanwhile, nil once it is unsigned.
	HasKeys(origin string) bool
	Unsign(origin string, t dnssec.Timing) (*dnssec.ZoneKeys, error)
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

// sign marks z as signed under its policy and puts its DNSKEY set, and
// the CDS and CDNSKEY sets of a key submitted to the parent, at the apex,
// so that lookups, NSEC type maps and transfers see them like any set.
// Keys that cannot be had are an error: a zone whose parent may hold its
// DS must not be served unsigned.
func (z *zoneData) sign(pz *parsedZone, cfg *parsedConfig, keys KeySource, diags *Diagnostics) {
	z.dnssec = signingPolicy(pz, cfg)
	if z.dnssec == nil && (keys == nil || !keys.HasKeys(z.origin)) {
		return
	}
	z.timing = dnssec.Timing{
		Propagation: dnssec.DefaultPropagation,
		DSTTL:       dnssec.DefaultDSTTL,
		DNSKEYTTL:   time.Duration(pz.ttl) * time.Second,
		MaxTTL:      time.Duration(z.maxTTL(pz)) * time.Second,
	}
	if keys == nil {
		return
	}
	name := strings.TrimSuffix(z.origin, ".")
	pos := pz.pos
	if pz.dnssec != nil {
		pos = pz.dnssec.pos
	}
	var zk *dnssec.ZoneKeys
	var err error
	if z.dnssec != nil {
		zk, err = keys.Keys(z.origin, *z.dnssec, z.timing)
	} else if zk, err = keys.Unsign(z.origin, z.timing); zk != nil {
		z.dnssec = keptPolicy(zk)
		diags.add(pos, Warning, "zone %s: dnssec is removed, but the zone stays signed until the parent deletes its DS, or validators would find it bogus; "+
			"it asks the parent to with CDS and CDNSKEY delete records (RFC 8078). Once the registrar has removed the DS, run: mxdns dnssec ds-gone %s", name, name)
	}
	if err != nil {
		diags.add(pos, Error, "zone %s: dnssec: %v", name, err)
		return
	}
	if zk == nil {
		return
	}
	z.keys = zk
	apex := z.nodes.at(z.origin)
	apex.sets = append(apex.sets, &rrset{rtype: dns.TypeDNSKEY, ttl: pz.ttl, rrs: zk.DNSKEYs(pz.ttl)})
	if z.dnssec.NSEC3 {
		// Iterations 0, no salt, no opt-out: RFC 9276 §3.1. TTL 0, as
		// BIND and Knot publish it: only signers read it.
		param := &dns.NSEC3PARAM{Hdr: dns.RR_Header{Name: z.origin, Rrtype: dns.TypeNSEC3PARAM, Class: dns.ClassINET}, Hash: dns.SHA1}
		apex.sets = append(apex.sets, &rrset{rtype: dns.TypeNSEC3PARAM, rrs: []dns.RR{param}})
	}
	if cds, cdnskey := zk.CDS(pz.ttl); len(cds) > 0 {
		apex.sets = append(apex.sets, &rrset{rtype: dns.TypeCDS, ttl: pz.ttl, rrs: cds},
			&rrset{rtype: dns.TypeCDNSKEY, ttl: pz.ttl, rrs: cdnskey})
	}
	slices.SortFunc(apex.sets, func(a, b *rrset) int { return int(a.rtype) - int(b.rtype) })
}

// keptPolicy signs a zone on its way to unsigned with the keys it has.
func keptPolicy(zk *dnssec.ZoneKeys) *dnssec.Policy {
	p := dnssec.DefaultPolicy()
	p.ZSKLifetime = 0 // no rollover now
	for _, k := range zk.Keys {
		p.Algorithm = k.DNSKEY.Algorithm
		if k.Role == dnssec.KSK {
			p.Split = true
		}
	}
	return &p
}

// maxTTL is the longest TTL any set of the zone is served with, the SOA's
// (given by pz, added later) included: how long a signature may live in
// a cache.
func (z *zoneData) maxTTL(pz *parsedZone) uint32 {
	longest := pz.ttl
	for _, n := range z.nodes.all() {
		for _, set := range n.sets {
			longest = max(longest, set.ttl)
		}
	}
	return longest
}

// KeyTiming is what the rollovers of the signed zone origin wait for.
func (s *Snapshot) KeyTiming(origin string) dnssec.Timing {
	if z := s.zones[origin]; z != nil {
		return z.timing
	}
	return dnssec.Timing{}
}

// Keys returns the keys the signed zone origin was built with: its DNSKEY
// set is theirs, so they, and no others, must sign its answers.
func (s *Snapshot) Keys(origin string) *dnssec.ZoneKeys {
	if z := s.zones[origin]; z != nil {
		return z.keys
	}
	return nil
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
