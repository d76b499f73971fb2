package zone

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// reverseOrigin turns a zone key written as a CIDR into its in-addr.arpa or
// ip6.arpa origin. Only prefixes that end on a label boundary have a zone of
// their own: octets for IPv4, nibbles for IPv6.
func reverseOrigin(s string) (string, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return "", fmt.Errorf("want a network such as 192.0.2.0/24 or 2001:db8::/48")
	}
	bits, step := p.Bits(), 8
	if p.Addr().Is6() {
		step = 4
	}
	if bits == 0 || bits%step != 0 || p.Addr().Is4In6() {
		if step == 4 {
			return "", fmt.Errorf("an ip6.arpa zone needs a prefix length that is a multiple of 4 (a nibble, e.g. /32, /48, /56, /64); RFC 2317 classless delegation is for IPv4, so serve the enclosing nibble-aligned prefix")
		}
		if bits > 24 {
			first := p.Masked().Addr().As4()
			last := first[3] + byte(1<<(32-bits)-1)
			parent := strings.Join(dns.SplitDomainName(reverseName(p.Addr()))[1:], ".")
			return "", fmt.Errorf("an in-addr.arpa zone needs a prefix length of /8, /16 or /24; for a block smaller than a /24 ask your provider for RFC 2317 classless delegation and serve the zone under the name its CNAMEs point into (e.g. \"%d-%d.%s\")", first[3], last, parent)
		}
		return "", fmt.Errorf("an in-addr.arpa zone needs a prefix length of /8, /16 or /24 (RFC 2317 classless delegation is only for blocks smaller than a /24); serve each /%d within it as a zone of its own", (bits/8+1)*8)
	}
	if p.Masked() != p {
		return "", fmt.Errorf("host bits are set; did you mean %s?", p.Masked())
	}
	full := reverseName(p.Addr())
	labels := dns.SplitDomainName(full)
	keep := bits / step
	suffix := 2 // in-addr.arpa / ip6.arpa
	return strings.Join(labels[len(labels)-suffix-keep:], ".") + ".", nil
}

// ZoneName is the origin of a zone written as the configuration's zones
// keys may be: a domain name (any case, final dot optional) or a network
// (192.0.2.0/24, 2001:db8::/48) for a reverse zone.
func ZoneName(s string) (string, error) {
	if strings.Contains(s, "/") {
		return reverseOrigin(s)
	}
	return canonicalName(s)
}

// reverseName is the PTR owner of an address, lower case and absolute.
func reverseName(a netip.Addr) string {
	name, _ := dns.ReverseAddr(a.Unmap().String())
	return strings.ToLower(name)
}

// isReverse reports whether origin is in the reverse trees.
func isReverse(origin string) bool {
	return hasLabelSuffix(origin, "in-addr.arpa.") || hasLabelSuffix(origin, "ip6.arpa.")
}

// hasLabelSuffix reports whether name (lower case, absolute) is suffix or
// below it; cheaper than dns.IsSubDomain, which the passes over every zone
// of a reload call often.
func hasLabelSuffix(name, suffix string) bool {
	return name == suffix || strings.HasSuffix(name, suffix) && name[len(name)-len(suffix)-1] == '.'
}

// addrFromReverse reads the address a full-length PTR owner name stands for.
func addrFromReverse(name string) (netip.Addr, bool) {
	labels := dns.SplitDomainName(strings.ToLower(name))
	n := len(labels)
	switch {
	case n == 6 && labels[4] == "in-addr" && labels[5] == "arpa":
		a, err := netip.ParseAddr(labels[3] + "." + labels[2] + "." + labels[1] + "." + labels[0])
		return a, err == nil
	case n == 7 && labels[5] == "in-addr" && labels[6] == "arpa":
		// RFC 2317: host.<range>.c.b.a.in-addr.arpa
		a, err := netip.ParseAddr(labels[4] + "." + labels[3] + "." + labels[2] + "." + labels[0])
		return a, err == nil
	case n == 34 && labels[32] == "ip6" && labels[33] == "arpa":
		var b strings.Builder
		for i := 31; i >= 0; i-- {
			if len(labels[i]) != 1 {
				return netip.Addr{}, false
			}
			b.WriteString(labels[i])
			if i%4 == 0 && i > 0 {
				b.WriteByte(':')
			}
		}
		a, err := netip.ParseAddr(b.String())
		return a, err == nil
	}
	return netip.Addr{}, false
}

// ptrOwner finds where a resolver asking for a's PTR lands in the zones we
// serve, which is where a generated PTR must go: a's plain reverse name,
// or, when the zone answering for that name holds a CNAME there (RFC 2317:
// the /24 leading into the zone of a smaller block), the CNAME's target.
// When no zone of ours answers for the plain name, the /24 and its CNAMEs
// are served elsewhere: an RFC 2317 zone we serve covering a gets the PTR
// at the name those CNAMEs conventionally lead to. It returns no zone when
// the way leads out of our zones, or below a delegation.
func (s *Snapshot) ptrOwner(a netip.Addr) (string, *zoneData) {
	rev := reverseName(a)
	if z := s.reverseZoneFor(rev); z != nil {
		n := z.nodes.at(rev)
		if n == nil || n.set(dns.TypeCNAME) == nil {
			return rev, z
		}
		// One step, as RFC 2317 takes: a PTR behind a longer chain is
		// not ours to place.
		target := n.set(dns.TypeCNAME).rrs[0].(*dns.CNAME).Target
		if t := s.reverseZoneFor(target); t != nil {
			return target, t
		}
		return "", nil
	}
	if a.Is4() {
		last := int(a.As4()[3])
		for _, c := range s.cache.classless[parentName(rev)] {
			if last >= c.lo && last <= c.hi {
				owner := strconv.Itoa(last) + "." + c.origin
				if z := s.reverseZoneFor(owner); z != nil {
					return owner, z
				}
				return "", nil
			}
		}
	}
	return "", nil
}

// reverseZoneFor is the reverse zone that answers for name with its own
// data: nil when none holds it, or it lies below a delegation (the child
// answers there).
func (s *Snapshot) reverseZoneFor(name string) *zoneData {
	z := s.findZone(name)
	if z == nil || !isReverse(z.origin) {
		return nil
	}
	s.tracked(z, name) // even below a delegation: its going makes the name ours
	if z.cutAbove(name, true) != nil {
		return nil
	}
	return z
}

// classlessZone is an RFC 2317 zone we serve and the addresses it covers.
// It names the zone rather than pointing at it, so that the index holds
// for every build with the same zones, however many of them are rebuilt.
type classlessZone struct {
	origin string
	lo, hi int
}

// indexClassless files every RFC 2317 zone under the /24 reverse name it
// divides, so that finding one costs a map look-up, not a pass over every
// zone. It needs only the origins: zones need not be built yet.
func indexClassless(all []defined) map[string][]classlessZone {
	classless := make(map[string][]classlessZone)
	for _, d := range all {
		origin := d.pz.origin
		if !isReverse(origin) {
			continue
		}
		label, _, _ := strings.Cut(origin, ".")
		if lo, hi, ok := classlessRange(label); ok {
			parent := parentName(origin)
			classless[parent] = append(classless[parent], classlessZone{origin, lo, hi})
		}
	}
	return classless
}

// classlessRange reads the first label of an RFC 2317 zone: "64-127" or
// "64/26" (start and prefix length).
func classlessRange(label string) (lo, hi int, ok bool) {
	if a, b, found := strings.Cut(label, "-"); found {
		lo, err1 := strconv.Atoi(a)
		hi, err2 := strconv.Atoi(b)
		return lo, hi, err1 == nil && err2 == nil && lo <= hi && hi < 256
	}
	if a, b, found := strings.Cut(label, "/"); found {
		lo, err1 := strconv.Atoi(a)
		bits, err2 := strconv.Atoi(b)
		if err1 != nil || err2 != nil || bits < 25 || bits > 32 {
			return 0, 0, false
		}
		hi := lo + 1<<(32-bits) - 1
		return lo, hi, hi < 256
	}
	return 0, 0, false
}
