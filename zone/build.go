package zone

import (
	"net/netip"
	"sort"
	"strings"

	"github.com/miekg/dns"
)

// source is one parsed file and what it defined.
type source struct {
	file  string
	zones []*parsedZone
	mtime int64 // unix seconds; the base of "serial: auto"
}

// build turns parsed files into a snapshot, adding every finding to diags.
// It returns nil when any finding is an error. pc, when not nil, is what
// the build of prev kept, made from the same configuration: zones whose
// inputs are unchanged are taken from it as they are.
//
// opts gives the memory of serials, the key source, the zones to rekey,
// the clock, and the links up for the transferred view.
func build(cfg *parsedConfig, sources []source, prev *Snapshot, pc *buildCache, opts Options, diags *Diagnostics) *Snapshot {
	s := &Snapshot{listenLink: make(map[string]int), building: &buildState{memory: opts.Memory, keys: opts.Keys,
		rekey: make(map[string]bool, len(opts.Rekey)), now: opts.Now().Unix()}}
	for _, o := range opts.Rekey {
		s.building.rekey[o] = true
	}
	defer func() { s.building = nil }()
	s.settings = Settings{Listen: cfg.listen, Admin: cfg.admin, AdminAllow: cfg.adminAllow, LinkTTL: cfg.linkTTL, RRL: cfg.rrl,
		TCPMaxConns: cfg.tcpMax, TCPMaxConnsPerSource: cfg.tcpSource, TSIGKeys: cfg.tsigKeys, QueryLog: cfg.queryLog,
		StateDir: cfg.stateDir, MaxFileSize: cfg.maxFileSize, MaxRecordsPerFile: cfg.maxRecords, TransferView: cfg.transferView,
		IXFRJournal: cfg.ixfr}
	if t := resolveTransfer(cfg.transfer, cfg.tsigKeys, diags); t != nil {
		s.settings.Transfer = *t
	}
	linkIndex := s.buildLinks(cfg, diags)
	if opts.TransferUp != nil {
		s.transferUp = opts.TransferUp(s.settings.Links)
	} else {
		s.transferUp = DefaultUp(s.settings.Links)
	}

	all := make([]defined, 0, len(sources))
	order := make(map[string]int, len(sources)) // origin → index in all
	for i := range sources {
		src := &sources[i]
		for _, pz := range src.zones {
			if j, dup := order[pz.origin]; dup {
				diags.add(pz.pos, Error, "zone %s is defined twice: here and at %s", strings.TrimSuffix(pz.origin, "."), all[j].pz.pos)
				continue
			}
			order[pz.origin] = len(all)
			all = append(all, defined{pz, src})
		}
	}
	s.building.outbound = newOutboundSet(cfg.links, order)
	if pc != nil && !pc.sameZones(all) {
		pc = nil // a zone came or went: what other zones' names resolve to may change
	}
	var newest int64
	for _, src := range sources {
		newest = max(newest, src.mtime)
	}
	s.buildZones(all, order, linkIndex, cfg, prev, pc, newest, diags)
	s.buildCatalog(cfg, all, order, prev, opts.CatalogIDs, newest, diags)
	if len(diags.Errors()) > 0 {
		return nil
	}
	return s
}

func (s *Snapshot) buildLinks(cfg *parsedConfig, diags *Diagnostics) map[string]int {
	index := make(map[string]int, len(cfg.links))
	owner := make(map[string]string)
	sender := make(map[netip.Addr]outboundAddr)
	senderLink := make(map[netip.Addr]string)
	for _, l := range cfg.links {
		for _, oa := range l.outbound {
			if first, dup := sender[oa.addr]; dup {
				diags.add(oa.pos, Error, "link %s: outbound address %s is link %s's too (%s); an address leaves over one link, and receivers judge mail by the address it came from: give each link its own",
					l.Name, oa.addr, senderLink[oa.addr], first.pos)
				continue
			}
			sender[oa.addr], senderLink[oa.addr] = oa, l.Name
		}
		index[l.Name] = len(s.settings.Links)
		for _, addr := range l.Listen {
			if other, dup := owner[addr]; dup {
				diags.add(l.pos, Error, "link %s: listen address %s is already used by link %s", l.Name, addr, other)
				continue
			}
			owner[addr] = l.Name
			s.listenLink[addr] = index[l.Name]
		}
		s.settings.Links = append(s.settings.Links, l.Link)
	}
	return index
}

// buildZone assembles one zone's nodes and runs the checks that need only
// the zone itself. linkTTL caps the TTL link-mapped addresses answer with.
// spfTerms is what the spf helper's links term stands for.
func buildZone(pz *parsedZone, linkIndex map[string]int, linkTTL uint32, spfTerms []string, diags *Diagnostics) *zoneData {
	z := &zoneData{origin: pz.origin}
	apex := z.node(pz.origin)

	ns := &rrset{rtype: dns.TypeNS, ttl: pz.ttl}
	for _, n := range pz.ns {
		ns.rrs = append(ns.rrs, &dns.NS{Hdr: dns.RR_Header{Name: pz.origin, Rrtype: dns.TypeNS, Class: dns.ClassINET, Ttl: pz.ttl}, Ns: n.name})
	}
	ns.rrs = dedupe(ns.rrs, nil, diags)
	apex.sets = append(apex.sets, ns)

	seen := make(map[string]at)
	for _, o := range pz.owners {
		if p, dup := seen[o.name]; dup {
			diags.add(o.pos, Error, "name %s is written twice in zone %s (first at %s)", o.name, strings.TrimSuffix(pz.origin, "."), p)
			continue
		}
		seen[o.name] = o.pos
		z.addOwner(pz, o, linkIndex, linkTTL, spfTerms, diags)
	}
	for _, n := range z.nodes.all() {
		sort.Slice(n.sets, func(i, j int) bool { return n.sets[i].rtype < n.sets[j].rtype })
	}
	z.checkOcclusion(pz, diags)
	return z
}

// node returns the node for name, creating it and every empty non-terminal
// between it and the apex.
func (z *zoneData) node(name string) *node {
	if n := z.nodes.at(name); n != nil {
		return n
	}
	n := &node{name: name}
	z.nodes.set(name, n)
	if name != z.origin {
		z.node(parentName(name))
	}
	if strings.HasPrefix(name, "*.") {
		z.wildcard = true
	}
	return n
}

func (z *zoneData) addOwner(pz *parsedZone, o *parsedOwner, linkIndex map[string]int, linkTTL uint32, spfTerms []string, diags *Diagnostics) {
	ttl := pz.ownerTTL(o)
	byType := make(map[uint16][]parsedRecord)
	var order []uint16
	for _, rec := range o.records {
		t := rec.rr.Header().Rrtype
		if _, ok := byType[t]; !ok {
			order = append(order, t)
		}
		byType[t] = append(byType[t], rec)
	}
	isApex := o.name == pz.origin
	if recs, ok := byType[dns.TypeCNAME]; ok {
		switch {
		case isApex:
			diags.add(recs[0].pos, Error, "cname at the zone's apex: the apex holds SOA and NS, and a name with a CNAME may hold nothing else (RFC 1034 §3.6.2)")
		case len(order) > 1:
			var others []string
			for _, t := range order {
				if t != dns.TypeCNAME {
					others = append(others, strings.ToLower(dns.TypeToString[t]))
				}
			}
			diags.add(recs[0].pos, Error, "cname: %s also has %s; a name with a CNAME may hold nothing else (RFC 1034 §3.6.2)", o.name, strings.Join(others, ", "))
		}
	}
	if recs, ok := byType[dns.TypeNS]; ok && isApex {
		diags.add(recs[0].pos, Error, "ns at the apex: list the zone's name servers in its ns: key")
		delete(byType, dns.TypeNS)
	}
	if o.mxPublish != publishHealthy && byType[dns.TypeMX] == nil {
		diags.add(o.pos, Warning, "name %s: mx_publish has no effect without mx", o.name)
	}

	n := z.node(o.name)
	for _, t := range order {
		recs, ok := byType[t]
		if !ok {
			continue
		}
		set := &rrset{rtype: t, ttl: ttl, mode: o.linkMode, publish: o.mxPublish}
		if t == dns.TypeA || t == dns.TypeAAAA {
			set.addAddresses(recs, linkIndex, linkTTL, diags)
			if len(set.links) > 0 {
				z.linked = append(z.linked, linkedSet{owner: o.name, set: set})
			}
		} else {
			for _, rec := range recs {
				set.rrs = append(set.rrs, o.spfLinksRR(rec.rr, spfTerms))
			}
			set.rrs = dedupe(set.rrs, recs, diags)
		}
		if t == dns.TypeMX {
			z.mxSets = append(z.mxSets, set)
			sortMX(set.rrs)
			checkNullMX(set.rrs, recs, diags)
		}
		if t == dns.TypeNS {
			n.cut = true
			z.cuts = true
		}
		n.sets = append(n.sets, set)
	}
}

// addAddresses fills an A or AAAA set, keeping link-mapped addresses by link.
// Each link's list holds the very records of set.rrs, the union, so that an
// answer joining several links can drop repeats by identity.
// Link-mapped records carry the set's TTL capped at linkTTL, so that
// resolvers notice a failover soon; capping here rather than per answer
// spares a copy of every record in every answer. set.ttl stays as
// written: a secondary receives that (Records).
func (set *rrset) addAddresses(recs []parsedRecord, linkIndex map[string]int, linkTTL uint32, diags *Diagnostics) {
	if recs[0].link == "" {
		for _, rec := range recs {
			set.rrs = append(set.rrs, rec.rr)
		}
		set.rrs = dedupe(set.rrs, recs, diags)
		return
	}
	var union rrIndex
	perLink := make(map[int]*rrIndex)
	for _, rec := range recs {
		i, ok := linkIndex[rec.link]
		if !ok {
			declared := keyList(linkIndex)
			if declared == "" {
				declared = "none (add a links: section)"
			}
			diags.add(rec.linkPos, Error, "no link %q; declared links: %s", rec.link, declared)
			continue
		}
		if len(set.links) == 0 || set.links[len(set.links)-1].link != i {
			set.links = append(set.links, linkAddrs{link: i})
		}
		la := &set.links[len(set.links)-1]
		onLink := perLink[i]
		if onLink == nil {
			onLink = new(rrIndex)
			perLink[i] = onLink
		}
		if onLink.find(rec.rr) != nil {
			warnTwice(rec, diags)
			continue
		}
		rr := union.find(rec.rr)
		if rr == nil {
			rr = withTTL(rec.rr, min(set.ttl, linkTTL))
			union.add(rr)
			set.rrs = append(set.rrs, rr)
		}
		onLink.add(rr)
		la.rrs = append(la.rrs, rr)
	}
}

// withTTL is rr with ttl: rr itself when it has it, else a copy, since
// parsed records are shared between builds and never written.
func withTTL(rr dns.RR, ttl uint32) dns.RR {
	if rr.Header().Ttl == ttl {
		return rr
	}
	rr = dns.Copy(rr)
	rr.Header().Ttl = ttl
	return rr
}

// dedupe drops records written twice (an RRset is a set, RFC 2181 §5),
// warning at the repeat so that nothing disappears unannounced.
// An index of the set keeps this linear: a set of 20,000 addresses
// took seconds when each record was compared with every one before it.
func dedupe(rrs []dns.RR, recs []parsedRecord, diags *Diagnostics) []dns.RR {
	out := rrs[:0]
	var seen rrIndex
	for i, rr := range rrs {
		if seen.find(rr) != nil {
			if recs != nil {
				warnTwice(recs[i], diags)
			}
			continue
		}
		seen.add(rr)
		out = append(out, rr)
	}
	return out
}

func warnTwice(rec parsedRecord, diags *Diagnostics) {
	diags.add(rec.pos, Warning, "%s is written twice; it is served once", strings.ToLower(dns.TypeToString[rec.rr.Header().Rrtype]))
}

// sortMX orders MX records lowest preference first, keeping the written
// order among equals (rotation shares those at answer time).
func sortMX(rrs []dns.RR) {
	sort.SliceStable(rrs, func(i, j int) bool { return rrs[i].(*dns.MX).Preference < rrs[j].(*dns.MX).Preference })
}

// checkNullMX enforces RFC 7505: a null MX ("0;.") is the only MX of its name.
func checkNullMX(rrs []dns.RR, recs []parsedRecord, diags *Diagnostics) {
	for _, rec := range recs {
		mx := rec.rr.(*dns.MX)
		if mx.Mx != "." {
			continue
		}
		if mx.Preference != 0 {
			diags.add(rec.pos, Error, "mx \"%d;.\": a null MX is written \"0;.\" (RFC 7505)", mx.Preference)
		}
		if len(rrs) > 1 {
			diags.add(rec.pos, Error, "mx: a null MX (\"0;.\") must be the only MX of %s (RFC 7505)", mx.Hdr.Name)
		}
	}
}

// checkOcclusion warns about data below a delegation: the child zone
// answers for it, so only addresses (glue) are ever used.
func (z *zoneData) checkOcclusion(pz *parsedZone, diags *Diagnostics) {
	if !z.cuts {
		return
	}
	for _, o := range pz.owners {
		cut := z.cutAbove(o.name, false)
		n := z.nodes.at(o.name)
		if n == nil {
			continue
		}
		for _, set := range n.sets {
			switch {
			case cut != nil && set.rtype != dns.TypeA && set.rtype != dns.TypeAAAA:
				diags.add(o.pos, Warning, "name %s is below the delegation at %s: its %s is never served (only glue addresses are)", o.name, cut.name, strings.ToLower(dns.TypeToString[set.rtype]))
			case cut == nil && n.cut && set.rtype != dns.TypeNS && set.rtype != dns.TypeDS && set.rtype != dns.TypeA && set.rtype != dns.TypeAAAA:
				diags.add(o.pos, Warning, "name %s is a delegation point: its %s is never served (the child zone answers for it)", o.name, strings.ToLower(dns.TypeToString[set.rtype]))
			}
		}
	}
}

// cutAbove returns the highest delegation point on the way from the apex
// to name; with inclusive, name itself may be that point.
func (z *zoneData) cutAbove(name string, inclusive bool) *node {
	if !z.cuts || name == z.origin {
		return nil
	}
	var found *node
	for n := name; n != z.origin && n != ""; n = parentName(n) {
		if n == name && !inclusive {
			continue
		}
		if nd := z.nodes.at(n); nd != nil && nd.cut {
			found = nd
		}
	}
	return found
}
