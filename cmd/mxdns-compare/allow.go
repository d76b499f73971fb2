package main

import (
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// allowance is one documented, RFC-justified way a reference server may
// answer differently from mxdns. applies reports whether the comparison
// is exactly the case its reason covers and, if so, rewrites the reduced
// replies (never in place) so that what remains is compared as usual:
// it replaces the reference's differing part with what the reference
// itself says when asked the question mxdns answered, never with mxdns's
// own sections. Each is limited to the references that differ; Knot needs
// only the two about trimming (additional-trimmed, glue-order-tc), where
// RFC 2181 §9 and RFC 9471 leave the choice of what to leave out open.
// docs/reference-comparison.md lists them with how often each is needed.
type allowance struct {
	id      string
	refs    []string // the references it applies to
	reason  string
	applies func(c *check) bool
}

// check is one comparison as an allowance sees it. got and want are
// copies: an allowance may replace their slices, never edit them in place.
type check struct {
	q     query
	got   *reply // mxdns
	want  *reply // the reference
	sent  *reply // mxdns's reply as it came, before any allowance
	zones []string
	// full and refFull are mxdns's and the reference's replies to the same
	// question over TCP with EDNS: the complete answers, before anything
	// was cut to fit a UDP size.
	full, refFull func() *reply
	// refAsk asks the reference another question, over TCP with EDNS.
	refAsk func(name string, qtype uint16) *reply
}

// zoneOf returns the origin of the served zone holding name, or "".
func (c *check) zoneOf(name string) string {
	best := ""
	for _, z := range c.zones {
		if dns.IsSubDomain(z, name) && dns.CountLabel(z) >= dns.CountLabel(best) {
			best = z
		}
	}
	return best
}

var allowed = []allowance{
	{
		id:   "any-rrset",
		refs: []string{"nsd"},
		reason: "RFC 8482 §4.1 lets a server answer ANY with any one RRset of the name: NSD picks its first in storage " +
			"(SOA at an apex), mxdns and Knot the lowest type number",
		applies: func(c *check) bool {
			got, want := c.got, c.want
			qname := strings.ToLower(c.q.name)
			if c.q.qtype != dns.TypeANY || got.rcode != dns.RcodeSuccess || want.rcode != dns.RcodeSuccess ||
				!oneRRset(got.answer) || !oneRRset(want.answer) || slices.Equal(got.answer, want.answer) ||
				ownerOf(got.answer[0]) != qname || ownerOf(want.answer[0]) != qname {
				return false
			}
			// The RRset mxdns chose, as the reference answers it when
			// asked for its type: owner, data and TTL must agree.
			typed := c.refAsk(c.q.name, typeOf(got.answer[0]))
			if typed.err != nil || typed.rcode != dns.RcodeSuccess || !slices.Equal(typed.answer, got.answer) {
				return false
			}
			want.answer, want.ns, want.extra = typed.answer, typed.ns, typed.extra
			return true
		},
	},
	{
		id:   "authority-ns",
		refs: []string{"nsd"},
		reason: "NSD (without minimal-responses, whose NSD form also drops the MX/SRV additional data) adds the zone's NS RRset " +
			"to the authority section of positive answers, and their addresses to the additional section; that is optional " +
			"(RFC 1034 §6.2.1 shows a positive answer with empty authority and additional sections), and mxdns and Knot leave it out",
		applies: func(c *check) bool {
			got, want := c.got, c.want
			if want.rcode != dns.RcodeSuccess || got.rcode != dns.RcodeSuccess || !want.aa || !got.aa ||
				len(want.answer) == 0 || len(want.ns) == 0 || len(got.ns) != 0 {
				return false
			}
			// Exactly the apex NS RRset of a served zone, as the
			// reference answers it: not a referral's NS, nor a SOA.
			apex := ownerOf(want.ns[0])
			if !slices.Contains(c.zones, apex) {
				return false
			}
			apexNS := c.refAsk(apex, dns.TypeNS)
			if apexNS.err != nil || !slices.Equal(apexNS.answer, want.ns) {
				return false
			}
			// Their addresses are left out only where no answer record
			// names the host: an MX, SRV or NS target's addresses stay.
			hosts := targetsOf(want.ns)
			named := append(targetsOf(want.answer), targetsOf(got.answer)...)
			want.ns = nil
			want.extra = slices.DeleteFunc(slices.Clone(want.extra), func(s string) bool {
				t := typeOf(s)
				return (t == dns.TypeA || t == dns.TypeAAAA) && slices.Contains(hosts, ownerOf(s)) && !slices.Contains(named, ownerOf(s))
			})
			return true
		},
	},
	{
		id:   "referral-glue-tc",
		refs: []string{"nsd"},
		reason: "RFC 9471 §3 requires TC on a referral whose in-domain glue does not all fit; mxdns and Knot set it, " +
			"NSD 4.6 (older than RFC 9471) does not",
		applies: func(c *check) bool {
			got, want := c.got, c.want
			if c.q.tcp || !got.tc || want.tc || !slices.Equal(got.answer, want.answer) || !slices.Equal(got.ns, want.ns) {
				return false
			}
			if full := c.full(); full.err != nil || !glueCut(got, full) {
				return false
			}
			got.tc = false
			return true
		},
	},
	{
		id:   "glue-order-tc",
		refs: []string{"knot"},
		reason: "RFC 9471 §3 requires all in-domain glue of a referral or TC, and makes sibling glue optional; mxdns " +
			"writes in-domain glue first, so it may fit all of it and need no TC where Knot, writing glue in NS order, " +
			"fills the space with sibling glue first, leaves in-domain glue out and sets TC",
		applies: func(c *check) bool {
			got, want := c.got, c.want
			if c.q.tcp || got.tc || !want.tc || !slices.Equal(got.answer, want.answer) || !slices.Equal(got.ns, want.ns) {
				return false
			}
			// Each sets TC exactly when its own choice left in-domain glue out.
			full, refFull := c.full(), c.refFull()
			if full.err != nil || refFull.err != nil || glueCut(got, full) || !glueCut(want, refFull) {
				return false
			}
			want.tc = false
			return true
		},
	},
	{
		id:   "additional-trimmed",
		refs: []string{"knot", "nsd"},
		reason: "when the additional section does not fit the UDP size, RFC 2181 §9 and RFC 9471 leave open which whole RRsets " +
			"of it stay; the servers pack names a few octets differently and order target addresses differently, so each " +
			"keeps a different choice of whole RRsets",
		applies: func(c *check) bool {
			got, want := c.got, c.want
			if c.q.tcp || !slices.Equal(got.answer, want.answer) || !slices.Equal(got.ns, want.ns) || slices.Equal(got.extra, want.extra) {
				return false
			}
			full, refFull, limit := c.full(), c.refFull(), c.q.udpSize()
			if full.err != nil || refFull.err != nil || got.size > limit || want.size > limit {
				return false
			}
			// mxdns keeps its complete additional section when it fits,
			// else whole RRsets in order of importance as long as they
			// fit (keptAsKnot), and sets TC exactly when RFC 9471 says.
			if !slices.Equal(got.extra, full.extra) && (sizeAsAsked(full, c.q) <= limit ||
				!wholeSets(got.extra, full.extra) || !keptAsKnot(got, full, limit)) {
				return false
			}
			if c.sent.tc != glueCut(c.sent, full) {
				return false
			}
			// The reference's complete answer (with whatever else it adds)
			// outgrew the size, and it kept whole RRsets of it.
			if sizeAsAsked(refFull, c.q) <= limit || !wholeSets(want.extra, refFull.extra) {
				return false
			}
			got.extra, want.extra = nil, nil
			return true
		},
	},
	{
		id:   "dnssec-beside-cname",
		refs: []string{"nsd"},
		reason: "RFC 4035 §2.5 lets RRSIG and NSEC live beside a CNAME, so mxdns, Knot and BIND answer a query for them " +
			"at the CNAME's name from that name (NODATA when unsigned); NSD follows the CNAME",
		applies: func(c *check) bool {
			got, want := c.got, c.want
			qname := strings.ToLower(c.q.name)
			// Only when the name asked holds the CNAME.
			if (c.q.qtype != dns.TypeRRSIG && c.q.qtype != dns.TypeNSEC) || got.rcode != dns.RcodeSuccess ||
				len(got.answer) != 0 || !hasCNAME(want.answer, qname) {
				return false
			}
			// The reference's NODATA for the same type at the apex gives
			// the zone's negative SOA as it writes it.
			neg := c.refAsk(c.zoneOf(qname), c.q.qtype)
			if neg.err != nil || neg.rcode != dns.RcodeSuccess || len(neg.answer) != 0 || len(neg.ns) != 1 || typeOf(neg.ns[0]) != dns.TypeSOA {
				return false
			}
			want.rcode, want.answer, want.ns, want.extra = dns.RcodeSuccess, nil, neg.ns, nil
			return true
		},
	},
	{
		id:   "cname-other-zone",
		refs: []string{"nsd"},
		reason: "NSD follows a CNAME into another zone it serves (RFC 1034 §4.3.2 step 3a restarts the search at step 2); " +
			"mxdns follows it within its zone only, as Knot does and as the issue asks, and the resolver follows the rest",
		applies: func(c *check) bool {
			want := c.want
			// The reference's chain from the name asked, up to the first
			// CNAME whose target lies in another served zone.
			name := strings.ToLower(c.q.name)
			from := c.zoneOf(name)
			var chain []string
			for {
				s := cnameOf(want.answer, name)
				if s == "" || len(chain) > 8 {
					return false
				}
				chain = append(chain, s)
				name = strings.ToLower(strings.Fields(s)[4])
				if to := c.zoneOf(name); to != from {
					if to == "" {
						return false
					}
					break
				}
			}
			// What lies past it is for the resolver to fetch: the answer
			// is the chain alone, NOERROR, nothing else ...
			slices.Sort(chain)
			// ... unless the target lies below a delegation of the zone
			// the chain started in: then mxdns (and Knot) add that
			// referral. The reference serves the child itself and never
			// shows the parent's copy of its NS and glue, so they are
			// checked against the child's apex NS and the name servers'
			// addresses as the reference answers them, all but the TTLs
			// (Knot, which answers with the referral, checks those).
			got, to := c.got, c.zoneOf(name)
			if !dns.IsSubDomain(from, to) {
				want.rcode, want.answer, want.ns, want.extra = dns.RcodeSuccess, chain, nil, nil
				return true
			}
			// The other zone is below the first, so the first delegates it.
			if len(got.ns) == 0 || ownerOf(got.ns[0]) != to {
				return false
			}
			cut := to
			apex := c.refAsk(cut, dns.TypeNS)
			if apex.err != nil {
				return false
			}
			var glue []string
			for _, host := range targetsOf(apex.answer) {
				if !dns.IsSubDomain(from, host) {
					continue // not in the zone the chain started in: no glue
				}
				for _, t := range []uint16{dns.TypeA, dns.TypeAAAA} {
					a := c.refAsk(host, t)
					if a.err != nil {
						return false
					}
					for _, s := range a.answer {
						if ownerOf(s) == host && typeOf(s) == t {
							glue = append(glue, s)
						}
					}
				}
			}
			want.rcode, want.answer = dns.RcodeSuccess, chain
			got.ns, got.extra = withoutTTL(got.ns), withoutTTL(got.extra)
			want.ns, want.extra = withoutTTL(apex.answer), withoutTTL(glue)
			return true
		},
	},
}

// withoutTTL is rrs with every TTL written as 0, sorted.
func withoutTTL(rrs []string) []string {
	out := make([]string, 0, len(rrs))
	for _, s := range rrs {
		f := strings.Fields(s)
		if len(f) > 1 {
			f[1] = "0"
		}
		out = append(out, strings.Join(f, " "))
	}
	slices.Sort(out)
	return out
}

// sizeAsAsked is r's size as the query would receive it: without the OPT
// r (asked with EDNS) carries when the query had none.
func sizeAsAsked(r *reply, q query) int {
	if q.edns || r.msg == nil || !r.opt {
		return r.size
	}
	m := r.msg.Copy()
	m.Extra = slices.DeleteFunc(m.Extra, func(rr dns.RR) bool { return rr.Header().Rrtype == dns.TypeOPT })
	return packedLen(m)
}

// setKey names the RRset of a record: owner and type.
func setKey(rr string) string {
	f := strings.Fields(rr)
	return f[0] + " " + f[3]
}

// sets groups a sorted section into RRsets, each sorted.
func sets(rrs []string) map[string][]string {
	out := make(map[string][]string)
	for _, s := range rrs {
		out[setKey(s)] = append(out[setKey(s)], s)
	}
	return out
}

// wholeSets reports whether every RRset of part is the whole RRset of
// full: RFC 2181 §9 lets an RRset be left out, never split.
func wholeSets(part, full []string) bool {
	fs := sets(full)
	for k, set := range sets(part) {
		if !slices.Equal(set, fs[k]) {
			return false
		}
	}
	return true
}

// missingSets returns the RRsets of full that part leaves out.
func missingSets(part, full []string) [][]string {
	ps := sets(part)
	var out [][]string
	for k, set := range sets(full) {
		if _, ok := ps[k]; !ok {
			out = append(out, set)
		}
	}
	return out
}

// referralCut returns the delegation r refers to (NS of one owner in
// authority, no answer but CNAMEs that led there), or "".
func referralCut(r *reply) string {
	if len(r.ns) == 0 {
		return ""
	}
	cut := ownerOf(r.ns[0])
	for _, s := range r.ns {
		if typeOf(s) != dns.TypeNS || ownerOf(s) != cut {
			return ""
		}
	}
	for _, s := range r.answer {
		if typeOf(s) != dns.TypeCNAME {
			return ""
		}
	}
	if len(r.answer) == 0 && r.aa {
		return ""
	}
	return cut
}

// glueCut reports whether r is a referral that leaves out in-domain glue
// (RFC 9471 §2.1) its complete form full has.
func glueCut(r, full *reply) bool {
	cut := referralCut(r)
	if cut == "" {
		return false
	}
	for _, set := range missingSets(r.extra, full.extra) {
		if dns.IsSubDomain(cut, ownerOf(set[0])) {
			return true
		}
	}
	return false
}

// importance orders the address RRsets of full as RFC 9471 and RFC 2181
// rank them for r: a referral's in-domain glue first, then the addresses
// of the hosts r names, in the order r names them (answer targets, then
// authority NS targets), A before AAAA. RRsets named by no host come last.
func importance(r, full *reply) []string {
	all := sets(full.extra)
	var hosts []string
	if r.msg != nil {
		var named []string
		for _, rr := range append(slices.Clone(r.msg.Answer), r.msg.Ns...) {
			named = append(named, targetsOf([]string{canonical(rr)})...)
		}
		for _, h := range named {
			if !slices.Contains(hosts, h) {
				hosts = append(hosts, h)
			}
		}
	}
	var in, out []string
	cut := referralCut(r)
	for _, h := range hosts {
		for _, t := range []string{"A", "AAAA"} {
			key := h + " " + t
			if _, ok := all[key]; !ok || slices.Contains(in, key) || slices.Contains(out, key) {
				continue
			}
			if cut != "" && dns.IsSubDomain(cut, h) {
				in = append(in, key)
			} else {
				out = append(out, key)
			}
		}
	}
	order := append(in, out...)
	var rest []string
	for key := range all {
		if !slices.Contains(order, key) {
			rest = append(rest, key)
		}
	}
	slices.Sort(rest)
	return append(order, rest...)
}

// keptAsKnot reports whether r's additional section is what the rule
// mxdns shares with Knot keeps of full's RRsets: in order of importance,
// each kept if it fits beside those kept before it, except that a host
// whose RRset did not fit is passed over (its AAAA not tried after its A).
func keptAsKnot(r, full *reply, limit int) bool {
	if r.msg == nil {
		return false
	}
	have, all := sets(r.extra), sets(full.extra)
	var before []string
	failed, seen := "", 0
	for _, key := range importance(r, full) {
		owner := strings.Fields(key)[0]
		if set, ok := have[key]; ok {
			if owner == failed {
				return false
			}
			before, seen = append(before, set...), seen+1
			continue
		}
		if owner == failed {
			continue
		}
		// Left out: it must not have fitted beside what came before.
		m := r.msg.Copy()
		m.Extra = slices.DeleteFunc(m.Extra, func(rr dns.RR) bool { return rr.Header().Rrtype != dns.TypeOPT })
		for _, s := range append(slices.Clone(before), all[key]...) {
			rr, err := dns.NewRR(s)
			if err != nil {
				return false
			}
			m.Extra = append(m.Extra, rr)
		}
		if packedLen(m) <= limit {
			return false
		}
		failed = owner
	}
	return seen == len(have) // nothing kept that full lacks
}

// targetsOf lists the host names MX, SRV and NS records of rrs name.
func targetsOf(rrs []string) []string {
	var out []string
	for _, s := range rrs {
		f := strings.Fields(s)
		switch {
		case len(f) == 5 && f[3] == "NS":
			out = append(out, f[4])
		case len(f) == 6 && f[3] == "MX":
			out = append(out, f[5])
		case len(f) == 8 && f[3] == "SRV":
			out = append(out, f[7])
		}
	}
	return out
}

// cnameOf returns the CNAME of answer owned by name, or "".
func cnameOf(answer []string, name string) string {
	for _, s := range answer {
		if f := strings.Fields(s); len(f) > 4 && f[0] == name && f[3] == "CNAME" {
			return s
		}
	}
	return ""
}

func typeOf(rr string) uint16 {
	f := strings.Fields(rr)
	if len(f) < 4 {
		return 0
	}
	return dns.StringToType[f[3]]
}

// hasCNAME reports whether answer holds a CNAME owned by name.
func hasCNAME(answer []string, name string) bool {
	for _, s := range answer {
		if f := strings.Fields(s); len(f) > 3 && f[0] == name && f[3] == "CNAME" {
			return true
		}
	}
	return false
}

// oneRRset reports whether rrs is one non-empty RRset: one owner, one type.
func oneRRset(rrs []string) bool {
	if len(rrs) == 0 {
		return false
	}
	first := strings.Fields(rrs[0])
	for _, s := range rrs[1:] {
		f := strings.Fields(s)
		if f[0] != first[0] || f[3] != first[3] {
			return false
		}
	}
	return true
}

func ownerOf(rr string) string {
	if i := strings.IndexAny(rr, " \t"); i > 0 {
		return rr[:i]
	}
	return rr
}
