package zone

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/miekg/dns"
	"gopkg.in/yaml.v3"

	"github.com/mxdns/mxdns/spf"
)

// Outbound identities. A link's outbound: says which addresses mail
// leaves from over it and which name its mail server gives in EHLO.
// From it the build publishes, in zones we serve, each address's PTR
// naming the helo and the helo's addresses when none are written, and
// expands the spf helper's links term; the checks in outboundcheck.go
// hold the rest of what receivers look at to it.

// outboundAddr is one outbound address as written.
type outboundAddr struct {
	addr netip.Addr
	pos  at
}

// outbound reads links.NAME.outbound.
func (r *reader) outbound(n *yaml.Node, what string, l *parsedLink) {
	what += " outbound"
	var heloNode *yaml.Node
	r.fields(n, what, map[string]func(*yaml.Node){
		"ipv4": func(v *yaml.Node) { r.outboundAddrs(v, what+" ipv4", false, l) },
		"ipv6": func(v *yaml.Node) { r.outboundAddrs(v, what+" ipv6", true, l) },
		"helo": func(v *yaml.Node) {
			heloNode = v
			s, ok := r.scalar(v, what+" helo")
			if !ok {
				return
			}
			name, err := canonicalName(s)
			if err != nil || dns.CountLabel(name) < 2 || strings.HasPrefix(name, "*.") {
				r.errorf(v, "%s helo %q: want the fully qualified host name the mail server gives in EHLO, such as mail.example.com (RFC 5321 §4.1.1.1)", what, s)
				return
			}
			l.Outbound.HELO, l.heloPos = name, r.pos(v)
		},
	})
	if r.probe != nil {
		return
	}
	switch {
	case len(l.outbound) > 0 && l.Outbound.HELO == "" && heloNode == nil:
		r.errorf(n, "%s: want helo, the name this link's mail server gives in EHLO (e.g. helo: mail.example.com); the addresses' PTRs name it", what)
	case len(l.outbound) == 0 && heloNode != nil && l.Outbound.HELO != "":
		r.warnf(heloNode, "%s: helo without ipv4 or ipv6 addresses: nothing is published or checked for it", what)
	}
}

func (r *reader) outboundAddrs(v *yaml.Node, what string, ipv6 bool, l *parsedLink) {
	for _, item := range r.list(v, what) {
		a, err := netip.ParseAddr(item.Value)
		if err == nil {
			a = a.Unmap()
		}
		switch {
		case err != nil || a.Zone() != "" || a.Is6() != ipv6:
			family := map[bool]string{false: "an IPv4 address such as 192.0.2.25", true: "an IPv6 address such as 2001:db8::25"}[ipv6]
			r.errorf(item, "%s %q: want %s", what, item.Value, family)
			continue
		case a.IsUnspecified() || a.IsMulticast():
			r.errorf(item, "%s %s: want the address mail is sent from, not an unspecified or multicast one", what, a)
			continue
		}
		if i := slices.IndexFunc(l.outbound, func(o outboundAddr) bool { return o.addr == a }); i >= 0 {
			r.warnf(item, "%s: %s is written twice (first at %s)", what, a, l.outbound[i].pos)
			continue
		}
		l.outbound = append(l.outbound, outboundAddr{a, r.pos(item)})
		if ipv6 {
			l.Outbound.IPv6 = append(l.Outbound.IPv6, a)
		} else {
			l.Outbound.IPv4 = append(l.Outbound.IPv4, a)
		}
	}
}

// outboundPTR is an outbound address, the PTR it gets and where that
// goes: its owner and reverse zone ("" when no zone of ours answers).
type outboundPTR struct {
	addr  netip.Addr
	helo  string
	link  string
	pos   at
	owner string
	zone  string
}

// outboundSet is what one build makes of the links' outbound identities.
type outboundSet struct {
	ptrs []outboundPTR // in link order, each address once
	// spfTerms is what the spf helper's links term stands for:
	// "ip4:192.0.2.25 ip6:2001:db8::25", "" when no link has addresses.
	spfTerms []string
	// helo holds, by the origin of the deepest zone holding each helo
	// name, the names and the addresses they are given when none is
	// written.
	helo map[string][]heloAddrs
}

type heloAddrs struct {
	name  string
	addrs []netip.Addr
}

// newOutboundSet gathers the outbound identities of links; order gives
// the zones being built, by origin.
func newOutboundSet(links []parsedLink, order map[string]int) *outboundSet {
	o := &outboundSet{helo: make(map[string][]heloAddrs)}
	seen := make(map[netip.Addr]bool)
	byHELO := make(map[string]int) // helo → index in its zone's list
	for _, l := range links {
		if l.Outbound.HELO == "" {
			continue // reported: addresses without a helo
		}
		for _, oa := range l.outbound {
			if seen[oa.addr] {
				continue // two links with one address: an error of buildLinks
			}
			seen[oa.addr] = true
			o.ptrs = append(o.ptrs, outboundPTR{addr: oa.addr, helo: l.Outbound.HELO, link: l.Name, pos: oa.pos})
			kind := "ip4:"
			if oa.addr.Is6() {
				kind = "ip6:"
			}
			o.spfTerms = append(o.spfTerms, kind+oa.addr.String())
			origin, ok := deepestZone(l.Outbound.HELO, order)
			if !ok {
				continue
			}
			key := origin + " " + l.Outbound.HELO
			i, ok := byHELO[key]
			if !ok {
				i = len(o.helo[origin])
				byHELO[key] = i
				o.helo[origin] = append(o.helo[origin], heloAddrs{name: l.Outbound.HELO})
			}
			o.helo[origin][i].addrs = append(o.helo[origin][i].addrs, oa.addr)
		}
	}
	return o
}

// deepestZone finds the zone of order that holds name.
func deepestZone(name string, order map[string]int) (string, bool) {
	for n := name; n != ""; n = parentName(n) {
		if _, ok := order[n]; ok {
			return n, true
		}
		if n == "." {
			break
		}
	}
	return "", false
}

// placeOutboundPTRs gives the owners in z of the outbound addresses their
// PTR naming the helo, before the PTRs made from forward zones' addresses,
// which they win over: the name a receiver compares with the EHLO is the
// one the operator gave. A PTR or CNAME written at the owner wins over
// both; the checks compare it with the helo. only, when not nil, limits
// it to those owners (a patch places only what it took away).
func (s *Snapshot) placeOutboundPTRs(z *zoneData, pz *parsedZone, only map[string]bool) {
	if pz.noAutoPTR || s.building == nil || s.building.outbound == nil {
		return
	}
	for _, p := range s.building.outbound.ptrs {
		if p.zone != z.origin || only != nil && !only[p.owner] {
			continue
		}
		if n := z.nodes.at(p.owner); n != nil && (n.set(dns.TypePTR) != nil || n.set(dns.TypeCNAME) != nil) {
			continue
		}
		n := z.node(p.owner)
		ptr := &dns.PTR{Hdr: dns.RR_Header{Name: p.owner, Rrtype: dns.TypePTR, Class: dns.ClassINET, Ttl: pz.ttl}, Ptr: p.helo}
		n.sets = append(n.sets, &rrset{rtype: dns.TypePTR, ttl: pz.ttl, rrs: []dns.RR{ptr}})
		slices.SortFunc(n.sets, func(a, b *rrset) int { return int(a.rtype) - int(b.rtype) })
	}
}

// locateOutboundPTRs works out where each outbound address's PTR goes,
// once the zones are built (ptrOwner follows their CNAMEs), and returns
// the reverse zones whose outbound PTRs moved since the previous build:
// they must be built whole.
func (b *zoneBuild) locateOutboundPTRs() map[string]bool {
	o := b.s.building.outbound
	moved := make(map[string]bool)
	var before map[netip.Addr]outboundPTR
	if b.pc != nil && b.prev.outbound != nil {
		before = make(map[netip.Addr]outboundPTR, len(b.prev.outbound))
		for _, p := range b.prev.outbound {
			before[p.addr] = p
		}
	}
	for i := range o.ptrs {
		p := &o.ptrs[i]
		owner, z := b.s.ptrOwner(p.addr)
		if z != nil {
			p.owner, p.zone = owner, z.origin
		}
		if was, ok := before[p.addr]; before != nil && (!ok || was.owner != p.owner || was.zone != p.zone) {
			for _, origin := range []string{was.zone, p.zone} {
				if _, ours := b.order[origin]; ours && origin != "" {
					moved[origin] = true
				}
			}
		}
	}
	b.s.outbound = o.ptrs
	return moved
}

// addHELOAddresses publishes, in z, the addresses of each helo name it
// holds that has none written (and no CNAME): every outbound address
// named by it, on no link, so that a receiver asking over any link
// finds the address it received the mail from.
func (z *zoneData) addHELOAddresses(pz *parsedZone, names []heloAddrs) {
	for _, h := range names {
		if z.cutAbove(h.name, true) != nil {
			continue // the child zone answers for it
		}
		if n := z.nodes.at(h.name); n != nil && (n.hasAddress() || n.set(dns.TypeCNAME) != nil) {
			continue
		}
		n := z.node(h.name)
		for _, t := range []uint16{dns.TypeA, dns.TypeAAAA} {
			set := &rrset{rtype: t, ttl: pz.ttl}
			for _, a := range h.addrs {
				if a.Is4() == (t == dns.TypeA) {
					set.rrs = append(set.rrs, addressRR(h.name, a, pz.ttl))
				}
			}
			if len(set.rrs) > 0 {
				n.sets = append(n.sets, set)
			}
		}
		slices.SortFunc(n.sets, func(a, b *rrset) int { return int(a.rtype) - int(b.rtype) })
	}
}

func addressRR(owner string, a netip.Addr, ttl uint32) dns.RR {
	if a.Is4() {
		return &dns.A{Hdr: dns.RR_Header{Name: owner, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: ttl}, A: a.AsSlice()}
	}
	return &dns.AAAA{Hdr: dns.RR_Header{Name: owner, Rrtype: dns.TypeAAAA, Class: dns.ClassINET, Ttl: ttl}, AAAA: a.AsSlice()}
}

// spfLinksTerm reports whether an spf helper term is links, with or
// without a qualifier, and returns the qualifier written.
func spfLinksTerm(f string) (string, bool) {
	q := ""
	if f != "" && strings.IndexByte("+-~?", f[0]) >= 0 {
		q, f = f[:1], f[1:]
	}
	return q, strings.EqualFold(f, "links")
}

// expandSPFLinks replaces each links term of an SPF text with the
// outbound addresses as ip4:/ip6: terms, each with the term's qualifier.
func expandSPFLinks(text string, terms []string) string {
	var out []string
	for _, f := range strings.Fields(text) {
		q, ok := spfLinksTerm(f)
		if !ok {
			out = append(out, f)
			continue
		}
		for _, t := range terms {
			out = append(out, q+t)
		}
	}
	return strings.Join(out, " ")
}

// spfLinks returns rr expanded, for the SPF record of an owner whose spf
// helper wrote links; rr itself otherwise. The parsed record is shared by
// builds and never written.
func (o *parsedOwner) spfLinksRR(rr dns.RR, terms []string) dns.RR {
	txt, ok := rr.(*dns.TXT)
	if !o.spfLinks || !ok || !spf.IsRecord(txtText(txt)) {
		return rr
	}
	cp := dns.Copy(txt).(*dns.TXT)
	cp.Txt = txtStrings(expandSPFLinks(txtText(txt), terms))
	return cp
}

// spfTerms is what the spf helper's links term stands for in this build.
func (s *Snapshot) spfTerms() []string {
	if s.building == nil || s.building.outbound == nil {
		return nil
	}
	return s.building.outbound.spfTerms
}
