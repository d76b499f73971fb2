package zone

import (
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
// Outside our zones the child's keys are not ours to know.
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
		ds := n.set(dns.TypeDS)
		pos := o.pos
		if rec := firstOfType(o.records, dns.TypeDS); rec != nil {
			pos = rec.pos
		}
		switch {
		case ds == nil && child.dnssec != nil:
			diags.add(pos, Warning, "delegation to %s, a zone signed here, has no ds: validators treat %s as unsigned, and DANE there does not work; write ds: with the lines `mxdns dnssec ds %s` prints",
				name, name, name)
		case ds != nil && child.dnssec == nil:
			diags.add(pos, Warning, "ds at %s, but zone %s is not signed here: validating resolvers find every answer of %s bogus and answer SERVFAIL, mail to it included; remove the ds, or sign the zone (dnssec: on)",
				name, name, name)
		case ds != nil && child.keys != nil && !dsNamesAKey(ds.rrs, child.keys):
			diags.add(pos, Warning, "ds at %s names no key that signs zone %s's DNSKEY set: validating resolvers find every answer of %s bogus and answer SERVFAIL, mail to it included; write the lines `mxdns dnssec ds %s` prints",
				name, name, name, name)
		}
	}
}

// dsNamesAKey reports whether some DS of dss is the digest of a key that
// signs the child's DNSKEY set, a KSK or a CSK: a DS naming the ZSK
// leads a validator to a key that signs no DNSKEY set.
func dsNamesAKey(dss []dns.RR, keys *dnssec.ZoneKeys) bool {
	for _, rr := range dss {
		ds, ok := rr.(*dns.DS)
		if !ok {
			continue
		}
		for _, k := range keys.Keys {
			if k.Role == dnssec.ZSK || k.DNSKEY.Algorithm != ds.Algorithm || k.DNSKEY.KeyTag() != ds.KeyTag {
				continue
			}
			if want := k.DNSKEY.ToDS(ds.DigestType); want != nil && strings.EqualFold(want.Digest, ds.Digest) {
				return true
			}
		}
	}
	return false
}
