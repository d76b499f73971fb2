package zone

import (
	"maps"
	"net/netip"
	"slices"
	"sort"

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
		for _, r := range c.zones[o].redirects {
			if r.target != "" && (o == pz.origin || hasLabelSuffix(r.target, pz.origin)) {
				return false
			}
		}
	}
	return true
}

// patchPTRs returns the reverse zone d as the previous one, prevZone,
// with the PTRs of the addresses that the forward zones in relisted held
// before or hold now placed again. It never writes prevZone or its nodes.
func (s *Snapshot) patchPTRs(prevZone *zoneData, d defined, linkIndex map[string]int, cfg *parsedConfig, zc *zoneCache, relisted map[string]bool, pc, c *buildCache, order map[string]int) *zoneData {
	origin := d.pz.origin
	// The zone's own names, fresh: the file did not change, so they are
	// as they were, and its findings with them.
	var local Diagnostics
	z := newZone(d, linkIndex, cfg, &local)
	base := z.nodes

	touched := make(map[netip.Addr]bool)
	for f := range relisted {
		if isReverse(f) {
			continue
		}
		for _, uses := range [][]fwdUse{pc.zones[f].uses, c.zones[f].uses} {
			for _, u := range uses {
				if u.ptrZone == origin {
					touched[u.addr] = true
				}
			}
		}
	}
	owners := make(map[string]bool, len(touched))
	for a := range touched {
		owner, _ := s.ptrOwner(a)
		owners[owner] = true
	}
	z.nodes = maps.Clone(prevZone.nodes)
	// The file's own names fresh, the apex above all: the SOA is added
	// to it after this, and the previous zone's nodes are never written.
	// One that had a generated PTR keeps it unless it is placed again.
	for name, n := range base {
		if pn := prevZone.nodes[name]; pn != nil && !owners[name] && n.set(dns.TypePTR) == nil && n.set(dns.TypeCNAME) == nil {
			if ptr := pn.set(dns.TypePTR); ptr != nil {
				n.sets = append(n.sets, ptr)
				sort.Slice(n.sets, func(i, j int) bool { return n.sets[i].rtype < n.sets[j].rtype })
			}
		}
		z.nodes[name] = n
	}
	warn := maps.Clone(zc.ptrWarn)
	var removed []string
	for owner := range owners {
		delete(warn, owner)
		if base[owner] == nil && z.nodes[owner] != nil {
			delete(z.nodes, owner)
			removed = append(removed, owner)
		}
	}
	byOwner, placed := s.collectPTRs(origin, sortedContrib(c.contrib[origin], order), c, touched)
	for _, owner := range placed {
		if w, ok := placePTR(z, d.pz, owner, byOwner[owner]); ok {
			if warn == nil {
				warn = make(map[string]Diagnostic)
			}
			warn[owner] = w
		}
	}
	if len(removed) > 0 {
		pruneEmpty(z, base, removed)
	}
	zc.ptrWarn = warn
	zc.ptr = ptrDiagnostics(warn)
	return z
}

// pruneEmpty removes the parents of the removed names that are now
// empty non-terminals with nothing below them, unless the zone's own file
// makes them (base): a build from scratch makes a name's parents only
// for the names it holds.
func pruneEmpty(z *zoneData, base map[string]*node, removed []string) {
	maybe := make(map[string]bool)
	for _, name := range removed {
		for p := parentName(name); p != z.origin && p != "" && !maybe[p]; p = parentName(p) {
			maybe[p] = true
		}
	}
	alive := make(map[string]bool)
	for name, n := range z.nodes {
		if len(n.sets) == 0 && base[name] == nil {
			continue
		}
		// Every parent, not only those in maybe: one of these may sit
		// above a parent that is not.
		for p := parentName(name); p != z.origin && p != "" && !alive[p]; p = parentName(p) {
			alive[p] = true
		}
	}
	for p := range maybe {
		if n := z.nodes[p]; n != nil && len(n.sets) == 0 && base[p] == nil && !alive[p] {
			delete(z.nodes, p)
		}
	}
}

// sortedContrib is a reverse zone's forward zones in definition order.
func sortedContrib(list []string, order map[string]int) []string {
	out := slices.Clone(list)
	sort.Slice(out, func(i, j int) bool { return order[out[i]] < order[out[j]] })
	return out
}
