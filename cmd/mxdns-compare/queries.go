package main

import (
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/zone"
)

// query is one question and how it is sent.
type query struct {
	name  string
	qtype uint16
	tcp   bool
	edns  bool
	size  uint16 // the EDNS size asked for, 0 for ednsSize
}

// full is the same question over TCP with EDNS: the complete answer,
// before anything is cut to fit a UDP size.
func (q query) full() query { return query{name: q.name, qtype: q.qtype, tcp: true, edns: true} }

// ednsSize is the EDNS UDP size the query advertises.
func (q query) ednsSize() uint16 {
	if q.size != 0 {
		return q.size
	}
	return ednsSize
}

func (q query) String() string {
	transport, edns := "udp", "noedns"
	if q.tcp {
		transport = "tcp"
	}
	if q.edns {
		edns = "edns"
		if q.size != 0 {
			edns += strconv.Itoa(int(q.size))
		}
	}
	return q.name + " " + typeString(q.qtype) + " " + transport + " " + edns
}

// udpSize is the largest UDP reply the query may get: its EDNS size, which
// the servers cap at the 1232 they advertise, or 512 without EDNS.
func (q query) udpSize() int {
	if q.edns {
		return min(max(int(q.ednsSize()), dns.MinMsgSize), serverSize)
	}
	return dns.MinMsgSize
}

// serverSize is the UDP size Knot (max-udp-payload), NSD (ipv4-edns-size)
// and mxdns send at most.
const serverSize = 1232

// sizedTypes are also asked over UDP with EDNS sizes 512 and 4096: the
// answers whose additional data (glue, MX and SRV target addresses) may
// not fit, and A, which a referral or CNAME into a delegation answers.
var sizedTypes = []uint16{dns.TypeA, dns.TypeMX, dns.TypeSRV, dns.TypeNS, dns.TypeANY}

func typeString(t uint16) string {
	if s, ok := dns.TypeToString[t]; ok {
		return s
	}
	return "TYPE" + strconv.Itoa(int(t))
}

// baseTypes are asked at every name, besides the types present there.
var baseTypes = []uint16{
	dns.TypeA, dns.TypeAAAA, dns.TypeMX, dns.TypeTXT, dns.TypeSRV, dns.TypeNS, dns.TypeSOA,
	dns.TypeCNAME, dns.TypePTR, dns.TypeCAA, dns.TypeTLSA, dns.TypeANY, dns.TypeDS, 666,
	// Types mxdns never holds: DNSSEC records of an unsigned zone, HTTPS.
	dns.TypeDNSKEY, dns.TypeRRSIG, dns.TypeNSEC, dns.TypeHTTPS,
}

// generateQueries derives the query set from the zones: every owner name
// and every empty non-terminal, names below and beside each (nonexistent,
// wildcard-matched, under a delegation), a mixed-case variant, and names
// in no zone; each with the base types and the types present at the name,
// over UDP and TCP, with and without EDNS.
func generateQueries(snap *zone.Snapshot) []query {
	names := make(map[string]map[uint16]bool)
	add := func(name string, types ...uint16) {
		name = dns.Fqdn(name)
		if _, ok := dns.IsDomainName(name); !ok || len(name) > 254 {
			return
		}
		if names[name] == nil {
			names[name] = make(map[uint16]bool)
		}
		for _, t := range baseTypes {
			names[name][t] = true
		}
		for _, t := range types {
			names[name][t] = true
		}
	}
	origins := make(map[string]bool)
	for _, zi := range snap.Zones() {
		origins[zi.Origin] = true
	}
	for _, zi := range snap.Zones() {
		rrs, _ := snap.Records(zi.Origin)
		owners := make(map[string][]uint16)
		for _, rr := range rrs {
			h := rr.Header()
			owners[h.Name] = append(owners[h.Name], h.Rrtype)
			// Every name between an owner and the apex: empty non-terminals.
			for n := parent(h.Name); n != "" && dns.IsSubDomain(zi.Origin, n); n = parent(n) {
				if _, ok := owners[n]; !ok {
					owners[n] = nil
				}
			}
		}
		for owner, types := range owners {
			add(owner, types...)
			add(mixedCase(owner), types...)
			add("zz-nx." + owner)     // nonexistent child, or wildcard-matched
			add("a.b.zz-nx." + owner) // deeper still
			if strings.HasPrefix(owner, "*.") {
				add("w1" + owner[1:])
				add("W2.deep"+owner[1:], types...)
			}
			if owner != zi.Origin {
				labels := dns.SplitDomainName(owner)
				add(labels[0] + "-zz." + strings.Join(labels[1:], ".")) // beside
			}
		}
		if p := parent(zi.Origin); p != "" && !origins[p] {
			add(p) // above the zone: in no zone unless a parent is served
		}
	}
	add("example.invalid.")
	add("mxdns-compare.test.")

	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	var out []query
	for _, n := range sorted {
		types := make([]uint16, 0, len(names[n]))
		for t := range names[n] {
			types = append(types, t)
		}
		sort.Slice(types, func(i, j int) bool { return types[i] < types[j] })
		for _, t := range types {
			for _, tcp := range []bool{false, true} {
				for _, edns := range []bool{false, true} {
					out = append(out, query{name: n, qtype: t, tcp: tcp, edns: edns})
				}
			}
			if slices.Contains(sizedTypes, t) {
				for _, size := range []uint16{dns.MinMsgSize, 4096} {
					out = append(out, query{name: n, qtype: t, edns: true, size: size})
				}
			}
		}
	}
	return out
}

func parent(name string) string {
	if name == "." {
		return ""
	}
	off, end := dns.NextLabel(name, 0)
	if end {
		return "."
	}
	return name[off:]
}

// mixedCase alternates the case of the letters of name.
func mixedCase(name string) string {
	b := []byte(name)
	up := true
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			if up {
				b[i] = c - 'a' + 'A'
			}
			up = !up
		}
	}
	return string(b)
}

// ednsSize is the UDP size our EDNS queries advertise, as dig and most
// resolvers do since DNS Flag Day 2020.
const ednsSize = 1232
