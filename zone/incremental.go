package zone

import (
	"maps"
	"net/netip"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// Incremental build. A snapshot keeps what its build found (buildCache),
// and the next load, from the same configuration and the same set of
// zones, takes from it every zone whose file did not change and that
// nothing it depends on changed: the zone's data as is (SOA included) and
// its findings. What crosses zones is tracked so that only what an edit
// can reach is redone:
//   - auto PTR: each forward zone lists the addresses it holds by the
//     reverse zone serving them; a reverse zone is rebuilt when a forward
//     zone holding (or having held) an address in it changed, or when a
//     name holding one became or stopped being an MX target;
//   - where a PTR goes follows the CNAMEs and delegations of reverse
//     zones (ptrOwner): when an edit changes those of one, every forward
//     zone's addresses are placed again, and the reverse zones they
//     leave, enter or move within are rebuilt;
//   - checks that look into other zones record which zones they looked
//     into, and run again when one of those was rebuilt.
// When a zone comes or goes, or the configuration changes, everything is
// built anew (still from the parsed files that did not change).

// buildCache is what a snapshot keeps of its own build for the next load.
// It holds only this generation: nothing in it leads to an older snapshot,
// so replaced snapshots become garbage.
type buildCache struct {
	files       map[string]*parsedFile
	configPath  string
	configText  string
	configMtime int64
	configZones []*parsedZone
	zones       cowMap[string, *zoneCache] // by origin
	// mxCount and contrib may be the previous build's, when an edit left
	// them as they were: neither is written once built.
	mxCount map[string]int      // MX target → how many MX records name it
	contrib map[string][]string // reverse zone → forward zones with addresses in it
	// classless indexes RFC 2317 zones by the /24 reverse name they
	// divide; it depends only on which zones there are.
	classless map[string][]classlessZone
}

// zoneCache is one zone as built, and what building it found.
type zoneCache struct {
	pz        *parsedZone
	local     Diagnostics           // the zone alone: buildZone, transfer
	ptr       Diagnostics           // a reverse zone's generated PTRs
	ptrWarn   map[string]Diagnostic // the same, by owner name: what a patch replaces
	cross     Diagnostics           // checks that look into other zones
	noPTR     []noPTRFinding
	deps      []string  // zones the cross-zone checks looked into
	depNames  []string  // the names they looked up in reverse zones: a patch elsewhere leaves them be
	mxReads   []string  // the names whose being an MX target they read (buildState.trackMX)
	sum       digestSum // the zone's names' digests added up (serial.go)
	uses      []fwdUse  // a forward zone's addresses that a reverse zone we serve covers
	span      addrSpan  // the lowest and highest of them: see setUses
	mxTargets []string
	redirects []redirect // a reverse zone's: what ptrOwner follows
}

// redirect is a CNAME (name to target) or a delegation (name, no target)
// in a reverse zone.
type redirect struct {
	name, target string
}

// fwdUse is an address a forward zone holds, and the reverse zone its PTR
// would go in (the PTR's owner name is worked out again when that zone is
// rebuilt: kept for every address it would cost tens of MiB).
type fwdUse struct {
	ptrZone string
	addr    netip.Addr
	name    string
	pos     at
}

// setUses keeps a forward zone's addresses and their span. A patch of a
// reverse zone places the PTRs of a few addresses again, and must find
// every forward zone holding one of them: by the span it passes over the
// thousands that cannot, without reading their lists.
func (zc *zoneCache) setUses(uses []fwdUse) {
	zc.uses, zc.span = uses, addrSpan{}
	for i, u := range uses {
		if i == 0 || u.addr.Less(zc.span.lo) {
			zc.span.lo = u.addr
		}
		if i == 0 || zc.span.hi.Less(u.addr) {
			zc.span.hi = u.addr
		}
	}
}

// addrSpan is the lowest and highest address of a list; the zero span
// holds nothing.
type addrSpan struct{ lo, hi netip.Addr }

// holdsAny reports whether one of addrs, sorted, lies within the span.
func (s addrSpan) holdsAny(sorted []netip.Addr) bool {
	if !s.lo.IsValid() {
		return false
	}
	i, _ := slices.BinarySearchFunc(sorted, s.lo, netip.Addr.Compare)
	return i < len(sorted) && !s.hi.Less(sorted[i])
}

// noPTRFinding is an MX host's address without a PTR, reported once per
// address and host across all zones (the first zone naming it reports).
type noPTRFinding struct {
	key string
	pos at
	msg string
}

type defined struct {
	pz  *parsedZone
	src *source
}

// sameZones reports whether all defines exactly the zones c was built with.
func (c *buildCache) sameZones(all []defined) bool {
	if len(all) != c.zones.len() {
		return false
	}
	for _, d := range all {
		if c.zones.at(d.pz.origin) == nil {
			return false
		}
	}
	return true
}

// own returns the zone's entry for writing: an entry taken over from the
// previous build is copied first, since that build's cache is never written
// (another load may start from it).
func (c *buildCache) own(pc *buildCache, origin string) *zoneCache {
	zc := c.zones.at(origin)
	if pc != nil && pc.zones.at(origin) == zc {
		cp := *zc
		zc = &cp
		c.zones.set(origin, zc)
	}
	return zc
}

// newZone builds a zone from its parsed form and the configuration alone
// (a changed configuration rebuilds every zone).
func (b *zoneBuild) newZone(d defined, diags *Diagnostics) *zoneData {
	ob := b.s.building.outbound
	z := buildZone(d.pz, b.linkIndex, b.cfg.linkTTL, ob.spfTerms, diags)
	z.addHELOAddresses(d.pz, ob.helo[d.pz.origin])
	z.file = d.src.file
	z.transfer = resolveTransfer(d.pz.transfer, b.cfg.tsigKeys, diags)
	z.sign(d.pz, b.cfg, b.s.building.keys, diags)
	z.checkDS(d.pz, diags)
	return z
}

func mxTargetsOf(pz *parsedZone) []string {
	var out []string
	for _, o := range pz.owners {
		for _, rec := range o.records {
			if mx, ok := rec.rr.(*dns.MX); ok {
				out = append(out, mx.Mx)
			}
		}
	}
	return out
}

// trackMXTargets counts the names MX records point at and returns the
// reverse zones whose generated PTRs an MX target that came or went may
// change: a mail host is preferred as the name of a shared address.
func (c *buildCache) trackMXTargets(pc *buildCache, all []defined, built map[string]bool) map[string]bool {
	rebuild := make(map[string]bool)
	if pc == nil {
		c.mxCount = make(map[string]int)
		for _, d := range all {
			for _, t := range c.zones.at(d.pz.origin).mxTargets {
				c.mxCount[t]++
			}
		}
		return rebuild
	}
	same := true
	for o := range built {
		same = same && slices.Equal(pc.zones.at(o).mxTargets, c.zones.at(o).mxTargets)
	}
	if same {
		// Most edits touch no MX: the counts stand, and are never
		// written once built.
		c.mxCount = pc.mxCount
		return rebuild
	}
	c.mxCount = maps.Clone(pc.mxCount)
	var touched []string
	for o := range built {
		for _, t := range pc.zones.at(o).mxTargets {
			c.mxCount[t]--
			touched = append(touched, t)
		}
		for _, t := range c.zones.at(o).mxTargets {
			c.mxCount[t]++
			touched = append(touched, t)
		}
	}
	for _, name := range touched {
		if c.mxCount[name] == 0 {
			delete(c.mxCount, name)
		}
		if (pc.mxCount[name] > 0) == (c.mxCount[name] > 0) {
			continue
		}
		// Every zone that may hold the name: those whose origin is a
		// suffix of it.
		for off, end := 0, false; !end; off, end = dns.NextLabel(name, off) {
			c.markUses(name[off:], name, rebuild)
		}
		c.markUses(".", name, rebuild)
	}
	return rebuild
}

func (c *buildCache) markUses(origin, name string, rebuild map[string]bool) {
	zc := c.zones.at(origin)
	if zc == nil {
		return
	}
	for _, u := range zc.uses {
		if u.name == name {
			rebuild[u.ptrZone] = true
		}
	}
}

// rerouteUses places the addresses of every forward zone not rebuilt
// again when a rebuilt reverse zone's CNAMEs or delegations changed. It
// returns the forward zones whose list was worked out again (those built
// included), and the reverse zones holding the target of such a CNAME,
// before or after: there a PTR may move from one name to another without
// leaving the zone.
func (c *buildCache) rerouteUses(s *Snapshot, pc *buildCache, all []defined, built map[string]bool) (relisted map[string]bool, moved []string) {
	if pc == nil {
		return built, nil
	}
	for o := range built {
		if !isReverse(o) || slices.Equal(pc.zones.at(o).redirects, c.zones.at(o).redirects) {
			continue
		}
		for _, r := range slices.Concat(pc.zones.at(o).redirects, c.zones.at(o).redirects) {
			if r.target == "" {
				continue
			}
			if z := s.findZone(r.target); z != nil && isReverse(z.origin) {
				moved = append(moved, z.origin)
			}
		}
		if relisted == nil {
			relisted = maps.Clone(built)
		}
	}
	if relisted == nil {
		return built, nil
	}
	for _, d := range all {
		o := d.pz.origin
		if built[o] || isReverse(o) {
			continue
		}
		if uses := s.addressUses(d.pz); !slices.Equal(uses, pc.zones.at(o).uses) {
			c.own(pc, o).setUses(uses)
			relisted[o] = true
		}
	}
	return relisted, moved
}

func redirectsOf(pz *parsedZone) []redirect {
	var out []redirect
	for _, o := range pz.owners {
		for _, rec := range o.records {
			switch rr := rec.rr.(type) {
			case *dns.CNAME:
				out = append(out, redirect{o.name, rr.Target})
			case *dns.NS:
				if o.name != pz.origin {
					out = append(out, redirect{name: o.name})
				}
			}
		}
	}
	return out
}

// indexContrib files each forward zone under the reverse zones its
// addresses fall in, and marks for rebuilding those a forward zone whose
// list was worked out again (relisted) had or has addresses in.
func (c *buildCache) indexContrib(pc *buildCache, all []defined, relisted, rebuild map[string]bool) {
	if pc == nil {
		c.contrib = make(map[string][]string)
		for _, d := range all {
			for _, u := range c.zones.at(d.pz.origin).uses {
				list := c.contrib[u.ptrZone]
				if len(list) == 0 || list[len(list)-1] != d.pz.origin {
					c.contrib[u.ptrZone] = append(list, d.pz.origin)
				}
			}
		}
		return
	}
	// The map and its lists are the previous build's until one changes:
	// most edits move no address into or out of a reverse zone.
	c.contrib = pc.contrib
	owned := false
	set := func(ptrZone string, list []string) {
		if !owned {
			c.contrib, owned = maps.Clone(pc.contrib), true
		}
		c.contrib[ptrZone] = list
	}
	for o := range relisted {
		if isReverse(o) {
			continue
		}
		// done holds the reverse zones whose list is already right for o:
		// a zone has many addresses in one reverse zone.
		done := make(map[string]bool)
		for _, u := range c.zones.at(o).uses {
			if done[u.ptrZone] {
				continue
			}
			done[u.ptrZone], rebuild[u.ptrZone] = true, true
			if list := c.contrib[u.ptrZone]; !slices.Contains(list, o) {
				set(u.ptrZone, append(list[:len(list):len(list)], o))
			}
		}
		for _, u := range pc.zones.at(o).uses {
			if done[u.ptrZone] {
				continue
			}
			done[u.ptrZone], rebuild[u.ptrZone] = true, true
			set(u.ptrZone, slices.DeleteFunc(slices.Clone(c.contrib[u.ptrZone]), func(x string) bool { return x == o }))
		}
	}
}

// addressUses lists the addresses of a forward zone that a reverse zone we
// serve covers, with where their PTR would go.
func (s *Snapshot) addressUses(pz *parsedZone) []fwdUse {
	var out []fwdUse
	for _, o := range pz.owners {
		if strings.HasPrefix(o.name, "*.") {
			continue // a wildcard names no host a PTR could point at
		}
		for _, rec := range o.records {
			a, ok := recordAddr(rec.rr)
			if !ok {
				continue
			}
			_, z := s.ptrOwner(a)
			if z == nil {
				continue
			}
			out = append(out, fwdUse{ptrZone: z.origin, addr: a, name: o.name, pos: rec.pos})
		}
	}
	return out
}
