package zone

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
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

// ptrAt is the addresses whose PTR goes at one owner name, and the names
// holding them.
type ptrAt struct {
	addrs []netip.Addr
	uses  []addrUse
	// named holds the names in uses once there are more than scanUses:
	// most addresses have one name, and a map each would cost a reverse
	// zone of a million PTRs a million maps; a web farm puts thousands
	// on one address, where a scan each would be quadratic.
	named map[string]bool
}

const scanUses = 8

// addUse adds u unless its name is there already.
func (p *ptrAt) addUse(u addrUse) {
	if p.named != nil {
		if p.named[u.name] {
			return
		}
		p.named[u.name] = true
	} else if slices.ContainsFunc(p.uses, func(x addrUse) bool { return x.name == u.name }) {
		return
	}
	p.uses = append(p.uses, u)
	if p.named == nil && len(p.uses) > scanUses {
		p.named = make(map[string]bool, 2*len(p.uses))
		for _, x := range p.uses {
			p.named[x.name] = true
		}
	}
}

// addPTRs fills a reverse zone with a PTR for each address of our forward
// zones (contrib, in definition order) that falls inside it, unless a PTR
// (or CNAME, RFC 2317 style) is written at that name, and returns what it
// found by owner name. z, built from pz, must be fresh: zones already
// published are never written.
func (s *Snapshot) addPTRs(z *zoneData, pz *parsedZone, contrib []string, c *buildCache) map[string]Diagnostic {
	s.placeOutboundPTRs(z, pz, nil)
	byOwner, owners := s.collectPTRs(z.origin, contrib, c, nil)
	var warn map[string]Diagnostic
	for _, owner := range owners {
		if d, ok := placePTR(z, pz, owner, byOwner[owner]); ok {
			if warn == nil {
				warn = make(map[string]Diagnostic)
			}
			warn[owner] = d
		}
	}
	return warn
}

// collectPTRs gathers the PTRs the forward zones contrib (in definition
// order) give the reverse zone origin, by owner name, with the owners
// sorted; only the addresses in only when only is not nil.
func (s *Snapshot) collectPTRs(origin string, contrib []string, c *buildCache, only map[netip.Addr]bool) (map[string]*ptrAt, []string) {
	byAddr := make(map[netip.Addr]*ptrAt)
	for _, f := range contrib {
		for _, u := range c.zones.at(f).uses {
			if u.ptrZone != origin || only != nil && !only[u.addr] {
				continue
			}
			p := byAddr[u.addr]
			if p == nil {
				p = &ptrAt{addrs: []netip.Addr{u.addr}}
				byAddr[u.addr] = p
			}
			p.addUse(addrUse{u.name, u.pos, c.mxCount[u.name] > 0})
		}
	}
	// In address order, so that whichever name is chosen where CNAMEs
	// lead two addresses to one name, the choice is the same every build.
	byOwner := make(map[string]*ptrAt, len(byAddr))
	owners := make([]string, 0, len(byAddr))
	for _, a := range slices.SortedFunc(maps.Keys(byAddr), netip.Addr.Compare) {
		p := byAddr[a]
		owner, _ := s.ptrOwner(a)
		q := byOwner[owner]
		if q == nil {
			byOwner[owner] = p
			owners = append(owners, owner)
			continue
		}
		// One PTR answers for both: its name is chosen among all theirs.
		q.addrs = append(q.addrs, a)
		for _, u := range p.uses {
			q.addUse(u)
		}
	}
	sort.Strings(owners)
	return byOwner, owners
}

// placePTR adds the generated PTR at owner to z, unless a PTR or CNAME is
// written there, and returns the warning when names share the address.
func placePTR(z *zoneData, pz *parsedZone, owner string, p *ptrAt) (Diagnostic, bool) {
	if n := z.nodes.at(owner); n != nil && (n.set(dns.TypePTR) != nil || n.set(dns.TypeCNAME) != nil) {
		return Diagnostic{}, false
	}
	ttl := pz.ttl
	u := p.uses
	sort.SliceStable(u, func(i, j int) bool { return preferForPTR(u[i], u[j]) })
	var diags Diagnostics
	if len(u) > 1 {
		diags.add(u[1].pos, Warning, "%s held by %s; the generated PTR names %s (%s); write ptr at %s in zone %s to choose",
			describeAddrs(p.addrs), describeUses(u), u[0].name, whyChosen(u), owner, strings.TrimSuffix(z.origin, "."))
	}
	n := z.node(owner)
	ptr := &dns.PTR{Hdr: dns.RR_Header{Name: owner, Rrtype: dns.TypePTR, Class: dns.ClassINET, Ttl: ttl}, Ptr: u[0].name}
	n.sets = append(n.sets, &rrset{rtype: dns.TypePTR, ttl: ttl, rrs: []dns.RR{ptr}})
	sort.Slice(n.sets, func(i, j int) bool { return n.sets[i].rtype < n.sets[j].rtype })
	if len(diags) == 0 {
		return Diagnostic{}, false
	}
	return diags[0], true
}

// ptrDiagnostics lists a reverse zone's PTR warnings in owner order, as
// a build from scratch finds them.
func ptrDiagnostics(warn map[string]Diagnostic) Diagnostics {
	var out Diagnostics
	for _, owner := range slices.Sorted(maps.Keys(warn)) {
		out = append(out, warn[owner])
	}
	return out
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

func describeAddrs(addrs []netip.Addr) string {
	if len(addrs) == 1 {
		return "address " + addrs[0].String() + " is"
	}
	parts := make([]string, len(addrs))
	for i, a := range addrs {
		parts[i] = a.String()
	}
	return "addresses " + strings.Join(parts, ", ") + " (their reverse names lead to one) are"
}

// usesListed is how many of the names sharing an address a warning
// lists: enough to find them, not a line the size of the zone.
const usesListed = 5

func describeUses(u []addrUse) string {
	parts := make([]string, 0, min(len(u), usesListed)+1)
	for _, x := range u[:min(len(u), usesListed)] {
		parts = append(parts, fmt.Sprintf("%s (%s)", x.name, x.pos))
	}
	if len(u) > usesListed {
		parts = append(parts, fmt.Sprintf("and %d more", len(u)-usesListed))
	}
	return strings.Join(parts, ", ")
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
// The missing-PTR findings come back to be reported once across zones.
func (s *Snapshot) checkReverse(pz *parsedZone, diags *Diagnostics) []noPTRFinding {
	var out []noPTRFinding
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
					if z == nil {
						continue
					}
					if n := z.nodes.at(rev); n == nil || n.set(dns.TypePTR) == nil {
						out = append(out, noPTRFinding{key: rev + " " + rr.Mx, pos: rec.pos, msg: fmt.Sprintf(
							"mx target %s has address %s with no PTR in zone %s; many receivers refuse mail from an address without reverse DNS (turn auto_ptr on or write ptr at %s)",
							rr.Mx, a, strings.TrimSuffix(z.origin, "."), rev)})
					}
				}
			}
		}
	}
	return out
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
	if t.node != nil && slices.Contains(nodeAddrs(t.node), a) {
		return
	}
	diags.add(pos, Warning, "ptr %s for %s: %s does not have address %s, so forward-confirmed reverse DNS fails and receivers may treat mail from it as spam; add the address to %s or fix the ptr",
		host, a, host, a, host)
}
