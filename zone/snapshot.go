package zone

import (
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/dnssec"
)

// Snapshot is an immutable, fully validated view of every zone and setting.
// It is safe for concurrent use: nothing in it changes after it is built, so
// a query that loaded it once sees one consistent configuration throughout.
type Snapshot struct {
	settings   Settings
	match      *fileMatch
	linked     linkWatch // where the symbolic links among the files lead
	zones      map[string]*zoneData
	depths     labelCounts // how many labels the origins have: findZone probes only these
	listenLink map[string]int
	// mxLinked holds the MX sets with a target whose reachability
	// depends on links. It depends on other zones, so it lives here and
	// not in the set: zones stay shareable between snapshots.
	mxLinked cowMap[*rrset, linkedMX]
	// faults lists the files in error, served as they last were good.
	faults []FileFault
	// catalog is the catalog zone's list (catalog.go), nil without one;
	// the zone itself is among zones.
	catalog *catalogState
	// updated holds the zones with updated records laid over them
	// (overlay.go): a load takes those zones over without them.
	updated map[string]bool
	// transferUp is the up set the transferred zones and their serials
	// were made for (transferview.go).
	transferUp LinkSet
	// Never read by a query: cache is what the next load may reuse
	// (incremental.go), building what only the build in progress uses,
	// nil once the snapshot is built.
	cache    *buildCache
	building *buildState
	// outbound lists where each outbound address's PTR goes, for the
	// next build to see whether one moved.
	outbound []outboundPTR
}

// buildState is what a snapshot needs only while it is built.
type buildState struct {
	// memory holds the serials served before this process, so that
	// "serial: auto" never goes back below them.
	memory Memory
	// keys gives signed zones their DNSKEY; nil builds them without.
	keys KeySource
	// rekey names zones to build again though nothing they are made of
	// changed: their keys did (Options.Rekey).
	rekey map[string]bool
	// track collects the zones a zone's checks look into, trackNames the
	// names they look up in reverse zones (buildphases.go).
	track      map[string]bool
	trackNames []string
	// trackMX collects the names whose being an MX target or not a
	// zone's checks read: the findings are redone when one of them
	// becomes or stops being one, in whatever zone the MX is.
	trackMX []string
	// now is the time of the build, unix seconds: the serial of a zone
	// whose transferred view changed though nothing it is made of did.
	now int64
	// outbound is what the links' outbound identities give (outbound.go).
	outbound *outboundSet
}

// ZoneInfo is what the admin endpoint and logs show of a zone.
type ZoneInfo struct {
	Origin string // canonical, lower case, fully qualified
	Serial uint32
	File   string // where the zone is defined
}

// zoneData is one zone, ready to answer from.
type zoneData struct {
	origin   string
	file     string
	soa      *dns.SOA
	negSOA   *dns.SOA // what negative answers carry (RFC 2308 §3)
	nodes    nodeMap
	wildcard bool        // some name starts with "*."; skip the wildcard step otherwise
	cuts     bool        // some name below the apex has NS; skip the delegation step otherwise
	mxSets   []*rrset    // every MX set, for the passes that look across zones
	linked   []linkedSet // every link-mapped address set, for Stranded
	// hash is what the serial follows: content, and under
	// transfer_view: current the view transferred (serialHash).
	hash       [32]byte
	content    [32]byte  // the zone as written (contentHash)
	autoSerial bool      // serial: auto; a fixed serial cannot follow the view
	transfer   *Transfer // nil: the top-level setting
	rname      string    // the SOA RNAME when soa: gives none (rname.go)
	// dnssec is the signing policy, nil for a zone not signed; the NSEC
	// chain is made on its first use (nsec.go).
	dnssec  *dnssec.Policy
	keys    *dnssec.ZoneKeys // what the DNSKEY set was made from; nil without a KeySource
	timing  dnssec.Timing
	chainMu sync.Mutex // held while the chain is made
	chain   atomic.Pointer[nsecChain]
	chain3  atomic.Pointer[nsec3Chain] // for denial: nsec3 (nsec3.go)
	// base is the zone as its files define it when updated records are
	// laid over this one, and updates are those records (overlay.go);
	// nil for a zone of files.
	base    *zoneData
	updates []dns.RR
}

// node is one owner name. A node with no sets is an empty non-terminal: the
// name exists (NODATA) because something exists below it.
type node struct {
	name string
	sets []*rrset // ordered by type
	cut  bool     // NS below the apex: a delegation point
}

// rrset is the records of one type at one name. Address sets written per
// link keep their addresses by link and are resolved per query.
type rrset struct {
	rtype uint16
	ttl   uint32   // as written; a link-mapped set's records carry it capped at link_ttl
	rrs   []dns.RR // all records; for a link-mapped set, every address on every link

	links   []linkAddrs // link-mapped addresses, in the order the links were written
	mode    linkMode
	publish mxPublish // MX: which records to publish
}

type linkAddrs struct {
	link int
	rrs  []dns.RR
}

// mxHealth says when an MX record's target can be reached: always (no link
// involved or out of our zones) or whenever one of links is up.
type mxHealth struct {
	always bool
	links  LinkSet
}

func (h mxHealth) healthy(up LinkSet) bool { return h.always || h.links&up != 0 }

// linkedMX is an MX set whose answer changes with link state.
type linkedMX struct {
	health []mxHealth // which links keep each record's target reachable, parallel to rrs
	rrs    []dns.RR   // the set's records, their TTL capped at link_ttl once here, not per answer
}

// Settings returns the server-wide settings.
func (s *Snapshot) Settings() Settings { return s.settings }

// Files lists every file read to build the snapshot (the config first).
func (s *Snapshot) Files() []string { return s.match.files }

// WatchDirs lists the directories whose changes may change the snapshot:
// the config's directory, the directory of every zone_files glob, and
// the directory of every file a symbolic link among them leads to.
func (s *Snapshot) WatchDirs() []string { return slices.Concat(s.match.dirs, s.linked.dirs) }

// Concerns reports whether a change to the file at path may change the
// snapshot: it is one of its files, a file a zone_files pattern would
// match, or Kubernetes' "..data" directory swap in a mounted ConfigMap.
// A watcher uses it to ignore logs and editors' scratch files.
func (s *Snapshot) Concerns(path string) bool {
	// Every zone file is a match of one of the patterns: only the
	// configuration needs naming (a scan of ten thousand files per event
	// would not).
	if strings.HasPrefix(filepath.Base(path), "..") || path == s.match.files[0] {
		return true
	}
	if _, ok := s.linked.links[path]; ok {
		return true
	}
	// A zone directory itself: made unreadable, or readable again.
	if slices.Contains(s.match.dirs[1:], path) {
		return true
	}
	for _, g := range s.match.globs {
		if ok, _ := filepath.Match(g, path); ok {
			return true
		}
	}
	return false
}

// Faults lists the files in error, by path, and what is served of each.
func (s *Snapshot) Faults() []FileFault { return s.faults }

// Serials returns each zone's serial and a digest of its content, for a
// Memory to keep.
func (s *Snapshot) Serials() map[string]SerialRecord { return s.SerialsSince(nil) }

// SerialsSince is Serials of only the zones built anew since prev: a zone
// taken as it was from prev (an incremental build shares it) keeps its
// serial, so a reload of one file of ten thousand hands on one record.
func (s *Snapshot) SerialsSince(prev *Snapshot) map[string]SerialRecord {
	out := make(map[string]SerialRecord)
	for origin, z := range s.zones {
		if prev == nil || prev.zones[origin] != z {
			out[origin] = SerialRecord{Serial: z.soa.Serial, Hash: z.hash}
		}
	}
	return out
}

// Removed lists the zones prev served that s does not, sorted.
func (s *Snapshot) Removed(prev *Snapshot) []ZoneInfo {
	var out []ZoneInfo
	if prev == nil || len(prev.zones) == 0 {
		return nil
	}
	for origin, z := range prev.zones {
		if _, ok := s.zones[origin]; !ok {
			out = append(out, ZoneInfo{Origin: z.origin, Serial: z.soa.Serial, File: z.file})
		}
	}
	slices.SortFunc(out, func(a, b ZoneInfo) int { return strings.Compare(a.Origin, b.Origin) })
	return out
}

// Changed lists, sorted by origin, the zones whose serial differs from
// prev's, new zones included (every zone when prev is nil). A zone that
// did not change is shared with prev, so the serials are compared only
// where the zone is not: a reload of one file among ten thousand neither
// lists nor sorts the other zones.
func (s *Snapshot) Changed(prev *Snapshot) []ZoneInfo {
	var out []ZoneInfo
	for origin, z := range s.zones {
		var pz *zoneData
		if prev != nil {
			pz = prev.zones[origin]
		}
		if pz == z || pz != nil && pz.soa.Serial == z.soa.Serial {
			continue
		}
		out = append(out, ZoneInfo{Origin: z.origin, Serial: z.soa.Serial, File: z.file})
	}
	slices.SortFunc(out, func(a, b ZoneInfo) int { return strings.Compare(a.Origin, b.Origin) })
	return out
}

// ZoneCount is how many zones are served.
func (s *Snapshot) ZoneCount() int { return len(s.zones) }

// Serial returns the serial of the zone with the given canonical origin.
func (s *Snapshot) Serial(origin string) (uint32, bool) {
	z, ok := s.zones[origin]
	if !ok {
		return 0, false
	}
	return z.soa.Serial, true
}

// Zones lists the zones served, sorted by origin.
func (s *Snapshot) Zones() []ZoneInfo {
	out := make([]ZoneInfo, 0, len(s.zones))
	for _, z := range s.zones {
		out = append(out, ZoneInfo{Origin: z.origin, Serial: z.soa.Serial, File: z.file})
	}
	slices.SortFunc(out, func(a, b ZoneInfo) int { return strings.Compare(a.Origin, b.Origin) })
	return out
}

// ListenLink returns the index of the link whose listen list holds addr
// (as written in the config), or -1 when the address belongs to no link.
func (s *Snapshot) ListenLink(addr string) int {
	if i, ok := s.listenLink[addr]; ok {
		return i
	}
	return -1
}

// LinkIndex returns the position of the named link, or -1.
func (s *Snapshot) LinkIndex(name string) int {
	for i, l := range s.settings.Links {
		if l.Name == name {
			return i
		}
	}
	return -1
}

// findZone returns the zone holding name (lower case, absolute): the one
// with the longest origin that is a suffix of it. It costs one map look-up
// per label, however many zones there are.
func (s *Snapshot) findZone(name string) *zoneData {
	// Of name and its parents, only those with as many labels as some
	// origin has can be one: a name three labels deep among forward zones
	// of two and reverse zones of six costs one map probe, not two.
	off := 0
	for labels := dns.CountLabel(name); labels > 0; labels-- {
		if s.depths.has(labels) {
			if z, ok := s.zones[name[off:]]; ok {
				return z
			}
		}
		off, _ = dns.NextLabel(name, off)
	}
	if s.depths.has(0) {
		return s.zones["."]
	}
	return nil
}

// labelCounts is a set of label counts; a name has at most 127 labels.
type labelCounts [2]uint64

func (c *labelCounts) add(n int)     { c[n>>6&1] |= 1 << (n & 63) }
func (c labelCounts) has(n int) bool { return c[n>>6&1]&(1<<(n&63)) != 0 }

func (n *node) set(t uint16) *rrset {
	for _, s := range n.sets {
		if s.rtype == t {
			return s
		}
	}
	return nil
}

// hasAddress reports whether the node has an A or AAAA set.
func (n *node) hasAddress() bool {
	return n.set(dns.TypeA) != nil || n.set(dns.TypeAAAA) != nil
}
