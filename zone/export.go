package zone

import (
	"fmt"
	"io"
	"slices"
	"sort"

	"github.com/miekg/dns"
)

// Records returns every record of the zone with the given origin (any case,
// with or without the final dot) as a secondary would receive it: SOA
// first, then the rest by name in canonical order and by type. Link-mapped
// addresses are all included, since a secondary cannot run our health
// checks. A reverse zone may also be named by its network, as the
// configuration may (192.0.2.0/24). ok is false when no such zone is served.
func (s *Snapshot) Records(origin string) (rrs []dns.RR, ok bool) {
	z := s.zoneNamed(origin)
	if z == nil {
		return nil, false
	}
	return s.zoneRecords(z, nil), true
}

// zoneNamed is the zone with the given origin, as Records takes it, or
// nil.
func (s *Snapshot) zoneNamed(origin string) *zoneData {
	name, err := ZoneName(origin)
	if err != nil {
		return nil
	}
	return s.zones[name]
}

// zoneRecords is z's records in transfer order, copied. pick, when not
// nil, chooses a set's records, which keep their TTL; where it gives nil,
// or is nil, the set is taken as written, with the set's TTL.
func (s *Snapshot) zoneRecords(z *zoneData, pick func(*rrset) []dns.RR) []dns.RR {
	rrs := []dns.RR{z.soa}
	names := make([]string, 0, z.nodes.len())
	for n := range z.nodes.all() {
		names = append(names, n)
	}
	sortCanonical(names)
	for _, n := range names {
		for _, set := range z.nodes.at(n).sets {
			if set.rtype == dns.TypeSOA {
				continue
			}
			if pick != nil {
				if chosen := pick(set); chosen != nil {
					for _, rr := range chosen {
						rrs = append(rrs, dns.Copy(rr))
					}
					continue
				}
			}
			for _, rr := range set.rrs {
				rr = dns.Copy(rr)
				rr.Header().Ttl = set.ttl
				rrs = append(rrs, rr)
			}
		}
	}
	return rrs
}

// Export writes the zone as RFC 1035 master-file text.
func (s *Snapshot) Export(w io.Writer, origin string) error {
	rrs, ok := s.Records(origin)
	if !ok {
		if _, err := ZoneName(origin); err != nil {
			return fmt.Errorf("no zone %q: %w", origin, err)
		}
		return fmt.Errorf("no zone %q", origin)
	}
	if _, err := fmt.Fprintf(w, "$ORIGIN %s\n", rrs[0].Header().Name); err != nil {
		return err
	}
	for _, rr := range rrs {
		if _, err := fmt.Fprintln(w, rr.String()); err != nil {
			return err
		}
	}
	return nil
}

// sortCanonical orders names as RFC 4034 §6.1 does: by labels compared
// right to left, so that a name comes just before everything below it.
// Each name is split once, not once per comparison: a transfer of a big
// zone sorts tens of thousands of names.
func sortCanonical(names []string) {
	keys := make([][]string, len(names))
	for i, n := range names {
		keys[i] = dns.SplitDomainName(n)
		slices.Reverse(keys[i])
	}
	sort.Sort(byLabels{names, keys})
}

type byLabels struct {
	names []string
	keys  [][]string
}

func (b byLabels) Len() int           { return len(b.names) }
func (b byLabels) Less(i, j int) bool { return slices.Compare(b.keys[i], b.keys[j]) < 0 }
func (b byLabels) Swap(i, j int) {
	b.names[i], b.names[j] = b.names[j], b.names[i]
	b.keys[i], b.keys[j] = b.keys[j], b.keys[i]
}
