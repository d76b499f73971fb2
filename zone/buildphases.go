package zone

import (
	"maps"
	"slices"

	"github.com/miekg/dns"
)

// zoneBuild is one build of every zone, in progress: what the phases of
// buildZones hand on to each other. Nothing of it outlives the build but
// what it puts in the snapshot and in c, the cache the next load reads.
type zoneBuild struct {
	s         *Snapshot
	prev      *Snapshot   // the snapshot served; nil, or its cache nil, for a build from scratch
	pc, c     *buildCache // prev's cache (nil: every zone is built) and this build's
	all       []defined
	order     map[string]int // origin → index in all
	linkIndex map[string]int
	cfg       *parsedConfig
	newest    int64 // the latest modification time of any source
	// built holds the zones made anew, patched ones included; patched
	// the reverse zones patched, with the names that may differ from the
	// previous zone's.
	built   map[string]bool
	patched map[string]map[string]bool
}

// buildZones builds every zone of all into s, in phases, taking from pc
// (the cache of prev, made from the same configuration and zones) what
// no change reached. order gives each origin's index in all; newest is
// the latest modification time of any source, the base of the automatic
// serial of reverse zones filled by auto PTR (see makeSOA).
func (s *Snapshot) buildZones(all []defined, order map[string]int, linkIndex map[string]int, cfg *parsedConfig, prev *Snapshot, pc *buildCache, newest int64, diags *Diagnostics) {
	b := &zoneBuild{s: s, prev: prev, pc: pc, c: &buildCache{}, all: all, order: order, linkIndex: linkIndex, cfg: cfg, newest: newest,
		built: make(map[string]bool), patched: make(map[string]map[string]bool)}
	s.cache = b.c
	b.startFromPrevious()
	b.buildChangedZones()
	b.fillReverseZones(b.staleReverseZones())
	recheck := b.staleChecks()
	b.linkMXSets(recheck) // before the SOAs: a transferred view reads it
	b.makeSOAs()
	b.followView(recheck)
	b.checkAcrossZones(recheck)
	b.collectFindings(diags)
	b.checkOutbound(diags)
}

// startFromPrevious takes over the previous build's maps, to replace what
// is rebuilt, or starts empty ones. A clone copies memory, where ten
// thousand inserts would hash every origin again.
func (b *zoneBuild) startFromPrevious() {
	s, c := b.s, b.c
	if b.pc != nil {
		c.zones = b.pc.zones.clone()
		s.zones = maps.Clone(b.prev.zones)
		for o := range b.prev.updated {
			// Built from files alone: the server lays the updated
			// records over the snapshot again (overlay.go).
			s.zones[o] = s.zones[o].yaml()
		}
		// These depend only on which zones there are, and are never
		// written once built.
		s.depths = b.prev.depths
		c.classless = b.pc.classless
		return
	}
	c.zones = cowMap[string, *zoneCache]{}
	s.zones = make(map[string]*zoneData, len(b.all))
	for _, d := range b.all {
		s.depths.add(dns.CountLabel(d.pz.origin))
	}
	c.classless = indexClassless(b.all)
}

// buildChangedZones builds each zone whose parsed form is new from its
// file alone, and lists the addresses of the forward zones among them.
func (b *zoneBuild) buildChangedZones() {
	for _, d := range b.all {
		origin := d.pz.origin
		if b.pc != nil && b.pc.zones.at(origin).pz == d.pz && !b.s.building.rekey[origin] {
			continue // shared until written: see own
		}
		zc := &zoneCache{pz: d.pz, mxTargets: mxTargetsOf(d.pz)}
		if isReverse(origin) {
			zc.redirects = redirectsOf(d.pz)
		}
		b.c.zones.set(origin, zc)
		b.s.zones[origin] = b.newZone(d, &zc.local)
		b.built[origin] = true
	}
	for _, d := range b.all {
		if o := d.pz.origin; b.built[o] && !isReverse(o) {
			b.c.zones.at(o).setUses(b.s.addressUses(d.pz))
		}
	}
}

// staleReverseZones finds the reverse zones whose generated PTRs an edit
// may have changed: rebuild holds them all, and whole those that must be
// built whole (their MX-target preference, CNAME targets or RNAME moved);
// the rest changed only by forward zones' addresses and may be patched.
// It returns the forward zones whose addresses were listed again.
func (b *zoneBuild) staleReverseZones() (relisted, rebuild, whole map[string]bool) {
	c := b.c
	relisted, moved := c.rerouteUses(b.s, b.pc, b.all, b.built)
	rebuild = c.trackMXTargets(b.pc, b.all, b.built)
	for _, o := range moved {
		rebuild[o] = true
	}
	for _, o := range staleRNames(b.all, b.s.zones, b.built, b.zoneOf) {
		rebuild[o] = true
	}
	for o := range b.locateOutboundPTRs() {
		rebuild[o] = true
	}
	whole = maps.Clone(rebuild)
	c.indexContrib(b.pc, b.all, relisted, rebuild)
	return relisted, rebuild, whole
}

// fillReverseZones gives each reverse zone built or stale its generated
// PTRs: a patch of the previous zone where only forward zones' addresses
// changed, all of them anew otherwise.
func (b *zoneBuild) fillReverseZones(relisted, rebuild, whole map[string]bool) {
	s, c := b.s, b.c
	for _, d := range b.all {
		o := d.pz.origin
		if !isReverse(o) || !b.built[o] && !rebuild[o] {
			continue
		}
		zc := c.own(b.pc, o)
		if !b.built[o] && !whole[o] && s.patchable(d.pz, b.prev, b.all, c) {
			s.zones[o], b.patched[o] = b.patchPTRs(d, zc, relisted)
			b.built[o] = true
			continue
		}
		if !b.built[o] {
			zc.local = nil
			s.zones[o] = b.newZone(d, &zc.local)
			b.built[o] = true
		}
		zc.ptr, zc.ptrWarn = nil, nil
		if !d.pz.noAutoPTR {
			zc.ptrWarn = s.addPTRs(s.zones[o], d.pz, sortedContrib(c.contrib[o], b.order), c)
			zc.ptr = ptrDiagnostics(zc.ptrWarn)
		}
	}
}

// makeSOAs gives each zone built its SOA and serial. The digest sum of a
// patched zone is the patch's; any other is summed here.
func (b *zoneBuild) makeSOAs() {
	s := b.s
	for _, d := range b.all {
		o := d.pz.origin
		if !b.built[o] {
			continue
		}
		var prevZone *zoneData
		if b.prev != nil {
			prevZone = b.prev.zones[o]
		}
		if prevZone == nil {
			prevZone = s.rememberedZone(o)
		}
		mtime := d.src.mtime
		if isReverse(o) && !d.pz.noAutoPTR {
			mtime = b.newest
		}
		zc := b.c.own(b.pc, o)
		if b.patched[o] == nil {
			zc.sum = s.zones[o].nodeSum()
		}
		s.zones[o].rname = defaultRName(d.pz, b.zoneOf)
		s.zones[o].soa = s.makeSOA(d.pz, s.zones[o], mtime, prevZone, zc.sum)
	}
}

// followView gives the next serial to each zone taken over from prev
// whose transferred view changed though the zone did not: an MX target's
// links changed in another zone, or the links up are not those prev's
// view was made for. Only under transfer_view: current; a zone built
// anew had its serial from makeSOA.
func (b *zoneBuild) followView(recheck []bool) {
	s := b.s
	if s.settings.TransferView != TransferCurrent || b.pc == nil {
		return
	}
	moved := b.prev.transferUp != s.transferUp
	for i, d := range b.all {
		o := d.pz.origin
		if b.built[o] || !recheck[i] && !moved {
			continue
		}
		z := s.zones[o]
		if h := s.serialHash(z, s.transferUp); h != z.hash {
			s.zones[o] = z.withSerial(nextSerial(z.soa.Serial, s.building.now), h)
		}
	}
}

// staleChecks says, by index in all, which zones' findings across zones
// and MX health must be worked out again: those stand while neither the
// zone nor a zone its checks looked into was rebuilt (its MX targets are
// among what they looked into), and no name they asked about became or
// stopped being an MX target. A patched zone counts only where the
// checks looked up a name the patch may have changed.
func (b *zoneBuild) staleChecks() []bool {
	recheck := make([]bool, len(b.all))
	for i, d := range b.all {
		o := d.pz.origin
		if b.pc == nil || b.built[o] {
			recheck[i] = true
			continue
		}
		zc := b.c.zones.at(o)
		recheck[i] = slices.ContainsFunc(zc.deps, func(dep string) bool {
			return b.built[dep] && b.reaches(dep, zc.depNames)
		}) || slices.ContainsFunc(zc.mxReads, func(name string) bool {
			return (b.pc.mxCount[name] > 0) != (b.c.mxCount[name] > 0)
		})
	}
	return recheck
}

// reaches reports whether the rebuild of zone origin may change what a
// look-up of names found: always, unless the zone was patched, names miss
// what the patch changed, and no wildcard answers for names (whether it
// does depends on the names above them).
func (b *zoneBuild) reaches(origin string, names []string) bool {
	changed := b.patched[origin]
	if changed == nil || b.s.zones[origin].wildcard {
		return true
	}
	return slices.ContainsFunc(names, func(n string) bool { return changed[n] })
}

// linkMXSets works out again which MX sets depend on links, for the zones
// whose checks are stale; the rest stand as the previous build found them.
func (b *zoneBuild) linkMXSets(recheck []bool) {
	s := b.s
	if b.pc != nil {
		s.mxLinked = b.prev.mxLinked.clone()
	} else {
		s.mxLinked = cowMap[*rrset, linkedMX]{}
	}
	for i, d := range b.all {
		if !recheck[i] {
			continue
		}
		if b.pc != nil {
			for _, set := range b.prev.zones[d.pz.origin].mxSets {
				s.mxLinked.del(set)
			}
		}
		s.linkMXHealth(s.zones[d.pz.origin])
	}
}

// checkAcrossZones runs the checks that look into other zones for the
// zones whose findings are stale, noting which zones, and which names of
// reverse zones, they looked into.
func (b *zoneBuild) checkAcrossZones(recheck []bool) {
	s := b.s
	s.building.track = make(map[string]bool)
	defer func() { s.building.track, s.building.trackNames, s.building.trackMX = nil, nil, nil }()
	from := s.senders()
	for i, d := range b.all {
		if !recheck[i] {
			continue
		}
		zc := b.c.own(b.pc, d.pz.origin)
		clear(s.building.track)
		s.building.trackNames = s.building.trackNames[:0]
		s.building.trackMX = s.building.trackMX[:0]
		zc.cross = nil
		s.checkTargets(d.pz, &zc.cross)
		s.checkMail(d.pz, &zc.cross)
		zc.noPTR = s.checkReverse(d.pz, &zc.cross)
		s.checkFixedSerial(d.pz, &zc.cross)
		s.checkOutboundSPF(d.pz, from, &zc.cross)
		s.checkChildDS(d.pz, &zc.cross)
		s.checkDelegated(d.pz, &zc.cross)
		zc.deps = slices.Collect(maps.Keys(s.building.track))
		zc.depNames = slices.Clone(s.building.trackNames)
		zc.mxReads = slices.Clone(s.building.trackMX)
	}
}

// collectFindings adds every zone's findings to diags, in definition
// order, each missing PTR once across zones.
func (b *zoneBuild) collectFindings(diags *Diagnostics) {
	seen := make(map[string]bool)
	for _, d := range b.all {
		zc := b.c.zones.at(d.pz.origin)
		*diags = append(*diags, zc.local...)
		*diags = append(*diags, zc.ptr...)
		*diags = append(*diags, zc.cross...)
		for _, f := range zc.noPTR {
			if !seen[f.key] {
				seen[f.key] = true
				diags.add(f.pos, Warning, "%s", f.msg)
			}
		}
	}
}

// zoneOf finds a zone being built by origin, nil when there is none.
func (b *zoneBuild) zoneOf(origin string) *parsedZone {
	if i, ok := b.order[origin]; ok {
		return b.all[i].pz
	}
	return nil
}
