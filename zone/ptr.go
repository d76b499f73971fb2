package zone

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/miekg/dns"
	"gopkg.in/yaml.v3"
)

// autoPTR reads a zone's auto_ptr key, which only a reverse zone uses.
func (r *reader) autoPTR(v *yaml.Node, origin, what string) bool {
	on := r.boolValue(v, what+" auto_ptr")
	if !isReverse(origin) {
		r.warnf(v, "%s: auto_ptr has no effect outside in-addr.arpa and ip6.arpa; PTRs are made in the reverse zone that holds an address", what)
	}
	return on
}

// addrUse is one name that holds an address, as written.
type addrUse struct {
	name     string
	pos      at
	mxTarget bool
}

// autoPTR fills every reverse zone we serve with a PTR for each address of
// our forward zones that falls inside it, unless the zone says auto_ptr:
// false or a PTR (or CNAME, RFC 2317 style) is written at that name.
func (s *Snapshot) autoPTR(pzs []*parsedZone, diags *Diagnostics) {
	reverse := make(map[string]*parsedZone)
	for _, pz := range pzs {
		if isReverse(pz.origin) && !pz.noAutoPTR {
			reverse[pz.origin] = pz
		}
	}
	if len(reverse) == 0 {
		return
	}
	mxTargets := make(map[string]bool)
	for _, pz := range pzs {
		for _, o := range pz.owners {
			for _, rec := range o.records {
				if mx, ok := rec.rr.(*dns.MX); ok {
					mxTargets[mx.Mx] = true
				}
			}
		}
	}
	uses := make(map[string][]addrUse) // by reverse name
	addrOf := make(map[string]netip.Addr)
	for _, pz := range pzs {
		if isReverse(pz.origin) {
			continue
		}
		for _, o := range pz.owners {
			if strings.HasPrefix(o.name, "*.") {
				continue // a wildcard names no host a PTR could point at
			}
			for _, rec := range o.records {
				a, ok := recordAddr(rec.rr)
				if !ok {
					continue
				}
				rev := reverseName(a)
				if !containsUse(uses[rev], o.name) {
					uses[rev] = append(uses[rev], addrUse{o.name, rec.pos, mxTargets[o.name]})
					addrOf[rev] = a
				}
			}
		}
	}
	revs := make([]string, 0, len(uses))
	for rev := range uses {
		revs = append(revs, rev)
	}
	sort.Strings(revs)
	for _, rev := range revs {
		owner, z := s.ptrOwner(addrOf[rev])
		if z == nil || reverse[z.origin] == nil || z.cutAbove(owner, true) != nil {
			continue
		}
		if n := z.nodes[owner]; n != nil && (n.set(dns.TypePTR) != nil || n.set(dns.TypeCNAME) != nil) {
			continue
		}
		u := uses[rev]
		sort.SliceStable(u, func(i, j int) bool { return preferForPTR(u[i], u[j]) })
		if len(u) > 1 {
			diags.add(u[1].pos, Warning, "address %s is held by %s; the generated PTR names %s (%s); write ptr at %s in zone %s to choose",
				addrOf[rev], describeUses(u), u[0].name, whyChosen(u), owner, strings.TrimSuffix(z.origin, "."))
		}
		ttl := reverse[z.origin].ttl
		n := z.node(owner)
		ptr := &dns.PTR{Hdr: dns.RR_Header{Name: owner, Rrtype: dns.TypePTR, Class: dns.ClassINET, Ttl: ttl}, Ptr: u[0].name}
		n.sets = append(n.sets, &rrset{rtype: dns.TypePTR, ttl: ttl, rrs: []dns.RR{ptr}})
		sort.Slice(n.sets, func(i, j int) bool { return n.sets[i].rtype < n.sets[j].rtype })
	}
}

// preferForPTR orders the names sharing an address: a mail host first
// (receivers compare its PTR with its HELO name), then the shortest, then
// alphabetical, so the choice never depends on file order.
func preferForPTR(a, b addrUse) bool {
	if a.mxTarget != b.mxTarget {
		return a.mxTarget
	}
	if len(a.name) != len(b.name) {
		return len(a.name) < len(b.name)
	}
	return a.name < b.name
}

func whyChosen(u []addrUse) string {
	switch {
	case u[0].mxTarget && !u[1].mxTarget:
		return "an MX target"
	case len(u[0].name) < len(u[1].name):
		return "the shortest name"
	}
	return "first alphabetically"
}

func describeUses(u []addrUse) string {
	parts := make([]string, len(u))
	for i, x := range u {
		parts[i] = fmt.Sprintf("%s (%s)", x.name, x.pos)
	}
	return strings.Join(parts, ", ")
}

func containsUse(u []addrUse, name string) bool {
	for _, x := range u {
		if x.name == name {
			return true
		}
	}
	return false
}

func recordAddr(rr dns.RR) (netip.Addr, bool) {
	var a netip.Addr
	var ok bool
	switch rr := rr.(type) {
	case *dns.A:
		a, ok = netip.AddrFromSlice(rr.A.To4())
	case *dns.AAAA:
		a, ok = netip.AddrFromSlice(rr.AAAA.To16())
	}
	return a.Unmap(), ok
}

// nodeAddrs lists every address of a node, on every link.
func nodeAddrs(n *node) []netip.Addr {
	var out []netip.Addr
	for _, t := range []uint16{dns.TypeA, dns.TypeAAAA} {
		if set := n.set(t); set != nil {
			for _, rr := range set.rrs {
				if a, ok := recordAddr(rr); ok {
					out = append(out, a)
				}
			}
		}
	}
	return out
}

// checkReverse warns where reverse DNS we serve would let a receiver down:
// a PTR whose host does not have the address back (forward-confirmed
// reverse DNS fails), and an MX host's address with no PTR. Only where we
// serve both sides: another server's data is not ours to judge.
func (s *Snapshot) checkReverse(pz *parsedZone, seen map[string]bool, diags *Diagnostics) {
	for _, o := range pz.owners {
		for _, rec := range o.records {
			switch rr := rec.rr.(type) {
			case *dns.PTR:
				s.checkFCrDNS(o.name, rr.Ptr, rec.pos, diags)
			case *dns.MX:
				if rr.Mx == "." {
					continue
				}
				t, ok := s.resolveTarget(rr.Mx)
				if !ok || t.node == nil {
					continue
				}
				for _, a := range nodeAddrs(t.node) {
					rev, z := s.ptrOwner(a)
					if z == nil || seen[rev+" "+rr.Mx] {
						continue
					}
					seen[rev+" "+rr.Mx] = true
					if n := z.nodes[rev]; n == nil || n.set(dns.TypePTR) == nil {
						diags.add(rec.pos, Warning, "mx target %s has address %s with no PTR in zone %s; many receivers refuse mail from an address without reverse DNS (turn auto_ptr on or write ptr at %s)",
							rr.Mx, a, strings.TrimSuffix(z.origin, "."), rev)
					}
				}
			}
		}
	}
}

func (s *Snapshot) checkFCrDNS(owner, host string, pos at, diags *Diagnostics) {
	a, ok := addrFromReverse(owner)
	if !ok {
		return
	}
	t, ok := s.resolveTarget(host)
	if !ok {
		return
	}
	if t.node != nil {
		for _, x := range nodeAddrs(t.node) {
			if x == a {
				return
			}
		}
	}
	diags.add(pos, Warning, "ptr %s for %s: %s does not have address %s, so forward-confirmed reverse DNS fails and receivers may treat mail from it as spam; add the address to %s or fix the ptr",
		host, a, host, a, host)
}
