package zone

import (
	"fmt"
	"net/netip"
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

// reverseName is the PTR owner of an address, lower case and absolute.
func reverseName(a netip.Addr) string {
	name, _ := dns.ReverseAddr(a.Unmap().String())
	return strings.ToLower(name)
}

// isReverse reports whether origin is in the reverse trees.
func isReverse(origin string) bool {
	return dns.IsSubDomain("in-addr.arpa.", origin) || dns.IsSubDomain("ip6.arpa.", origin)
}

// addrFromReverse reads the address a full-length PTR owner name stands for.
func addrFromReverse(name string) (netip.Addr, bool) {
	labels := dns.SplitDomainName(strings.ToLower(name))
	n := len(labels)
	switch {
	case n == 6 && labels[4] == "in-addr" && labels[5] == "arpa":
		a, err := netip.ParseAddr(labels[3] + "." + labels[2] + "." + labels[1] + "." + labels[0])
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
