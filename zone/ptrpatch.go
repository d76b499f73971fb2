package zone

import (
	"maps"
	"net/netip"
	"slices"
	"sort"
	"strconv"

	"github.com/miekg/dns"
)

// Patching a reverse zone. A reverse zone that collects the PTRs of
// thousands of forward zones would be rebuilt whole, hundreds of
// thousands of names, when one of them changed an address. Instead the
// previous zone's names are taken over and only the owners of the
// addresses that the changed forward zones held before or hold now are
// worked out again, from every forward zone, as a build from scratch
// would (TestPatchedReverseEqualsFull holds it to one).

// patchable reports whether the reverse zone pz can be patched: it was
// served before, generates PTRs, and no CNAME in it or into it can lead
// two addresses to one owner, or an address to an owner elsewhere (then
// the patch would have to follow them: the zone is rebuilt). Delegations
// may stay: the addresses below them are not the zone's to place.
func (s *Snapshot) patchable(pz *parsedZone, prev *Snapshot, all []defined, c *buildCache) bool {
	if prev == nil || prev.zones[pz.origin] == nil || pz.noAutoPTR {
		return false
	}
	for _, d := range all {
		o := d.pz.origin
		if !isReverse(o) {
			continue
		}
		for _, r := range c.zones.at(o).redirects {
			if r.target != "" && (o == pz.origin || hasLabelSuffix(r.target, pz.origin)) {
				return false
			}
		}
	}
	return true
}

// patchPTRs returns the reverse zone d as the previous one with the PTRs
// of the addresses that the forward zones in relisted held before or hold
// now placed again, and the names whose node may differ from the previous
// zone's (those PTRs' owners and the names above them). It keeps zc's PTR
// findings and digest sum up to date, and never writes the previous zone
// or its nodes.
func (b *zoneBuild) patchPTRs(d defined, zc *zoneCache, relisted map[string]bool) (*zoneData, map[string]bool) {
	origin := d.pz.origin
	prevZone := b.prev.zones[origin]
	// The zone's own names, fresh: the file did not change, so they are
	// as they were, and its findings with them.
	var local Diagnostics
	z := b.newZone(d, &local)
	base := z.nodes

	touched := b.touchedAddrs(origin, relisted)
	owners, changed := b.s.ownersOf(origin, touched)
	h := newNodeHasher()
	sum := zc.sum
	for name := range changed {
		if pn := prevZone.nodes.at(name); pn != nil {
			sum.sub(h.digest(pn))
		}
	}
	z.nodes = takeOverNodes(&prevZone.nodes, &base, owners)
	warn := maps.Clone(zc.ptrWarn)
	for owner := range owners {
		delete(warn, owner)
		if base.at(owner) == nil {
			z.nodes.del(owner)
		}
	}
	b.s.placeOutboundPTRs(z, d.pz, owners)
	byOwner, placed := b.s.collectPTRs(origin, b.holding(origin, touched), b.c, touched)
	for _, owner := range placed {
		if w, ok := placePTR(z, d.pz, owner, byOwner[owner]); ok {
			if warn == nil {
				warn = make(map[string]Diagnostic)
			}
			warn[owner] = w
		}
	}
	pruneEmpty(z, &base, changed)
	for name := range changed {
		if n := z.nodes.at(name); n != nil {
			sum.add(h.digest(n))
		}
	}
	zc.sum, zc.ptrWarn, zc.ptr = sum, warn, ptrDiagnostics(warn)
	z.deriveChain(prevZone, changed)
	return z, changed
}

// touchedAddrs lists the addresses in the reverse zone origin that the
// forward zones in relisted held before or hold now.
func (b *zoneBuild) touchedAddrs(origin string, relisted map[string]bool) map[netip.Addr]bool {
	touched := make(map[netip.Addr]bool)
	for f := range relisted {
		if isReverse(f) {
			continue
		}
		for _, uses := range [][]fwdUse{b.pc.zones.at(f).uses, b.c.zones.at(f).uses} {
			for _, u := range uses {
				if u.ptrZone == origin {
					touched[u.addr] = true
				}
			}
		}
	}
	return touched
}

// ownersOf gives the owner names of the PTRs of addrs, and with them
// every name between those and origin: the names a patch may change.
func (s *Snapshot) ownersOf(origin string, addrs map[netip.Addr]bool) (owners, changed map[string]bool) {
	owners = make(map[string]bool, len(addrs))
	changed = make(map[string]bool)
	for a := range addrs {
		owner, _ := s.ptrOwner(a)
		owners[owner] = true
		for n := owner; n != origin && n != "" && !changed[n]; n = parentName(n) {
			changed[n] = true
		}
	}
	return owners, changed
}

// takeOverNodes is the previous zone's names with the file's own, base,
// fresh in their place, the apex above all: the SOA is added to it after
// this, and the previous zone's nodes are never written. A name of the
// file that had a generated PTR keeps it unless it is one of owners, to
// be placed again.
func takeOverNodes(prev, base *nodeMap, owners map[string]bool) nodeMap {
	nodes := prev.clone()
	for name, n := range base.all() {
		if pn := prev.at(name); pn != nil && !owners[name] && n.set(dns.TypePTR) == nil && n.set(dns.TypeCNAME) == nil {
			if ptr := pn.set(dns.TypePTR); ptr != nil {
				n.sets = append(n.sets, ptr)
				sort.Slice(n.sets, func(i, j int) bool { return n.sets[i].rtype < n.sets[j].rtype })
			}
		}
		nodes.set(name, n)
	}
	return nodes
}

// pruneEmpty removes, of names (the parents of the owners placed again),
// those left as empty non-terminals with nothing below them, unless the
// zone's own file makes them (base): a build from scratch makes a name's
// parents only for the names it holds. In a zone that can be patched
// every name not from the file is a generated owner, a reverse name, or
// a parent of one, and base holds the parents of its own names: so what
// lies below such a name lies below one of its children, each an octet
// or a nibble, and asking for those few is enough.
func pruneEmpty(z *zoneData, base *nodeMap, names map[string]bool) {
	deepest := slices.SortedFunc(maps.Keys(names), func(a, b string) int {
		return dns.CountLabel(b) - dns.CountLabel(a)
	})
	for _, name := range deepest {
		if n := z.nodes.at(name); n != nil && len(n.sets) == 0 && base.at(name) == nil && !hasChild(z, name) {
			z.nodes.del(name)
		}
	}
}

// hasChild reports whether a node of z is named one reverse label, an
// octet or a nibble, below name.
func hasChild(z *zoneData, name string) bool {
	last := 255
	if hasLabelSuffix(name, "ip6.arpa.") {
		last = 15
	}
	for i := 0; i <= last; i++ {
		label := strconv.Itoa(i)
		if last == 15 {
			label = strconv.FormatInt(int64(i), 16)
		}
		if z.nodes.at(label+"."+name) != nil {
			return true
		}
	}
	return false
}

// holding lists, in definition order, the forward zones of the reverse
// zone origin that may hold one of addrs: those whose span holds one, a
// handful of the thousands, sorted once found.
func (b *zoneBuild) holding(origin string, addrs map[netip.Addr]bool) []string {
	sorted := slices.SortedFunc(maps.Keys(addrs), netip.Addr.Compare)
	var out []string
	for _, f := range b.c.contrib[origin] {
		if b.c.zones.at(f).span.holdsAny(sorted) {
			out = append(out, f)
		}
	}
	return sortedContrib(out, b.order)
}

// sortedContrib is a reverse zone's forward zones in definition order.
func sortedContrib(list []string, order map[string]int) []string {
	out := slices.Clone(list)
	sort.Slice(out, func(i, j int) bool { return order[out[i]] < order[out[j]] })
	return out
}
