package zone

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/spf"
)

// checkOutbound holds what receivers look at, when mail arrives from a
// link's outbound address, to the zones we serve: the address's PTR, that
// PTR against the EHLO name, the EHLO name's addresses (forward-confirmed
// reverse DNS), and the SPF of the domains that send over the links. It
// runs at every build, after the PTRs are placed: it looks into every
// zone, and the few addresses a site sends from make it cheap.
func (b *zoneBuild) checkOutbound(diags *Diagnostics) {
	s := b.s
	if len(s.outbound) == 0 {
		return
	}
	for _, p := range s.outbound {
		b.checkOutboundPTR(p, diags)
		s.checkHELOAddress(p, diags)
	}
	b.checkOutboundSPF(diags)
}

func (b *zoneBuild) checkOutboundPTR(p outboundPTR, diags *Diagnostics) {
	helo := strings.TrimSuffix(p.helo, ".")
	if p.zone == "" {
		diags.add(p.pos, Warning, "link %s: outbound address %s: its reverse zone is not served here; ask your provider for PTR %s → %s (receivers refuse mail from an address without reverse DNS, and compare its name with the EHLO)",
			p.link, p.addr, p.addr, helo)
		return
	}
	z := b.s.zones[p.zone]
	var ptr *rrset
	if n := z.nodes.at(p.owner); n != nil {
		ptr = n.set(dns.TypePTR)
	}
	if ptr == nil {
		diags.add(p.pos, Warning, "link %s: outbound address %s has no PTR in zone %s (auto_ptr: false there); receivers refuse mail from an address without reverse DNS: write ptr: %s at %s, or turn auto_ptr on",
			p.link, p.addr, strings.TrimSuffix(p.zone, "."), p.helo, p.owner)
		return
	}
	for _, rr := range ptr.rrs {
		if name := rr.(*dns.PTR).Ptr; name != p.helo {
			diags.add(p.pos, Warning, "link %s: outbound address %s has PTR %s%s, but the link's helo is %s: receivers that compare the two treat the mail as suspect; make them one name",
				p.link, p.addr, strings.TrimSuffix(name, "."), b.writtenAt(p.zone, p.owner), helo)
			return
		}
	}
}

// writtenAt says where the ptr at owner of zone origin was written.
func (b *zoneBuild) writtenAt(origin, owner string) string {
	pz := b.zoneOf(origin)
	if pz == nil {
		return ""
	}
	for _, o := range pz.owners {
		if o.name == owner {
			if rec := firstOfType(o.records, dns.TypePTR); rec != nil {
				return fmt.Sprintf(" (written at %s)", rec.pos)
			}
		}
	}
	return ""
}

// checkHELOAddress holds the helo name, when we serve it, to having the
// address back, for every receiver whichever link its query arrives over.
func (s *Snapshot) checkHELOAddress(p outboundPTR, diags *Diagnostics) {
	t, ok := s.followCNAMEs(p.helo)
	if !ok {
		return // another server's data is not ours to judge
	}
	helo := strings.TrimSuffix(p.helo, ".")
	qtype := dns.TypeA
	if p.addr.Is6() {
		qtype = dns.TypeAAAA
	}
	var set *rrset
	if t.node != nil {
		set = t.node.set(qtype)
	}
	if set == nil || !slices.ContainsFunc(set.rrs, func(rr dns.RR) bool { a, _ := recordAddr(rr); return a == p.addr }) {
		diags.add(p.pos, Warning, "link %s: helo %s does not have address %s, so forward-confirmed reverse DNS fails: a receiver finds PTR %s → %s and then not the address back; add %s to %s, or write no address there and mxdns publishes the outbound ones",
			p.link, helo, p.addr, p.addr, helo, p.addr, helo)
		return
	}
	if len(set.links) == 0 {
		return
	}
	var with, without []string
	for _, la := range set.links {
		name := s.settings.Links[la.link].Name
		if slices.ContainsFunc(la.rrs, func(rr dns.RR) bool { a, _ := recordAddr(rr); return a == p.addr }) {
			with = append(with, name)
		} else {
			without = append(without, name)
		}
	}
	if len(without) > 0 {
		diags.add(p.pos, Warning, "link %s: helo %s gives address %s only on link %s (its addresses are link-mapped): a receiver whose query arrives over %s gets others, and forward-confirmed reverse DNS fails; write %s's addresses without links",
			p.link, helo, p.addr, strings.Join(with, ", "), strings.Join(without, ", "), helo)
	}
}

// followCNAMEs is resolveTarget, through CNAMEs within our zones as a
// receiver's resolver follows them.
func (s *Snapshot) followCNAMEs(name string) (target, bool) {
	t, ok := s.resolveTarget(name)
	for hops := 0; ok && t.node != nil && t.node.set(dns.TypeCNAME) != nil && hops < maxChain; hops++ {
		t, ok = s.resolveTarget(t.node.set(dns.TypeCNAME).rrs[0].(*dns.CNAME).Target)
	}
	return t, ok
}

// checkOutboundSPF warns of each domain that sends over the links, by
// its SPF or its MX, whose SPF does not pass every link's outbound
// address: after a failover its mail leaves from an address it does not
// list. An address whose result depends on data served elsewhere is not
// judged.
func (b *zoneBuild) checkOutboundSPF(diags *Diagnostics) {
	s := b.s
	r := zoneResolver{s}
	senders := make(map[netip.Addr]bool)
	helos := make(map[string]bool)
	for _, p := range s.outbound {
		senders[p.addr] = true
		helos[p.helo] = true
	}
	for _, d := range b.all {
		for _, o := range d.pz.owners {
			recs := spfRecords(o)
			if len(recs) != 1 {
				continue // none, or an error of its own
			}
			var missing []string
			var links []string
			sends := b.mxSends(o.name, senders, helos)
			for _, p := range s.outbound {
				res, _ := spf.Check(r, o.name, p.addr)
				switch res {
				case spf.Pass:
					sends = true
				case spf.Unknown:
				default:
					missing = append(missing, fmt.Sprintf("%s of link %s (%s)", p.addr, p.link, res))
					if !slices.Contains(links, p.link) {
						links = append(links, p.link)
					}
				}
			}
			if sends && len(missing) > 0 {
				diags.add(recs[0].pos, Warning, "spf of %s does not pass %s: mail sent over %s after a failover fails SPF; add links to the spf helper (spf: \"mx links -all\") or list the addresses",
					strings.TrimSuffix(o.name, "."), strings.Join(missing, ", "), strings.Join(links, ", "))
			}
		}
	}
}

// mxSends reports whether a mail host of domain sends over the links: an
// MX target that is a link's helo or has an outbound address.
func (b *zoneBuild) mxSends(domain string, senders map[netip.Addr]bool, helos map[string]bool) bool {
	t, ok := b.s.resolveTarget(domain)
	if !ok || t.node == nil || t.node.set(dns.TypeMX) == nil {
		return false
	}
	for _, rr := range t.node.set(dns.TypeMX).rrs {
		host := rr.(*dns.MX).Mx
		if helos[host] {
			return true
		}
		if h, ok := b.s.followCNAMEs(host); ok && h.node != nil {
			if slices.ContainsFunc(nodeAddrs(h.node), func(a netip.Addr) bool { return senders[a] }) {
				return true
			}
		}
	}
	return false
}

// zoneResolver answers an SPF evaluation from the zones being built. A
// name outside them is not known; addresses on links count on every
// link, as some receiver's query arrives over each.
type zoneResolver struct{ s *Snapshot }

func (r zoneResolver) TXT(name string) ([]string, bool) {
	t, ok := r.s.followCNAMEs(dns.CanonicalName(name))
	if !ok || t.node == nil || t.node.set(dns.TypeTXT) == nil {
		return nil, ok
	}
	var out []string
	for _, rr := range t.node.set(dns.TypeTXT).rrs {
		out = append(out, txtText(rr.(*dns.TXT)))
	}
	return out, true
}

func (r zoneResolver) Addrs(name string, ipv6 bool) ([]netip.Addr, bool) {
	t, ok := r.s.followCNAMEs(dns.CanonicalName(name))
	if !ok || t.node == nil {
		return nil, ok
	}
	var out []netip.Addr
	for _, a := range nodeAddrs(t.node) {
		if a.Is6() == ipv6 {
			out = append(out, a)
		}
	}
	return out, true
}

func (r zoneResolver) MX(name string) ([]string, bool) {
	t, ok := r.s.followCNAMEs(dns.CanonicalName(name))
	if !ok || t.node == nil || t.node.set(dns.TypeMX) == nil {
		return nil, ok
	}
	var out []string
	for _, rr := range t.node.set(dns.TypeMX).rrs {
		if mx := rr.(*dns.MX).Mx; mx != "." {
			out = append(out, mx)
		}
	}
	return out, true
}
