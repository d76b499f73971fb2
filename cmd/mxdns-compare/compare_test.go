package main

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/zone"
)

func msg(t *testing.T, rcode int, aa bool, answer, ns, extra []string) *reply {
	t.Helper()
	m := new(dns.Msg)
	m.Rcode, m.Authoritative = rcode, aa
	for _, sec := range []struct {
		in  []string
		out *[]dns.RR
	}{{answer, &m.Answer}, {ns, &m.Ns}, {extra, &m.Extra}} {
		for _, s := range sec.in {
			rr, err := dns.NewRR(s)
			if err != nil {
				t.Fatal(err)
			}
			*sec.out = append(*sec.out, rr)
		}
	}
	return reduce(m)
}

const (
	soa   = "example.com. 300 IN SOA ns1.example.com. hostmaster.example.com. 1 3600 900 1209600 300"
	nsRR  = "example.com. 3600 IN NS ns1.example.com."
	glue  = "ns1.example.com. 3600 IN A 192.0.2.53"
	aRR   = "www.example.com. 3600 IN A 192.0.2.1"
	aRR2  = "www.example.com. 3600 IN A 192.0.2.2"
	mxRR  = "example.com. 3600 IN MX 10 mx1.example.com."
	cname = "www.example.com. 3600 IN CNAME host.example.net."
)

func TestDifferences(t *testing.T) {
	base := msg(t, dns.RcodeSuccess, true, []string{aRR, aRR2}, nil, nil)
	tests := []struct {
		name string
		got  *reply
		want int // number of differences
	}{
		{"same", msg(t, dns.RcodeSuccess, true, []string{aRR, aRR2}, nil, nil), 0},
		{"order does not matter", msg(t, dns.RcodeSuccess, true, []string{aRR2, aRR}, nil, nil), 0},
		{"case of names does not matter", msg(t, dns.RcodeSuccess, true, []string{strings.ToUpper(aRR[:16]) + aRR[16:], aRR2}, nil, nil), 0},
		{"rcode", msg(t, dns.RcodeNameError, true, []string{aRR, aRR2}, nil, nil), 1},
		{"AA", msg(t, dns.RcodeSuccess, false, []string{aRR, aRR2}, nil, nil), 1},
		{"missing record", msg(t, dns.RcodeSuccess, true, []string{aRR}, nil, nil), 1},
		{"TTL", msg(t, dns.RcodeSuccess, true, []string{aRR, strings.Replace(aRR2, "3600", "300", 1)}, nil, nil), 2},
		{"extra section", msg(t, dns.RcodeSuccess, true, []string{aRR, aRR2}, []string{soa}, nil), 1},
		{"duplicate record", msg(t, dns.RcodeSuccess, true, []string{aRR, aRR2, aRR2}, nil, nil), 1},
		{"no reply", &reply{err: errors.New("timeout")}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d := differences(tt.got, base); len(d) != tt.want {
				t.Errorf("%d differences, want %d: %q", len(d), tt.want, d)
			}
		})
	}
	timeout := &reply{err: errors.New("timeout")}
	if d := differences(timeout, timeout); len(d) != 1 {
		t.Errorf("neither server answered: %q, want a difference", d)
	}
}

// world is a fake reference for allowance tests: its replies to the
// questions an allowance may ask, by "name type".
type world map[string]*reply

func (w world) ask(name string, qtype uint16) *reply {
	if r, ok := w[strings.ToLower(name)+" "+dns.TypeToString[qtype]]; ok {
		return r
	}
	return &reply{err: errors.New("not in the test world")}
}

// bigMX is an MX answer for example.com with n targets of two A records
// and one AAAA each, too large for 512 octets.
func bigMX(n int) (answer, extra []string) {
	for i := range n {
		h := fmt.Sprintf("mx%02d.example.com.", i)
		answer = append(answer, fmt.Sprintf("example.com. 3600 IN MX %d %s", 10+i, h))
		extra = append(extra, fmt.Sprintf("%s 3600 IN A 192.0.2.%d", h, i), fmt.Sprintf("%s 3600 IN A 192.0.2.%d", h, 100+i),
			fmt.Sprintf("%s 3600 IN AAAA 2001:db8::%d", h, i))
	}
	return answer, extra
}

// trimmed keeps, of extra in order, each RRset that fits limit after
// answer, ns and those kept before it, passing over a host whose RRset
// did not fit (mxdns's and Knot's rule); with split, the longest prefix of records that
// fits, as mxdns did before issue 22.
func trimmed(t *testing.T, rcode int, aa bool, answer, ns, extra []string, limit int, split bool) *reply {
	t.Helper()
	if split {
		n := 0
		for n < len(extra) && msg(t, rcode, aa, answer, ns, extra[:n+1]).size <= limit {
			n++
		}
		return msg(t, rcode, aa, answer, ns, extra[:n])
	}
	var groups [][]string
	for _, s := range extra {
		if n := len(groups); n > 0 && setKey(groups[n-1][0]) == setKey(s) {
			groups[n-1] = append(groups[n-1], s)
		} else {
			groups = append(groups, []string{s})
		}
	}
	var kept []string
	failed := ""
	for _, g := range groups {
		if owner := ownerOf(g[0]); owner == failed {
			continue
		} else if msg(t, rcode, aa, answer, ns, append(slices.Clone(kept), g...)).size > limit {
			failed = owner
			continue
		}
		kept = append(kept, g...)
	}
	return msg(t, rcode, aa, answer, ns, kept)
}

// TestAllowances checks each allowance on the difference it documents
// and on deliberately wrong mxdns replies that it must reject.
func TestAllowances(t *testing.T) {
	const (
		apexNS2  = "example.com. 3600 IN NS mx1.example.com."
		cutNS    = "child.example.com. 3600 IN NS ns1.child.example.com."
		cutNS2   = "child.example.com. 3600 IN NS ns.sibling.example.com."
		toChild  = "go.example.com. 3600 IN CNAME www.child.example.com."
		inZone   = "www.example.com. 3600 IN CNAME host.example.com."
		hostA    = "host.example.com. 3600 IN A 192.0.2.9"
		toOrg    = "www.example.com. 3600 IN CNAME host.example.org."
		orgA     = "host.example.org. 300 IN A 192.0.2.9"
		orgSOA   = "example.org. 300 IN SOA ns1.example.org. hostmaster.example.org. 1 3600 900 1209600 300"
		orgNS    = "example.org. 3600 IN NS mx1.example.org."
		orgMX    = "example.org. 3600 IN MX 10 mx1.example.org."
		orgMX1   = "mx1.example.org. 3600 IN A 192.0.2.25"
		soaShort = "example.com. 60 IN SOA ns1.example.com. hostmaster.example.com. 1 3600 900 1209600 300"
	)
	refs := world{
		"example.com. NS":   msg(t, 0, true, []string{nsRR}, nil, []string{glue}),
		"example.com. NSEC": msg(t, 0, true, nil, []string{soa}, nil),
		"example.org. NS":   msg(t, 0, true, []string{orgNS}, nil, []string{orgMX1}),
		// child.example.com is a zone the reference serves too.
		"child.example.com. NS":       msg(t, 0, true, []string{strings.Replace(cutNS, "3600", "1800", 1)}, nil, nil),
		"ns1.child.example.com. A":    msg(t, 0, true, []string{"ns1.child.example.com. 1800 IN A 192.0.2.54"}, nil, nil),
		"ns1.child.example.com. AAAA": msg(t, 0, true, nil, []string{soa}, nil),
	}
	mxAnswer, mxExtra := bigMX(11) // 512 octets end inside an RRset
	mxFull := msg(t, 0, true, mxAnswer, nil, mxExtra)
	mxFull.opt = true // asked with EDNS over TCP
	reversed := slices.Clone(mxExtra)
	slices.Reverse(reversed)
	// The first target's addresses left out, the next ones' kept.
	gapped := trimmed(t, 0, true, mxAnswer, nil, mxExtra[3:], 512, false)
	// A referral to child.example.com with 12 in-domain name servers.
	var refNS, refGlue []string
	for i := range 12 {
		h := fmt.Sprintf("name-server-%02d.child.example.com.", i)
		refNS = append(refNS, "child.example.com. 3600 IN NS "+h)
		refGlue = append(refGlue, fmt.Sprintf("%s 3600 IN A 192.0.2.%d", h, i), fmt.Sprintf("%s 3600 IN AAAA 2001:db8::%d", h, i))
	}
	refFull := msg(t, 0, false, nil, refNS, refGlue)
	withTC := func(r *reply) *reply { c := *r; c.tc = true; return &c }
	// A referral with sibling glue only.
	var sibNS, sibGlue []string
	for i := range 12 {
		h := fmt.Sprintf("name-server-%02d.example.com.", i)
		sibNS = append(sibNS, "child.example.com. 3600 IN NS "+h)
		sibGlue = append(sibGlue, fmt.Sprintf("%s 3600 IN A 192.0.2.%d", h, i), fmt.Sprintf("%s 3600 IN AAAA 2001:db8::%d", h, i))
	}
	sibFull := msg(t, 0, false, nil, sibNS, sibGlue)
	// A referral with 6 sibling name servers, then 4 in the child.
	mixNS := append(slices.Clone(sibNS[:6]), refNS[:4]...)
	mixFull := msg(t, 0, false, nil, mixNS, append(slices.Clone(sibGlue[:12]), refGlue[:8]...))
	inFirst := trimmed(t, 0, false, nil, mixNS, append(slices.Clone(refGlue[:8]), sibGlue[:12]...), 512, false)
	sibFirst := trimmed(t, 0, false, nil, mixNS, append(slices.Clone(sibGlue[:12]), refGlue[:8]...), 512, false)
	if glueCut(inFirst, mixFull) || !glueCut(sibFirst, mixFull) {
		t.Fatal("the mixed referral does not show the glue order")
	}
	// The reference adds 2 NS hosts' addresses: its complete answer
	// outgrows 512 octets where mxdns's fits.
	fitAnswer, fitExtra := bigMX(6)
	fitFull := msg(t, 0, true, fitAnswer, nil, fitExtra)
	nsdAnswer := msg(t, 0, true, fitAnswer, []string{nsRR}, append(slices.Clone(fitExtra), glue, "ns1.example.com. 3600 IN AAAA 2001:db8::53"))
	if fitFull.size > 512 || nsdAnswer.size <= 512 {
		t.Fatalf("sizes %d and %d do not straddle 512", fitFull.size, nsdAnswer.size)
	}
	nsdTrimmed := trimmed(t, 0, true, fitAnswer, []string{nsRR}, append([]string{glue, "ns1.example.com. 3600 IN AAAA 2001:db8::53"}, fitExtra...), 512, false)

	tests := []struct {
		name       string
		q          query
		got, want  *reply
		full, rful *reply // mxdns's and the reference's complete replies
		pass       string // the allowance it needs, "" when it must fail
	}{
		{"authority NS", query{name: "www.example.com.", qtype: dns.TypeA}, msg(t, 0, true, []string{aRR}, nil, nil),
			msg(t, 0, true, []string{aRR}, []string{nsRR}, []string{glue}), nil, nil, "authority-ns"},
		{"authority NS: wrong answer", query{name: "www.example.com.", qtype: dns.TypeA}, msg(t, 0, true, []string{aRR2}, nil, nil),
			msg(t, 0, true, []string{aRR}, []string{nsRR}, []string{glue}), nil, nil, ""},
		{"authority NS: referral dropped after a CNAME", query{name: "go.example.com.", qtype: dns.TypeA},
			msg(t, 0, true, []string{toChild}, nil, nil), msg(t, 0, true, []string{toChild}, []string{cutNS}, nil), nil, nil, ""},
		{"authority NS: NS set not the zone's", query{name: "www.example.com.", qtype: dns.TypeA}, msg(t, 0, true, []string{aRR}, nil, nil),
			msg(t, 0, true, []string{aRR}, []string{apexNS2}, nil), nil, nil, ""},
		{"authority NS: MX target that is an NS host keeps its address", query{name: "example.org.", qtype: dns.TypeMX},
			msg(t, 0, true, []string{orgMX}, nil, []string{orgMX1}), msg(t, 0, true, []string{orgMX}, []string{orgNS}, []string{orgMX1}), nil, nil, "authority-ns"},
		{"authority NS: MX target that is an NS host loses its address", query{name: "example.org.", qtype: dns.TypeMX},
			msg(t, 0, true, []string{orgMX}, nil, nil), msg(t, 0, true, []string{orgMX}, []string{orgNS}, []string{orgMX1}), nil, nil, ""},

		{"ANY picks another RRset", query{name: "example.com.", qtype: dns.TypeANY}, msg(t, 0, true, []string{nsRR}, nil, []string{glue}),
			msg(t, 0, true, []string{soa}, nil, nil), nil, nil, "any-rrset"},
		{"ANY with nothing", query{name: "example.com.", qtype: dns.TypeANY}, msg(t, 0, true, nil, []string{soa}, nil),
			msg(t, 0, true, []string{soa}, nil, nil), nil, nil, ""},
		{"ANY: wrong TTL", query{name: "example.com.", qtype: dns.TypeANY},
			msg(t, 0, true, []string{strings.Replace(nsRR, "3600", "300", 1)}, nil, []string{glue}), msg(t, 0, true, []string{soa}, nil, nil), nil, nil, ""},
		{"ANY: another name's RRset", query{name: "example.com.", qtype: dns.TypeANY}, msg(t, 0, true, []string{aRR}, nil, nil),
			msg(t, 0, true, []string{soa}, nil, nil), nil, nil, ""},

		{"additional trimmed, each its own way", query{name: "example.com.", qtype: dns.TypeMX},
			trimmed(t, 0, true, mxAnswer, nil, mxExtra, 512, false), trimmed(t, 0, true, mxAnswer, nil, reversed, 512, false),
			mxFull, mxFull, "additional-trimmed"},
		{"additional trimmed: RRset split", query{name: "example.com.", qtype: dns.TypeMX},
			trimmed(t, 0, true, mxAnswer, nil, mxExtra, 512, true), trimmed(t, 0, true, mxAnswer, nil, reversed, 512, false),
			mxFull, mxFull, ""},
		{"additional trimmed: less than fits", query{name: "example.com.", qtype: dns.TypeMX},
			trimmed(t, 0, true, mxAnswer, nil, mxExtra, 400, false), trimmed(t, 0, true, mxAnswer, nil, reversed, 512, false),
			mxFull, mxFull, ""},
		{"additional trimmed: an RRset kept after one left out", query{name: "example.com.", qtype: dns.TypeMX},
			gapped, trimmed(t, 0, true, mxAnswer, nil, reversed, 512, false), mxFull, mxFull, ""},
		{"additional trimmed: TC without cause", query{name: "example.com.", qtype: dns.TypeMX},
			withTC(trimmed(t, 0, true, mxAnswer, nil, mxExtra, 512, false)), withTC(trimmed(t, 0, true, mxAnswer, nil, reversed, 512, false)),
			mxFull, mxFull, ""},
		{"additional trimmed: nothing needed cutting", query{name: "example.com.", qtype: dns.TypeMX},
			msg(t, 0, true, []string{mxRR}, nil, nil), msg(t, 0, true, []string{mxRR}, nil, []string{glue}),
			msg(t, 0, true, []string{mxRR}, nil, []string{glue}), msg(t, 0, true, []string{mxRR}, nil, []string{glue}), ""},

		{"additional trimmed by the reference only", query{name: "example.com.", qtype: dns.TypeMX},
			fitFull, nsdTrimmed, fitFull, nsdAnswer, "authority-ns"}, // and additional-trimmed
		{"additional trimmed by the reference only: mxdns lost a record", query{name: "example.com.", qtype: dns.TypeMX},
			msg(t, 0, true, fitAnswer, nil, fitExtra[1:]), nsdTrimmed, fitFull, nsdAnswer, ""},

		{"glue order: in-domain first needs no TC", query{name: "www.child.example.com.", qtype: dns.TypeA},
			inFirst, withTC(sibFirst), mixFull, mixFull, "glue-order-tc"},
		{"glue order: in-domain glue left out without TC", query{name: "www.child.example.com.", qtype: dns.TypeA},
			sibFirst, withTC(sibFirst), mixFull, mixFull, ""},

		{"additional: the reference drops a record from an answer that fits", query{name: "example.com.", qtype: dns.TypeMX},
			msg(t, 0, true, []string{mxRR}, nil, []string{glue}), msg(t, 0, true, []string{mxRR}, nil, nil),
			msg(t, 0, true, []string{mxRR}, nil, []string{glue}), msg(t, 0, true, []string{mxRR}, nil, []string{glue}), ""},

		{"referral glue cut: NSD without TC", query{name: "www.child.example.com.", qtype: dns.TypeA},
			withTC(trimmed(t, 0, false, nil, refNS, refGlue, 512, false)), trimmed(t, 0, false, nil, refNS, refGlue, 512, false),
			refFull, refFull, "referral-glue-tc"},
		{"referral glue cut: TC for sibling glue", query{name: "www.child.example.com.", qtype: dns.TypeA},
			withTC(trimmed(t, 0, false, nil, sibNS, sibGlue, 512, false)), trimmed(t, 0, false, nil, sibNS, sibGlue, 512, false),
			sibFull, sibFull, ""},

		{"RRSIG beside a CNAME", query{name: "www.example.com.", qtype: dns.TypeNSEC}, msg(t, 0, true, nil, []string{soa}, nil),
			msg(t, 0, true, []string{inZone}, []string{soa}, nil), nil, nil, "dnssec-beside-cname"},
		{"RRSIG beside a CNAME: NXDOMAIN", query{name: "www.example.com.", qtype: dns.TypeNSEC}, msg(t, dns.RcodeNameError, true, nil, []string{soa}, nil),
			msg(t, 0, true, []string{inZone}, []string{soa}, nil), nil, nil, ""},
		{"RRSIG beside a CNAME: wrong SOA", query{name: "www.example.com.", qtype: dns.TypeNSEC}, msg(t, 0, true, nil, []string{soaShort}, nil),
			msg(t, 0, true, []string{inZone, hostA}, nil, nil), nil, nil, ""},

		{"CNAME into another served zone", query{name: "www.example.com.", qtype: dns.TypeA}, msg(t, 0, true, []string{toOrg}, nil, nil),
			msg(t, 0, true, []string{toOrg, orgA}, nil, nil), nil, nil, "cname-other-zone"},
		{"CNAME into another served zone, NXDOMAIN there", query{name: "www.example.com.", qtype: dns.TypeA}, msg(t, 0, true, []string{toOrg}, nil, nil),
			msg(t, dns.RcodeNameError, true, []string{toOrg}, []string{orgSOA}, nil), nil, nil, "cname-other-zone"},
		{"CNAME into another served zone: wrong rcode", query{name: "www.example.com.", qtype: dns.TypeA},
			msg(t, dns.RcodeNameError, true, []string{toOrg}, []string{orgSOA}, nil), msg(t, 0, true, []string{toOrg, orgA}, nil, nil), nil, nil, ""},
		{"CNAME into another served zone: authority copied", query{name: "www.example.com.", qtype: dns.TypeA},
			msg(t, 0, true, []string{toOrg}, []string{soa}, nil), msg(t, 0, true, []string{toOrg, orgA}, nil, nil), nil, nil, ""},
		{"CNAME into a delegation of another served zone", query{name: "go.example.com.", qtype: dns.TypeA},
			msg(t, 0, true, []string{toChild}, []string{cutNS}, []string{"ns1.child.example.com. 3600 IN A 192.0.2.54"}),
			msg(t, 0, true, []string{toChild, "www.child.example.com. 1800 IN A 192.0.2.80"}, nil, nil), nil, nil, "cname-other-zone"},
		{"CNAME into a delegation of another served zone: wrong glue", query{name: "go.example.com.", qtype: dns.TypeA},
			msg(t, 0, true, []string{toChild}, []string{cutNS}, []string{"ns1.child.example.com. 3600 IN A 192.0.2.55"}),
			msg(t, 0, true, []string{toChild, "www.child.example.com. 1800 IN A 192.0.2.80"}, nil, nil), nil, nil, ""},
		{"CNAME into a delegation of another served zone: NS of another cut", query{name: "go.example.com.", qtype: dns.TypeA},
			msg(t, 0, true, []string{toChild}, []string{cutNS2}, nil),
			msg(t, 0, true, []string{toChild, "www.child.example.com. 1800 IN A 192.0.2.80"}, nil, nil), nil, nil, ""},
		{"CNAME out of every zone is compared", query{name: "www.example.com.", qtype: dns.TypeA},
			msg(t, 0, true, []string{cname}, nil, nil), msg(t, 0, true, []string{cname, "host.example.net. 300 IN A 192.0.2.9"}, nil, nil), nil, nil, ""},
	}
	for _, tt := range tests {
		for _, ref := range []string{"knot", "nsd"} {
			t.Run(tt.name+"/"+ref, func(t *testing.T) {
				g, w := *tt.got, *tt.want
				full := func() *reply { return cmp.Or(tt.full, &reply{err: errors.New("no full reply")}) }
				rfull := func() *reply { return cmp.Or(tt.rful, &reply{err: errors.New("no full reply")}) }
				c := &check{q: tt.q, got: &g, want: &w, sent: tt.got, zones: []string{"example.com.", "example.org.", "child.example.com."}, full: full, refFull: rfull, refAsk: refs.ask}
				applied := allow(c, ref)
				d := differences(&g, &w)
				a := allowanceByID(tt.pass)
				want := tt.pass != "" && a != nil && slices.Contains(a.refs, ref)
				if (len(d) == 0) != want || want && !slices.Contains(applied, tt.pass) {
					t.Errorf("needed %q, differences after allowances: %q; want pass %v (by %q)", applied, d, want, tt.pass)
				}
			})
		}
	}
}

func allowanceByID(id string) *allowance {
	for i := range allowed {
		if allowed[i].id == id {
			return &allowed[i]
		}
	}
	return nil
}

func TestRewriteConfig(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(src, []byte("listen: [\"127.0.0.1:5353\"]\nzone_files: [\"zones/*.yaml\"]\nzones: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "out.yaml")
	if err := rewriteConfig(src, dst); err != nil {
		t.Fatal(err)
	}
	out, _ := os.ReadFile(dst)
	if !strings.Contains(string(out), "127.0.0.1:0") || strings.Contains(string(out), "127.0.0.1:5353") ||
		!strings.Contains(string(out), filepath.Join(dir, "zones/*.yaml")) {
		t.Errorf("rewritten config:\n%s", out)
	}
	if err := os.WriteFile(src, []byte("links: []\nzones: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := rewriteConfig(src, dst); err == nil || !strings.Contains(err.Error(), "links") {
		t.Errorf("config with links: %v, want an error naming links", err)
	}
}

func TestGenerateQueries(t *testing.T) {
	snap, diags := zone.FromYAML("test.yaml", []byte(`
zones:
  example.com:
    ns: [ns1]
    records:
      ns1: {a: 192.0.2.53}
      "*.dyn": {a: 192.0.2.99}
      deep.ent: {txt: x}
      sub: {ns: [ns1]}
`), nil)
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	seen := make(map[string]bool)
	for _, q := range generateQueries(snap) {
		seen[q.name] = true
	}
	for _, name := range []string{
		"example.com.", "ExAmPlE.cOm.", "ent.example.com.", "w1.dyn.example.com.", "zz-nx.sub.example.com.",
		"zz-nx.example.com.", "ns1-zz.example.com.", "com.", "example.invalid.",
	} {
		if !seen[name] {
			t.Errorf("no query for %s", name)
		}
	}
}
