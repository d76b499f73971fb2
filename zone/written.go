package zone

import (
	"strings"

	"github.com/miekg/dns"
)

// Written is a record as the files wrote it, and where: for a helper's
// record, the helper's key or list item. Checks that look at a record
// after it was served (mxdns check -resolve) report at its position.
type Written struct {
	RR        dns.RR
	File      string
	Line, Col int
}

// WrittenAt returns the records of type rrtype (any type for
// dns.TypeANY) written at name, in the order written; none for a name of
// no zone served or one nothing was written at. Records the server makes
// itself (the SOA, automatic PTRs, DNSSEC's, the catalog's) have no
// place in a file and are not among them.
func (s *Snapshot) WrittenAt(name string, rrtype uint16) []Written {
	name = strings.ToLower(dns.Fqdn(name))
	z := s.findZone(name)
	if z == nil || s.cache == nil {
		return nil
	}
	zc, ok := s.cache.zones.get(z.origin)
	if !ok || zc.pz == nil {
		return nil
	}
	var out []Written
	for _, o := range zc.pz.owners {
		if o.name != name {
			continue
		}
		for _, rec := range o.records {
			if rrtype == dns.TypeANY || rec.rr.Header().Rrtype == rrtype {
				out = append(out, Written{RR: rec.rr, File: rec.pos.file, Line: rec.pos.line, Col: rec.pos.col})
			}
		}
	}
	return out
}

// ZoneOf returns the origin of the zone served that holds name (the
// longest origin it ends in), or "" when no zone does: a query for it
// then gets REFUSED.
func (s *Snapshot) ZoneOf(name string) string {
	if z := s.findZone(strings.ToLower(dns.Fqdn(name))); z != nil {
		return z.origin
	}
	return ""
}
