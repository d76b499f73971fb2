package zone

import (
	"slices"
	"strings"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/dnssec"
)

// checkChildDS holds a signed zone's delegations to zones served here to
// the children's keys. The DS at a delegation is what joins a signed
// parent to a signed child (RFC 4035 §5): a DS that names none of the
// child's keys, or a DS for a child that is not signed, makes every answer
// of the child bogus to a validating resolver (SERVFAIL), mail to it
// included; no DS makes the child insecure, which turns DANE off there.
// A child's new key that waits for its DS is told too: the rollover must
// not go on (ds-seen) before the DS is written here. Outside our zones
// the child's keys are not ours to know.
func (s *Snapshot) checkChildDS(pz *parsedZone, diags *Diagnostics) {
	z := s.zones[pz.origin]
	if z == nil || z.dnssec == nil || !z.cuts {
		return
	}
	for _, o := range pz.owners {
		child := s.zones[o.name]
		n := z.nodes.at(o.name)
		if child == nil || o.name == pz.origin || n == nil || !n.cut {
			continue
		}
		s.tracked(child, o.name)
		name := strings.TrimSuffix(o.name, ".")
		ds := dsRecords(n)
		pos := o.pos
		if rec := firstOfType(o.records, dns.TypeDS); rec != nil {
			pos = rec.pos
		}
		switch {
		case len(ds) == 0 && child.dnssec != nil:
			diags.add(pos, Warning, "delegation to %s, a zone signed here, has no ds: validators treat %s as unsigned, and DANE there does not work; write ds: with the lines `mxdns dnssec ds %s` prints",
				name, name, name)
		case len(ds) > 0 && child.dnssec == nil:
			diags.add(pos, Warning, "ds at %s, but zone %s is not signed here: validating resolvers find every answer of %s bogus and answer SERVFAIL, mail to it included; remove the ds, or sign the zone (dnssec: on)",
				name, name, name)
		case len(ds) > 0 && child.keys != nil && !slices.ContainsFunc(child.keys.Keys, func(k *dnssec.Key) bool { return namedBy(k, ds) }):
			diags.add(pos, Warning, "ds at %s names no key that signs zone %s's DNSKEY set: validating resolvers find every answer of %s bogus and answer SERVFAIL, mail to it included; write the lines `mxdns dnssec ds %s` prints",
				name, name, name, name)
		case len(ds) > 0 && child.keys != nil && slices.ContainsFunc(child.keys.Keys, func(k *dnssec.Key) bool { return k.WaitsForDS() && !namedBy(k, ds) }):
			diags.add(pos, Warning, "zone %s's new key waits for its DS: write the lines `mxdns dnssec ds %s` prints in ds: here before its rollover goes on (mxdns dnssec ds-seen %s); the old key's DS may stay until then",
				name, name, name)
		}
	}
}

// ParentDS returns the DS records a signed zone served here publishes at
// its delegation to child, and that zone's origin; ok is false when no
// signed zone served here delegates child.
func (s *Snapshot) ParentDS(child string) (parent string, ds []*dns.DS, ok bool) {
	child = dns.CanonicalName(child)
	if child == "." {
		return "", nil, false
	}
	z := s.findZone(parentName(child))
	if z == nil || z.dnssec == nil {
		return "", nil, false
	}
	n := z.nodes.at(child)
	if n == nil || !n.cut {
		return "", nil, false
	}
	return z.origin, dsRecords(n), true
}

func dsRecords(n *node) []*dns.DS {
	set := n.set(dns.TypeDS)
	if set == nil {
		return nil
	}
	out := make([]*dns.DS, 0, len(set.rrs))
	for _, rr := range set.rrs {
		if ds, ok := rr.(*dns.DS); ok {
			out = append(out, ds)
		}
	}
	return out
}

// namedBy reports whether some DS of ds names k.
func namedBy(k *dnssec.Key, ds []*dns.DS) bool {
	return slices.ContainsFunc(ds, k.NamedBy)
}

// checkDelegated warns of a zone inside another zone served here that
// does not delegate it: a zone cut has the child's NS in the parent (RFC
// 1034 §4.2.1). Without them, resolvers that ask the parent's other
// servers find no name of the child, and a CNAME in the parent that
// leads into the child is answered NXDOMAIN, as the parent has no such
// name.
func (s *Snapshot) checkDelegated(pz *parsedZone, diags *Diagnostics) {
	if pz.origin == "." {
		return
	}
	z, parent := s.zones[pz.origin], s.findZone(parentName(pz.origin))
	if z == nil || parent == nil || z == s.catalogZone() || parent == s.catalogZone() {
		return
	}
	s.tracked(parent, pz.origin)
	if n := parent.nodes.at(pz.origin); n != nil && n.cut {
		return
	}
	name, in := strings.TrimSuffix(pz.origin, "."), strings.TrimSuffix(parent.origin, ".")
	diags.add(pz.pos, Warning, "zone %s lies inside zone %s, which does not delegate it: write ns: at %s in %s; without it resolvers that ask %s's other servers find no %s, and a CNAME in %s into it is answered NXDOMAIN",
		name, in, name, in, in, name, in)
}
