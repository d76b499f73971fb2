package zone

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// The catalog zone (RFC 9432, version 2) lists the zones served, so that
// secondaries configured with the catalog alone set up, and take down,
// every zone it names:
//
//	catalog.invalid.                         0 SOA invalid. invalid. SERIAL ...
//	catalog.invalid.                         0 NS  invalid.
//	version.catalog.invalid.                 0 TXT "2"
//	<id>.zones.catalog.invalid.              0 PTR example.com.
//	group.<id>.zones.catalog.invalid.        0 TXT "signed"
//
// It is built after the zones, from the zones to be served and their
// catalog: and group: keys, as a zone like the others: answered,
// transferred and announced by NOTIFY through the same paths.
//
// A member's <id> never changes while the zone stays in the catalog: a
// changed label tells every consumer to throw the zone and its state
// away and set it up anew (RFC 9432 §5.4). A member keeps the label the
// catalog served gave it; at a start, with none served, the labels come
// in through Options.CatalogIDs (the server keeps them in its state
// directory), as DNSSEC keys come through Options.Keys. A zone new to
// the catalog gets a label
// made from its name and the catalog's previous serial, so that a zone
// removed and added again gets a new one: the consumers that missed the
// removal still see a new zone, not a continuation of the old one.

// CatalogMember is one zone listed in the catalog.
type CatalogMember struct {
	Origin string // the member zone, canonical
	ID     string // the label of its member node, <unique-N> in RFC 9432
	Group  string // its group property, "" for none
}

// catalogState is the catalog a snapshot publishes.
type catalogState struct {
	origin  string
	file    string          // the configuration: what Zones shows as its file
	members []CatalogMember // sorted by origin
}

// catalogIDLen is the length of a label made for a member: 64 bits in hex.
const catalogIDLen = 16

// The catalog's SOA: no name server or mailbox is meant to be reached
// (RFC 9432 §4.1 recommends NS invalid.), and secondaries are told of
// changes by NOTIFY, the refresh being the fallback.
const (
	catalogRefresh = 3600
	catalogRetry   = 600
	catalogExpire  = 1209600
)

// Catalog returns the origin of the catalog zone the snapshot publishes,
// and its members sorted by origin; origin is "" when it publishes none.
func (s *Snapshot) Catalog() (origin string, members []CatalogMember) {
	if s.catalog == nil {
		return "", nil
	}
	return s.catalog.origin, slices.Clone(s.catalog.members)
}

// CatalogIDs returns the label of each member of the catalog by origin,
// for the server to keep (Options.CatalogIDs); nil when the snapshot
// publishes no catalog (or is nil).
func (s *Snapshot) CatalogIDs() map[string]string {
	if s == nil || s.catalog == nil {
		return nil
	}
	out := make(map[string]string, len(s.catalog.members))
	for _, m := range s.catalog.members {
		out[m.Origin] = m.ID
	}
	return out
}

// SameCatalog reports whether s publishes prev's catalog as it was: no
// zone came or went, no group changed.
func (s *Snapshot) SameCatalog(prev *Snapshot) bool {
	return prev != nil && s.catalog == prev.catalog
}

// buildCatalog adds the catalog zone to s, once every zone of all is
// built. order gives each origin's index in all; newest is the latest
// modification time of any source, the base of the catalog's serial.
func (s *Snapshot) buildCatalog(cfg *parsedConfig, all []defined, order map[string]int, prev *Snapshot, ids map[string]string, newest int64, diags *Diagnostics) {
	if pc := prev.catalogState(); pc != nil {
		if _, defined := order[pc.origin]; !defined {
			delete(s.zones, pc.origin) // taken over from prev with the rest
		}
	}
	c := cfg.catalog
	if c == nil {
		for _, d := range all {
			m := d.pz.member
			if m.written {
				diags.add(m.pos, Warning, "zone %s: catalog has no effect: no catalog is published (add a top-level catalog: {zone: catalog.invalid})", trimDot(d.pz.origin))
			}
			if m.group != "" {
				diags.add(m.groupPos, Warning, "zone %s: group has no effect: no catalog is published (add a top-level catalog: {zone: catalog.invalid})", trimDot(d.pz.origin))
			}
		}
		return
	}
	name := trimDot(c.origin)
	if i, dup := order[c.origin]; dup {
		pz := all[i].pz
		diags.add(c.pos, Error, "catalog zone %s is also a zone served, defined at %s: give the catalog a name of its own, such as catalog.invalid", name, pz.pos)
		diags.add(pz.pos, Error, "zone %s has the name of the catalog zone (catalog: at %s): rename one of them", name, c.pos)
		return
	}
	for p := parentName(c.origin); p != ""; p = parentName(p) {
		if _, ok := order[p]; ok {
			diags.add(c.pos, Warning, "catalog zone %s lies inside zone %s, which does not delegate it: other servers of %s do not know it; a name outside every zone served, such as catalog.invalid, avoids that", name, trimDot(p), trimDot(p))
			break
		}
	}
	t := s.settings.Transfer
	switch {
	case len(t.Allow) == 0 && len(t.AllowKeys) == 0:
		diags.add(c.pos, Warning, "catalog zone %s: no secondary may transfer it: the top-level transfer: allow names nobody (add the secondaries' addresses or key:NAME)", name)
	case len(t.Notify) == 0:
		diags.add(c.pos, Warning, "catalog zone %s: the top-level transfer: notify names no secondary, so they see zones added and removed only when they refresh the catalog (every %d s)", name, catalogRefresh)
	}

	members := s.catalogMembers(all, diags)
	s.depths.add(dns.CountLabel(c.origin))
	pc := prev.catalogState()
	if pc != nil && pc.origin == c.origin && pc.file == c.pos.file && sameMembers(pc.members, members) {
		// Nothing listed changed: the zone served stands, serial,
		// labels and all. Most reloads stop here, with ten thousand
		// zones as with ten.
		s.zones[c.origin], s.catalog = prev.zones[c.origin], pc
		return
	}
	var prevZone *zoneData
	if prev != nil {
		prevZone = prev.zones[c.origin]
	}
	if prevZone == nil {
		prevZone = s.rememberedZone(c.origin)
	}
	var salt uint32
	if prevZone != nil {
		salt = prevZone.soa.Serial
	}
	assignCatalogIDs(members, prev.CatalogIDs(), ids, salt)
	s.catalog = &catalogState{origin: c.origin, file: c.pos.file, members: members}
	s.zones[c.origin] = s.catalog.zone(s, c.pos, prevZone, newest)
}

// sameMembers reports whether b lists the zones of a, each with the same
// group; b has no labels yet.
func sameMembers(a, b []CatalogMember) bool {
	return slices.EqualFunc(a, b, func(x, y CatalogMember) bool { return x.Origin == y.Origin && x.Group == y.Group })
}

// catalogState is prev's catalog, nil for none (or no prev).
func (s *Snapshot) catalogState() *catalogState {
	if s == nil {
		return nil
	}
	return s.catalog
}

// catalogMembers lists the zones of all that the catalog holds, sorted by
// origin, without labels yet.
func (s *Snapshot) catalogMembers(all []defined, diags *Diagnostics) []CatalogMember {
	top := s.settings.Transfer
	topAllows := len(top.Allow) > 0 || len(top.AllowKeys) > 0
	members := make([]CatalogMember, 0, len(all))
	for _, d := range all {
		pz, m := d.pz, d.pz.member
		if m.excluded {
			if m.group != "" {
				diags.add(m.groupPos, Warning, "zone %s: group has no effect: the zone is left out of the catalog (catalog: false)", trimDot(pz.origin))
			}
			continue
		}
		if t := s.zones[pz.origin].transfer; t != nil && topAllows && len(t.Allow) == 0 && len(t.AllowKeys) == 0 {
			diags.add(pz.pos, Warning, "zone %s is in the catalog, so secondaries set it up, but its own transfer: allow names nobody, so none can transfer it: allow them, or write catalog: false", trimDot(pz.origin))
		}
		members = append(members, CatalogMember{Origin: pz.origin, Group: m.group})
	}
	slices.SortFunc(members, func(a, b CatalogMember) int { return strings.Compare(a.Origin, b.Origin) })
	return members
}

// assignCatalogIDs gives each member its label: the one the catalog
// served gave it (served), else the one kept for it (kept), else a new
// one made from its origin and salt. The served label wins: it is what
// the secondaries know. Labels known are taken first, so that a new label
// never takes one in use; a label held twice, or not a label we would
// make, is made anew.
func assignCatalogIDs(members []CatalogMember, served, kept map[string]string, salt uint32) {
	used := make(map[string]bool, len(members))
	var fresh []int
	for i := range members {
		o := members[i].Origin
		id := served[o]
		if !validCatalogID(id) || used[id] {
			id = kept[o]
		}
		if !validCatalogID(id) || used[id] {
			fresh = append(fresh, i)
			continue
		}
		members[i].ID, used[id] = id, true
	}
	for _, i := range fresh {
		for n := uint32(0); ; n++ {
			if id := newCatalogID(members[i].Origin, salt, n); !used[id] {
				members[i].ID, used[id] = id, true
				break
			}
		}
	}
}

// newCatalogID makes a member's label: 64 bits of a hash of its origin,
// the catalog's serial before it was added, and a count that moves on
// past a label in use.
func newCatalogID(origin string, salt, n uint32) string {
	var num [8]byte
	binary.BigEndian.PutUint32(num[:4], salt)
	binary.BigEndian.PutUint32(num[4:], n)
	sum := sha256.Sum256(append([]byte("mxdns catalog member\x00"+origin+"\x00"), num[:]...))
	return hex.EncodeToString(sum[:catalogIDLen/2])
}

// validCatalogID accepts one label of lower-case letters, digits and
// hyphens: what a state file should hold, and nothing a master file
// would need to escape.
func validCatalogID(id string) bool {
	if id == "" || len(id) > 63 {
		return false
	}
	for i := range len(id) {
		if c := id[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// zone builds the catalog zone. Its serial moves, as with serial: auto,
// only when what it lists changes: prev is the catalog served before (or
// remembered), newest the base of a new serial.
func (c *catalogState) zone(s *Snapshot, pos at, prev *zoneData, newest int64) *zoneData {
	origin := c.origin
	z := &zoneData{origin: origin, file: c.file}
	hdr := func(name string, t uint16) dns.RR_Header {
		return dns.RR_Header{Name: name, Rrtype: t, Class: dns.ClassINET}
	}
	add := func(name string, rr dns.RR) {
		n := z.node(name)
		n.sets = append(n.sets, &rrset{rtype: rr.Header().Rrtype, rrs: []dns.RR{rr}})
	}
	add(origin, &dns.NS{Hdr: hdr(origin, dns.TypeNS), Ns: "invalid."})
	add("version."+origin, &dns.TXT{Hdr: hdr("version."+origin, dns.TypeTXT), Txt: []string{"2"}})
	for _, m := range c.members {
		node := m.ID + ".zones." + origin
		add(node, &dns.PTR{Hdr: hdr(node, dns.TypePTR), Ptr: m.Origin})
		if m.Group != "" {
			add("group."+node, &dns.TXT{Hdr: hdr("group."+node, dns.TypeTXT), Txt: []string{m.Group}})
		}
	}
	invalid := &nameRef{name: "invalid.", pos: pos}
	pz := &parsedZone{origin: origin, pos: pos, ns: []nameRef{*invalid}, soa: parsedSOA{autoSerial: true,
		mname: invalid, rname: invalid, refresh: catalogRefresh, retry: catalogRetry, expire: catalogExpire}}
	z.soa = s.makeSOA(pz, z, newest, prev, z.nodeSum())
	return z
}

func trimDot(name string) string { return strings.TrimSuffix(name, ".") }
