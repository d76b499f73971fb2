package zone

import (
	"strings"

	"github.com/miekg/dns"
)

// target is where a name found as record data leads within our zones.
type target struct {
	zone *zoneData
	node *node // nil when the name does not exist (and no wildcard covers it)
}

// resolveTarget finds the node answering for name in the zones we serve.
// ok is false when name is in none of them, or lies below a delegation
// (where only the child zone is authoritative).
func (s *Snapshot) resolveTarget(name string) (target, bool) {
	z := s.findZone(name)
	s.tracked(z, name)
	if z == nil || z.cutAbove(name, true) != nil {
		return target{}, false
	}
	if n := z.nodes.at(name); n != nil {
		return target{z, n}, true
	}
	if n := z.wildcardFor(name); n != nil {
		return target{z, n}, true
	}
	return target{zone: z}, true
}

// checkTargets checks what MX, SRV and NS records point at (RFC 2181
// §10.3, RFC 2782): never a CNAME, and for MX and SRV a name with an
// address, when the target is in a zone we serve.
func (s *Snapshot) checkTargets(pz *parsedZone, diags *Diagnostics) {
	for _, o := range pz.owners {
		for _, rec := range o.records {
			var name, key string
			switch rr := rec.rr.(type) {
			case *dns.MX:
				name, key = rr.Mx, "mx"
			case *dns.SRV:
				name, key = rr.Target, "srv"
			case *dns.NS:
				name, key = rr.Ns, "ns"
			default:
				continue
			}
			s.checkTarget(name, key, rec.pos, diags)
		}
	}
	for _, ns := range pz.ns {
		s.checkTarget(ns.name, "ns", ns.pos, diags)
	}
}

func (s *Snapshot) checkTarget(name, key string, pos at, diags *Diagnostics) {
	if name == "." {
		return // null MX (RFC 7505) or "no service" SRV (RFC 2782)
	}
	t, ok := s.resolveTarget(name)
	if !ok {
		return
	}
	switch {
	case t.node != nil && t.node.set(dns.TypeCNAME) != nil:
		diags.add(pos, Error, "%s target %s is a CNAME; point at the host's own name (RFC 2181 §10.3)", key, name)
	case key == "ns":
		if t.node == nil || !t.node.hasAddress() {
			diags.add(pos, Warning, "ns target %s has no address in zone %s; resolvers cannot reach it", name, strings.TrimSuffix(t.zone.origin, "."))
		}
	case t.node == nil || !t.node.hasAddress():
		diags.add(pos, Error, "%s target %s has no address: add a or aaaa for it in zone %s", key, name, strings.TrimSuffix(t.zone.origin, "."))
	}
}

// linkMXHealth records, for every MX set of z whose targets' reachability
// depends on links, which links keep each target reachable, and the set's
// records with their TTL capped at link_ttl.
func (s *Snapshot) linkMXHealth(z *zoneData) {
	for _, set := range z.mxSets {
		health := make([]mxHealth, len(set.rrs))
		dependent := false
		for i, rr := range set.rrs {
			health[i] = s.targetHealth(rr.(*dns.MX).Mx)
			dependent = dependent || !health[i].always
		}
		if !dependent {
			continue
		}
		capped := set.rrs
		if ttl := min(set.ttl, s.settings.LinkTTL); ttl != set.ttl {
			capped = make([]dns.RR, len(set.rrs))
			for i, rr := range set.rrs {
				capped[i] = withTTL(rr, ttl)
			}
		}
		s.mxLinked.set(set, linkedMX{health: health, rrs: capped})
	}
}

// targetHealth says when a host is reachable: an address on no link is
// always answered, a link-mapped one while its link is up.
func (s *Snapshot) targetHealth(name string) mxHealth {
	t, ok := s.resolveTarget(name)
	if !ok || name == "." {
		return mxHealth{always: true}
	}
	var h mxHealth
	if t.node == nil {
		return h
	}
	for _, typ := range []uint16{dns.TypeA, dns.TypeAAAA} {
		set := t.node.set(typ)
		if set == nil {
			continue
		}
		if len(set.links) == 0 {
			return mxHealth{always: true}
		}
		for _, la := range set.links {
			h.links = h.links.With(la.link)
		}
	}
	return h
}

// isMXTarget reports whether an MX record of any zone names name, noting
// that a zone's checks asked: an MX in another file that starts or stops
// naming it must redo them.
func (s *Snapshot) isMXTarget(name string) bool {
	if s.building != nil && s.building.track != nil {
		s.building.trackMX = append(s.building.trackMX, name)
	}
	return s.cache != nil && s.cache.mxCount[name] > 0
}

// tracked notes, while a zone's cross-zone checks run, that they looked
// up name in z: the findings are redone when z is rebuilt, or, for a
// reverse zone patched, when the patch may have changed name.
func (s *Snapshot) tracked(z *zoneData, name string) {
	if s.building == nil || s.building.track == nil || z == nil {
		return
	}
	s.building.track[z.origin] = true
	if isReverse(z.origin) {
		s.building.trackNames = append(s.building.trackNames, name)
	}
}
