package main

import (
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// allowance is one documented, RFC-justified way a reference server may
// answer differently from mxdns. applies reports whether it matches the
// query and, if so, rewrites the reduced replies (never in place) so that
// what remains is compared as usual. The list is kept minimal: each entry
// is limited to the references that differ, and names the RFC that leaves
// the choice open. Knot agrees with mxdns without any of them.
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
	zones []string
	// full is mxdns's reply to the same question over TCP with EDNS: the
	// complete answer, before anything was cut to fit a UDP size.
	full func() *reply
}

// trimmed reports whether the additional sections of both replies are
// parts of mxdns's complete one, cut because it outgrew the UDP size.
func (c *check) trimmed() bool {
	full := c.full()
	return full.err == nil && full.size > c.q.udpSize() && subset(c.got.extra, full.extra) && subset(c.want.extra, full.extra)
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
		id:   "authority-ns",
		refs: []string{"nsd"},
		reason: "NSD (without minimal-responses, whose NSD form also drops the MX/SRV additional data) adds the zone's NS RRset " +
			"to the authority section of positive answers, and their addresses to the additional section; that is optional " +
			"(RFC 1034 §6.2.1 shows a positive answer with empty authority and additional sections), and mxdns and Knot leave it out",
		applies: func(c *check) bool {
			got, want := c.got, c.want
			if want.rcode != dns.RcodeSuccess || len(want.answer) == 0 || len(want.ns) == 0 || len(got.ns) != 0 {
				return false
			}
			var targets []string
			for _, s := range want.ns {
				rr, err := dns.NewRR(s)
				ns, ok := rr.(*dns.NS)
				if err != nil || !ok {
					return false
				}
				targets = append(targets, strings.ToLower(ns.Ns))
			}
			want.ns = nil
			want.extra = slices.DeleteFunc(slices.Clone(want.extra), func(s string) bool {
				return !slices.Contains(got.extra, s) && slices.Contains(targets, ownerOf(s))
			})
			return true
		},
	},
	{
		id:   "any-rrset",
		refs: []string{"nsd"},
		reason: "RFC 8482 §4.1 lets a server answer ANY with any one RRset of the name: NSD picks its first in storage " +
			"(SOA at an apex), mxdns and Knot the lowest type number",
		applies: func(c *check) bool {
			got, want := c.got, c.want
			if c.q.qtype != dns.TypeANY || got.rcode != dns.RcodeSuccess || want.rcode != dns.RcodeSuccess ||
				!oneRRset(got.answer) || !oneRRset(want.answer) || slices.Equal(got.answer, want.answer) {
				return false
			}
			got.answer, got.extra = nil, nil
			want.answer, want.extra = nil, nil
			return true
		},
	},
	{
		id:   "additional-trimmed",
		refs: []string{"knot", "nsd"},
		reason: "when the additional section does not fit the UDP size, RFC 2181 §9 and RFC 9471 leave open which of its " +
			"records stay; the servers pack names a few octets differently, and equal-preference MX rotate, so each keeps " +
			"a different subset of the complete additional section",
		applies: func(c *check) bool {
			got, want := c.got, c.want
			if c.q.tcp || got.tc != want.tc || !slices.Equal(got.answer, want.answer) || !slices.Equal(got.ns, want.ns) ||
				slices.Equal(got.extra, want.extra) || !c.trimmed() {
				return false
			}
			got.extra, want.extra = nil, nil
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
			if c.q.tcp || !got.tc || want.tc || got.aa || len(got.answer) != 0 || !slices.Equal(got.ns, want.ns) || !c.trimmed() {
				return false
			}
			got.tc = false
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
			// Only when the name asked holds the CNAME.
			if (c.q.qtype != dns.TypeRRSIG && c.q.qtype != dns.TypeNSEC) || len(got.answer) != 0 ||
				!hasCNAME(want.answer, strings.ToLower(c.q.name)) {
				return false
			}
			want.rcode, want.answer, want.ns, want.extra = got.rcode, nil, got.ns, got.extra
			return true
		},
	},
	{
		id:   "cname-other-zone",
		refs: []string{"nsd"},
		reason: "NSD follows a CNAME into another zone it serves (RFC 1034 §4.3.2 step 3a restarts the search at step 2); " +
			"mxdns follows it within its zone only, as Knot does and as the issue asks, and the resolver follows the rest",
		applies: func(c *check) bool {
			got, want := c.got, c.want
			last := lastCNAME(got.answer)
			if last == nil || !subset(got.answer, want.answer) {
				return false
			}
			if to := c.zoneOf(strings.ToLower(last.Target)); to == "" || to == c.zoneOf(strings.ToLower(last.Hdr.Name)) {
				return false
			}
			// Compare the CNAME chain within the zone; what lies past it
			// comes from another zone and is for the resolver to fetch.
			want.answer = slices.Clone(got.answer)
			want.rcode, want.ns, want.extra = got.rcode, got.ns, got.extra
			return true
		},
	},
}

// lastCNAME returns the CNAME of answer whose target answer does not own.
func lastCNAME(answer []string) *dns.CNAME {
	owners := make(map[string]bool)
	var cnames []*dns.CNAME
	for _, s := range answer {
		rr, err := dns.NewRR(s)
		if err != nil {
			return nil
		}
		owners[strings.ToLower(rr.Header().Name)] = true
		if c, ok := rr.(*dns.CNAME); ok {
			cnames = append(cnames, c)
		}
	}
	for _, c := range cnames {
		if !owners[strings.ToLower(c.Target)] {
			return c
		}
	}
	return nil
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

func subset(a, b []string) bool {
	for _, s := range a {
		if !slices.Contains(b, s) {
			return false
		}
	}
	return true
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
