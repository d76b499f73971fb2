package zone

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Updated records. Records added by RFC 2136 updates are not part of any
// file: the server keeps them in its state directory and lays them over
// the zones its files define, each zone on its own, without building
// anything again (WithUpdates). A zone with updated records keeps the zone
// its files made as its base; a load builds from bases only (buildphases.go
// takes a zone over from the previous snapshot without its updates), and
// the server lays the updates over again before it serves. The files'
// records are never changed or removed: an updated record at a name and
// type the files already hold is served beside theirs, with their TTL.

// UpdateSkipped is an updated record that WithUpdates could not lay over
// its zone as the files now define it, and why.
type UpdateSkipped struct {
	Origin string
	RR     dns.RR
	Reason error
}

// Why an update may not add a record at a name (Updatable).
var (
	ErrNotInZone = errors.New("the name is not in the zone")
	ErrNoZone    = errors.New("no zone of that name is served, or it is the catalog")
	errWildName  = errors.New(`the name has a "*" label: a wildcard is never updated`)
	errCutName   = errors.New("the name is at or below a delegation: the child zone answers for it")
	errCNAMEName = errors.New("the name has a CNAME, which may not share its name (RFC 1034 §3.6.2)")
	errTypeNoUpd = errors.New("records of that type are never updated")
	errChildZone = errors.New("the name is in a zone of its own")
)

// UpdatableZone reports whether origin (canonical) names a zone served
// that updates may change: any zone but the catalog.
func (s *Snapshot) UpdatableZone(origin string) bool {
	z := s.zones[origin]
	return z != nil && z != s.catalogZone()
}

// Updatable says whether an update to the zone origin may add a record of
// type t at name (both canonical): nil, or why not.
func (s *Snapshot) Updatable(origin, name string, t uint16) error {
	z := s.zones[origin]
	if z == nil || z == s.catalogZone() {
		return ErrNoZone
	}
	return s.updatableIn(z.yaml(), name, t)
}

// updatableIn is Updatable for z, the zone as its files have it: the name
// in it, not in a zone of its own below it, and the type and name ones the
// zone's records allow.
func (s *Snapshot) updatableIn(z *zoneData, name string, t uint16) error {
	if !hasLabelSuffix(name, z.origin) {
		return ErrNotInZone
	}
	if owner := s.findZone(name); owner != nil && owner.origin != z.origin {
		return fmt.Errorf("%w, %s", errChildZone, strings.TrimSuffix(owner.origin, "."))
	}
	return z.updatable(name, t)
}

func (z *zoneData) updatable(name string, t uint16) error {
	switch {
	case !isUpdatableType(t):
		return errTypeNoUpd
	case strings.HasPrefix(name, "*.") || strings.Contains(name, ".*."):
		return errWildName
	case z.cutAbove(name, true) != nil:
		return errCutName
	}
	if n := z.nodes.at(name); n != nil && n.set(dns.TypeCNAME) != nil {
		return errCNAMEName
	}
	return nil
}

// FileRecords returns the records the files give name (canonical) in the
// zone origin, updated records left out: what an update's prerequisites
// are checked against, with the updated records the server keeps.
func (s *Snapshot) FileRecords(origin, name string) []dns.RR {
	z := s.zones[origin]
	if z == nil {
		return nil
	}
	n := z.yaml().nodes.at(name)
	if n == nil {
		return nil
	}
	var out []dns.RR
	for _, set := range n.sets {
		out = append(out, set.rrs...)
	}
	return out
}

// yaml is the zone as its files define it.
func (z *zoneData) yaml() *zoneData {
	if z.base != nil {
		return z.base
	}
	return z
}

// WithUpdates returns s with the records of updates laid over their
// zones: updates gives, by origin, every zone's updated records, their TTL
// set. A zone of s that has updated records and is missing from updates
// is served as its files define it. prev is the snapshot served, nil at a
// start, when mem (nil: none) gives the serials served before.
//
// A zone's serial moves whenever what it serves changes and never goes
// back, as "serial: auto" does: with updated records it is one more than
// the serial served, or the files' serial when that is higher. A zone
// given in updates with no records is served as its files define it, but
// with that rule for its serial: the serial a secondary saw must not go
// back when the updated records go.
//
// Records that cannot be laid over the zone as its files define it now
// (the name became a delegation, or got a CNAME) are left out and listed.
func (s *Snapshot) WithUpdates(prev *Snapshot, mem Memory, updates map[string][]dns.RR) (*Snapshot, []UpdateSkipped) {
	var skipped []UpdateSkipped
	next := *s
	next.zones, next.updated = nil, nil
	set := func(origin string, z *zoneData) {
		if next.zones == nil {
			next.zones = maps.Clone(s.zones)
		}
		next.zones[origin] = z
	}
	for _, origin := range slices.Sorted(maps.Keys(updates)) {
		z := s.zones[origin]
		if z == nil || z == s.catalogZone() {
			continue
		}
		nz, sk := s.overlay(z.yaml(), updates[origin], servedZone(prev, mem, origin))
		skipped = append(skipped, sk...)
		if nz != z {
			set(origin, nz)
		}
		if nz.base != nil {
			if next.updated == nil {
				next.updated = make(map[string]bool)
			}
			next.updated[origin] = true
		}
	}
	// A zone served with updated records and given none now: s's own
	// (the snapshot served), or prev's (a load, which built s from
	// files alone).
	var dropped []string
	for origin := range s.updated {
		dropped = append(dropped, origin)
	}
	if prev != nil {
		for origin := range prev.updated {
			dropped = append(dropped, origin)
		}
	}
	done := make(map[string]bool, len(dropped))
	for _, origin := range dropped {
		if _, given := updates[origin]; given || done[origin] {
			continue
		}
		done[origin] = true
		if z := s.zones[origin]; z != nil {
			if nz, _ := s.overlay(z.yaml(), nil, servedZone(prev, mem, origin)); nz != z {
				set(origin, nz)
			}
		}
	}
	if next.zones == nil {
		if maps.Equal(next.updated, s.updated) {
			return s, skipped // nothing served changes
		}
		next.zones = s.zones
	}
	return &next, skipped
}

// servedZone stands for the zone origin as last served: prev's, or what
// mem remembers (serial and digest only), or nil.
func servedZone(prev *Snapshot, mem Memory, origin string) *zoneData {
	if prev != nil {
		if z := prev.zones[origin]; z != nil {
			return z
		}
	}
	if mem == nil {
		return nil
	}
	if r, ok := mem.LastSerial(origin); ok {
		return &zoneData{soa: &dns.SOA{Serial: r.Serial}, hash: r.Hash}
	}
	return nil
}

// overlay is z, a zone as its files define it, with rrs laid over it and
// its serial moved past served's (see WithUpdates). It is served itself
// when it holds that content with that serial, z when rrs is empty and z's
// serial stands. z and its nodes are never written. The digest the serial
// follows is the content's (the files' and the records'), and under
// transfer_view: current the view transferred too, for s's up set.
func (s *Snapshot) overlay(z *zoneData, rrs []dns.RR, served *zoneData) (*zoneData, []UpdateSkipped) {
	var skipped []UpdateSkipped
	kept := make([]dns.RR, 0, len(rrs))
	var seen rrIndex
	for _, rr := range rrs {
		name := dns.CanonicalName(rr.Header().Name)
		err := s.updatableIn(z, name, rr.Header().Rrtype)
		if err != nil {
			skipped = append(skipped, UpdateSkipped{Origin: z.origin, RR: rr, Reason: err})
			continue
		}
		if seen.find(rr) != nil || z.holds(name, rr) {
			continue // the files already serve it: nothing to add
		}
		seen.add(rr)
		rr = dns.Copy(rr)
		rr.Header().Name = name
		kept = append(kept, rr)
	}
	sortRecords(kept)
	// The zone served from these very files and records stands as it
	// is: a publish rebuilds only the zones whose records changed. (A
	// zone transferred as viewed hashes the links' state too, which may
	// have moved since.)
	if served != nil && served.base == z && !s.viewed(z) && sameRecords(served.updates, kept) {
		return served, skipped
	}
	var nz *zoneData
	hash := s.serialHash(z, s.transferUp)
	if len(kept) > 0 {
		content := z.content
		h := sha256.New()
		h.Write(content[:])
		nh := newNodeHasher()
		nh.h = h
		nh.records(kept...)
		h.Sum(content[:0])
		nz = z.withRecords(kept, content)
		hash = s.serialHash(nz, s.transferUp)
	}
	serial := z.soa.Serial
	if served != nil {
		switch {
		case served.hash == hash && (z.autoSerial || !serialAfter(serial, served.soa.Serial)):
			serial = served.soa.Serial
		case served.hash != hash && !serialAfter(serial, served.soa.Serial):
			serial = served.soa.Serial + 1
		}
	}
	if served != nil && served.base == z && served.hash == hash && served.soa.Serial == serial {
		return served, skipped
	}
	if nz == nil {
		if hash == z.hash && serial == z.soa.Serial {
			return z, skipped
		}
		nz = z.withRecords(nil, z.content)
	}
	nz.setSerial(serial, hash)
	return nz, skipped
}

// sameRecords reports whether a and b, both sorted by sortRecords, are
// the same records with the same TTLs.
func sameRecords(a, b []dns.RR) bool {
	return slices.EqualFunc(a, b, func(x, y dns.RR) bool {
		return x.Header().Ttl == y.Header().Ttl && dns.IsDuplicate(x, y)
	})
}

// holds reports whether the files give name the record rr.
func (z *zoneData) holds(name string, rr dns.RR) bool {
	n := z.nodes.at(name)
	if n == nil {
		return false
	}
	set := n.set(rr.Header().Rrtype)
	return set != nil && slices.ContainsFunc(set.rrs, func(x dns.RR) bool { return dns.IsDuplicate(x, rr) })
}

// sortRecords orders records by name, type and text: the order their
// digest is taken in, whatever order the server kept them in.
func sortRecords(rrs []dns.RR) {
	sort.Slice(rrs, func(i, j int) bool {
		a, b := rrs[i].Header(), rrs[j].Header()
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if a.Rrtype != b.Rrtype {
			return a.Rrtype < b.Rrtype
		}
		return rrs[i].String() < rrs[j].String()
	})
}

// withRecords is z with kept (checked, canonical, sorted) added and the
// content digest content: a new zone sharing every node of z but those it
// adds to. Its serial is z's until setSerial.
func (z *zoneData) withRecords(kept []dns.RR, content [32]byte) *zoneData {
	nz := z.derive()
	nz.content, nz.base, nz.updates = content, z, kept
	changed := map[string]bool{}
	for i := 0; i < len(kept); {
		j := i
		for j < len(kept) && kept[j].Header().Name == kept[i].Header().Name {
			j++
		}
		nz.setNode(kept[i].Header().Name, nil, kept[i:j])
		changed[kept[i].Header().Name] = true
		i = j
	}
	if len(changed) > 0 {
		nz.deriveChain(z, changed)
	} else {
		nz.chain.Store(z.chain.Load())
		nz.chain3.Store(z.chain3.Load())
	}
	return nz
}

// derive is a new zone with z's fields and a copy of its node map that
// shares the nodes, to change without touching z; its NSEC chains are
// not made yet.
func (z *zoneData) derive() *zoneData {
	return &zoneData{origin: z.origin, file: z.file, soa: z.soa, negSOA: z.negSOA, nodes: z.nodes.clone(),
		wildcard: z.wildcard, cuts: z.cuts, mxSets: z.mxSets, linked: z.linked, hash: z.hash, content: z.content,
		autoSerial: z.autoSerial, transfer: z.transfer, rname: z.rname, dnssec: z.dnssec, keys: z.keys,
		timing: z.timing, base: z.base, updates: z.updates}
}

// setSerial gives a zone derive made its serial, in a new SOA at its
// apex, and the digest the serial names.
func (z *zoneData) setSerial(serial uint32, hash [32]byte) {
	soa, neg := *z.soa, *z.negSOA
	soa.Serial, neg.Serial = serial, serial
	z.soa, z.negSOA, z.hash = &soa, &neg, hash
	z.setNode(z.origin, func(set *rrset) *rrset {
		if set.rtype != dns.TypeSOA {
			return set
		}
		return &rrset{rtype: dns.TypeSOA, ttl: set.ttl, rrs: []dns.RR{&soa}}
	}, nil)
}

// setNode replaces the node at name with a copy whose sets are each
// passed through edit (when not nil), with add merged in: a record joins
// the set of its type, taking the set's TTL, or starts one. A name the
// zone lacks is made, with the empty non-terminals above it.
func (z *zoneData) setNode(name string, edit func(*rrset) *rrset, add []dns.RR) {
	old := z.nodes.at(name)
	n := &node{name: name}
	if old != nil {
		n.cut = old.cut
		n.sets = slices.Clone(old.sets)
	} else {
		z.node(parentName(name))
	}
	if edit != nil {
		for i, set := range n.sets {
			n.sets[i] = edit(set)
		}
	}
	for _, rr := range add {
		t := rr.Header().Rrtype
		i := slices.IndexFunc(n.sets, func(s *rrset) bool { return s.rtype == t })
		if i < 0 {
			n.sets = append(n.sets, &rrset{rtype: t, ttl: rr.Header().Ttl, rrs: []dns.RR{rr}})
			continue
		}
		set := *n.sets[i]
		set.rrs = append(slices.Clip(set.rrs), withTTL(rr, set.ttl))
		n.sets[i] = &set
	}
	sort.Slice(n.sets, func(i, j int) bool { return n.sets[i].rtype < n.sets[j].rtype })
	z.nodes.set(name, n)
}

// UpdatedRecord is a record an update added, and when: it is served
// until an update deletes it or updates.expire has passed since.
type UpdatedRecord struct {
	RR    dns.RR
	Added time.Time
}
