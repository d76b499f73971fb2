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
// PTR against the EHLO name, and the EHLO name's addresses (forward-
// confirmed reverse DNS). It runs at every build, after the PTRs are
// placed: it looks into every zone, and the few addresses a site sends
// from make it cheap. The SPF of the domains that send over the links is
// a zone's own check (checkOutboundSPF), redone only when what it read
// changed.
func (b *zoneBuild) checkOutbound(diags *Diagnostics) {
	for _, p := range b.s.outbound {
		b.checkOutboundPTR(p, diags)
		b.s.checkHELOAddress(p, diags)
	}
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

// senders is what tells a domain that sends over the links: the links'
// outbound addresses and helo names.
type senders struct {
	addrs map[netip.Addr]bool
	helos map[string]bool
}

func (s *Snapshot) senders() senders {
	out := senders{addrs: make(map[netip.Addr]bool), helos: make(map[string]bool)}
	for _, p := range s.outbound {
		out.addrs[p.addr], out.helos[p.helo] = true, true
	}
	return out
}

// checkOutboundSPF warns of each domain of pz that sends over the links,
// by its SPF or its MX, whose SPF does not pass every link's outbound
// address: after a failover its mail leaves from an address it does not
// list. An address whose result depends on data served elsewhere is not
// judged. Names that cannot be a mail domain (RFC 5321 §4.1.2: letters,
// digits and hyphens) are passed over, and so is a record the zone's
// other SPF records include or redirect to, unless its MX sends: such
// records list addresses for a domain, and that domain is what is judged.
func (s *Snapshot) checkOutboundSPF(pz *parsedZone, from senders, diags *Diagnostics) {
	if len(s.outbound) == 0 {
		return
	}
	r := zoneResolver{s}
	included := spfTargets(pz)
	for _, o := range pz.owners {
		recs := spfRecords(o)
		if len(recs) != 1 || !isMailDomain(o.name) {
			continue // none, or an error of its own
		}
		var missing, links []string
		sends := s.mxSends(o.name, from)
		mayPass := sends || !included[o.name]
		for _, p := range s.outbound {
			res, _ := spf.Check(r, o.name, p.addr)
			switch res {
			case spf.Pass:
				sends = sends || mayPass
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

// spfTargets are the names pz's SPF records include or redirect to.
func spfTargets(pz *parsedZone) map[string]bool {
	out := map[string]bool{}
	for _, o := range pz.owners {
		for _, rec := range spfRecords(o) {
			terms, err := spf.Parse(txtText(rec.rr.(*dns.TXT)))
			if err != nil {
				continue
			}
			for _, t := range terms {
				if (t.Name == "include" || t.Name == "redirect") && !t.Macro() {
					out[dns.CanonicalName(t.Domain)] = true
				}
			}
		}
	}
	return out
}

// isMailDomain reports whether name has the syntax of RFC 5321's Domain:
// labels of letters, digits and hyphens, neither first nor last a hyphen.
// An underscored name (_spf, _dmarc) is never a mail domain.
func isMailDomain(name string) bool {
	for _, label := range strings.Split(strings.TrimSuffix(name, "."), ".") {
		if label == "" || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// mxSends reports whether a mail host of domain sends over the links: an
// MX target that is a link's helo or has an outbound address.
func (s *Snapshot) mxSends(domain string, from senders) bool {
	t, ok := s.resolveTarget(domain)
	if !ok || t.node == nil || t.node.set(dns.TypeMX) == nil {
		return false
	}
	for _, rr := range t.node.set(dns.TypeMX).rrs {
		host := rr.(*dns.MX).Mx
		if from.helos[host] {
			return true
		}
		if h, ok := s.followCNAMEs(host); ok && h.node != nil {
			if slices.ContainsFunc(nodeAddrs(h.node), func(a netip.Addr) bool { return from.addrs[a] }) {
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
