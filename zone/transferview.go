package zone

import (
	"encoding/binary"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// The transfer view: what a zone transfer carries of the records that
// depend on link state. With transfer_view: all (the default) a
// secondary gets every address of every link, as written; with current
// it gets what a query arriving on no link gets now (TransferRecords),
// and the zone's serial follows: it moves when a link change changes
// what would be transferred (WithTransferUp), and only then.
//
// A serial must name one content, so the records transferred are those
// of the up set the serials were made for (TransferUp), not of the up
// set the answers use at the moment: the two part for the short while
// the server gathers a burst of link changes into one new serial.

// TransferView is what a zone transfer carries of link-dependent records.
type TransferView uint8

const (
	// TransferAll transfers every address on every link, with the TTL
	// written: the secondaries answer with all of them.
	TransferAll TransferView = iota
	// TransferCurrent transfers the answers of a query that arrived on
	// no link, given the links up: healthy MX only, balance and
	// failover applied, link-dependent records at link_ttl.
	TransferCurrent
)

func (v TransferView) String() string {
	if v == TransferCurrent {
		return "current"
	}
	return "all"
}

// DefaultUp is the up set of links as a server starts: every link but
// those whose state is down, for a link counts as up until its check
// proves otherwise.
func DefaultUp(links []Link) LinkSet {
	var up LinkSet
	for i, l := range links {
		if i < MaxLinks && l.State != LinkDown {
			up = up.With(i)
		}
	}
	return up
}

// TransferUp is the up set that the transferred zones and their serials
// were made for (Transferred). It is the up set of the build, or of the
// WithTransferUp that made s.
func (s *Snapshot) TransferUp() LinkSet { return s.transferUp }

// Transferred returns the zone as a secondary receives it now: the SOA
// first, then every name in canonical order, each set as
// TransferRecords gives it for TransferUp. Its SOA's serial names
// exactly this content.
func (s *Snapshot) Transferred(origin string) ([]dns.RR, bool) {
	return s.TransferRecords(origin, s.transferUp)
}

// TransferRecords returns the zone with the given origin as a transfer
// under this snapshot's transfer_view would carry it were up the links
// up: with all, or for a zone whose serial is fixed (it could not follow
// link changes), as Records; with current, each set as Lookup answers it
// for a client on no link with up and no rotation, so that link-dependent
// records carry their TTL capped at link_ttl. The SOA is the snapshot's:
// it names the content only for up == TransferUp(). ok is false when no
// such zone is served.
func (s *Snapshot) TransferRecords(origin string, up LinkSet) (rrs []dns.RR, ok bool) {
	z := s.zoneNamed(origin)
	if z == nil {
		return nil, false
	}
	if !s.viewed(z) {
		return s.zoneRecords(z, nil), true
	}
	l := &lookup{snap: s, zone: z, client: Client{Link: NoLink, Up: up}}
	return s.zoneRecords(z, func(set *rrset) []dns.RR {
		if !s.viewDepends(set) {
			return nil
		}
		return l.records(set)
	}), true
}

// viewed reports whether z's transfers carry the current view.
func (s *Snapshot) viewed(z *zoneData) bool {
	return s.settings.TransferView == TransferCurrent && z.autoSerial
}

// viewDepends reports whether a set is transferred otherwise under
// transfer_view: current than as written: addresses by link, MX whose
// targets depend on links, and MX published as primary only (which
// withholds the backups whatever the links).
func (s *Snapshot) viewDepends(set *rrset) bool {
	if len(set.links) > 0 {
		return true
	}
	if set.rtype != dns.TypeMX {
		return false
	}
	if set.publish == publishPrimary {
		return true
	}
	_, linked := s.mxLinked.get(set)
	return linked
}

// checkFixedSerial warns of a zone with a fixed serial and sets that
// transfer_view: current would transfer by link state: a serial that
// cannot move cannot name each view, so the zone transfers every address
// as written, as under all. (Its MX targets' links are another zone's:
// this runs with the checks across zones.)
func (s *Snapshot) checkFixedSerial(pz *parsedZone, diags *Diagnostics) {
	z := s.zones[pz.origin]
	if s.settings.TransferView != TransferCurrent || pz.soa.autoSerial || z == nil {
		return
	}
	depends := slices.ContainsFunc(z.mxSets, s.viewDepends)
	for _, ls := range z.linked {
		depends = depends || s.viewDepends(ls.set)
	}
	if depends {
		diags.add(pz.soa.serialPos, Warning, "zone %s: serial %d is fixed, so transfers cannot follow link state and carry every address; transfer_view: current needs serial: auto",
			strings.TrimSuffix(pz.origin, "."), pz.soa.serial)
	}
}

// serialHash is the digest that z's serial follows: its content, and
// under transfer_view: current the view at up of the sets that depend on
// it. A zone with no such set has its content's digest in either mode,
// so that turning the view on moves only the serials of the zones whose
// transfers change.
func (s *Snapshot) serialHash(z *zoneData, up LinkSet) [32]byte {
	if !s.viewed(z) {
		return z.content
	}
	var h *nodeHasher
	l := &lookup{snap: s, zone: z, client: Client{Link: NoLink, Up: up}}
	view := func(set *rrset) {
		if !s.viewDepends(set) {
			return
		}
		if h == nil {
			h = newNodeHasher()
			h.h.Write(z.content[:])
		}
		var num [4]byte
		binary.BigEndian.PutUint32(num[:], uint32(set.rtype))
		h.h.Write(num[:])
		h.records(l.records(set)...)
	}
	for _, ls := range z.linked {
		view(ls.set)
	}
	for _, set := range z.mxSets {
		view(set)
	}
	if h == nil {
		return z.content
	}
	var out [32]byte
	h.h.Sum(out[:0])
	return out
}

// WithTransferUp returns s with its transfers made for up: every zone
// whose transferred content differs from the one its serial names gets
// the next serial, the later of now (unix seconds) and one more than
// its own, so that a link going down and up again gives a third serial,
// never the first again. The zones are otherwise shared with s, which is
// left as it is. It returns s itself under transfer_view: all, where link
// state is never transferred, and when up is already s's.
func (s *Snapshot) WithTransferUp(up LinkSet, now time.Time) *Snapshot {
	if s.settings.TransferView != TransferCurrent || up == s.transferUp {
		return s
	}
	next := *s
	next.transferUp = up
	cloned := false
	for origin, z := range s.zones {
		h := s.serialHash(z, up)
		if h == z.hash {
			continue
		}
		if !cloned {
			next.zones, cloned = maps.Clone(s.zones), true
		}
		next.zones[origin] = z.withSerial(nextSerial(z.soa.Serial, now.Unix()), h)
	}
	return &next
}

// nextSerial is the serial after old for a change made at now (unix
// seconds): now, unless that is not after old (RFC 1982), then old + 1.
func nextSerial(old uint32, now int64) uint32 {
	if n := uint32(now); serialAfter(n, old) {
		return n
	}
	return old + 1
}

// withSerial returns z with another serial and serial digest: the SOA,
// its negative-answer copy and the apex node are new, everything else is
// shared with z, which is left as it is.
func (z *zoneData) withSerial(serial uint32, hash [32]byte) *zoneData {
	n := z.derive() // base and updates too: a load takes the files' zone back (overlay.go)
	n.setSerial(serial, hash)
	// The NSEC chains do not hold the serial: made once, they stand.
	n.chain.Store(z.chain.Load())
	n.chain3.Store(z.chain3.Load())
	return n
}
