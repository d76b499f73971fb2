package zone

import (
	"fmt"
	"io"
	"sort"

	"github.com/miekg/dns"
)

// Records returns every record of the zone with the given origin (any case,
// with or without the final dot) as a secondary would receive it: SOA
// first, then the rest by name in canonical order and by type. Link-mapped
// addresses are all included, since a secondary cannot run our health
// checks. ok is false when no such zone is served.
func (s *Snapshot) Records(origin string) (rrs []dns.RR, ok bool) {
	name, err := canonicalName(origin)
	if err != nil {
		return nil, false
	}
	z, ok := s.zones[name]
	if !ok {
		return nil, false
	}
	rrs = append(rrs, z.soa)
	names := make([]string, 0, len(z.nodes))
	for n := range z.nodes {
		names = append(names, n)
	}
	sortCanonical(names)
	for _, n := range names {
		for _, set := range z.nodes[n].sets {
			if set.rtype == dns.TypeSOA {
				continue
			}
			for _, rr := range set.rrs {
				rr = dns.Copy(rr)
				rr.Header().Ttl = set.ttl
				rrs = append(rrs, rr)
			}
		}
	}
	return rrs, true
}

// Export writes the zone as RFC 1035 master-file text.
func (s *Snapshot) Export(w io.Writer, origin string) error {
	rrs, ok := s.Records(origin)
	if !ok {
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
func sortCanonical(names []string) {
	sort.Slice(names, func(i, j int) bool { return canonicalLess(names[i], names[j]) })
}

func canonicalLess(a, b string) bool {
	la, lb := dns.SplitDomainName(a), dns.SplitDomainName(b)
	for i, j := len(la)-1, len(lb)-1; i >= 0 && j >= 0; i, j = i-1, j-1 {
		if la[i] != lb[j] {
			return la[i] < lb[j]
		}
	}
	return len(la) < len(lb)
}
