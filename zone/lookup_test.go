package zone

import (
	"fmt"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

const exampleConfig = `
zones:
  example.com:
    ttl: 3600
    soa: {serial: 2026112301, minimum: 300}
    ns: [ns1, ns2.example.net.]
    records:
      "@":
        mx: ["10;mx1", "20;mx2", "30;backup.example.net."]
        txt: ["v=spf1 mx -all"]
        a: 203.0.113.80
        caa: ['0 issue "letsencrypt.org"']
      mx1: {a: 203.0.113.25, aaaa: "2001:db8::25"}
      mx2: {a: [198.51.100.25]}
      ns1: {a: 203.0.113.53}
      www: {cname: "@"}
      chain: {cname: www}
      away: {cname: host.example.net.}
      dangling: {cname: nowhere}
      "*.dyn": {a: 203.0.113.99}
      "*.wild": {cname: mx1}
      deep.ent.below: {txt: hello}
      _submission._tcp: {srv: ["0 1 587 mx1"]}
      _imaps._tcp: {srv: ["0 1 993 mx1"], ttl: 600}
      pool: {a: [192.0.2.1, 192.0.2.2, 192.0.2.3]}
      sub: {ns: [ns.sub, ns.other.net.]}
      ns.sub: {a: 192.0.2.53}
      nomail: {mx: "0;."}
  2.0.192.in-addr.arpa:
    ns: [ns1.example.com.]
    soa: {serial: 7}
    records:
      "25": {ptr: mx1.example.com.}
`

const soaText = "example.com. 300 IN SOA ns1.example.com. hostmaster.example.com. 2026112301 3600 900 1209600 300"

type lookupCase struct {
	name   string
	qname  string
	qtype  uint16
	client *Client // nil: a query on no link's address, every link up
	rcode  int
	noAA   bool
	answer []string
	ns     []string
	extra  []string
}

func TestLookup(t *testing.T) {
	snap := mustSnapshot(t, exampleConfig)
	tests := []lookupCase{
		{name: "exact match", qname: "mx1.example.com.", qtype: dns.TypeA,
			answer: []string{"mx1.example.com. 3600 IN A 203.0.113.25"}},
		{name: "question case kept in answer owner", qname: "MX1.Example.COM.", qtype: dns.TypeAAAA,
			answer: []string{"MX1.Example.COM. 3600 IN AAAA 2001:db8::25"}},
		{name: "mx sorted with in-zone addresses in additional", qname: "example.com.", qtype: dns.TypeMX,
			answer: []string{
				"example.com. 3600 IN MX 10 mx1.example.com.",
				"example.com. 3600 IN MX 20 mx2.example.com.",
				"example.com. 3600 IN MX 30 backup.example.net.",
			},
			extra: []string{
				"mx1.example.com. 3600 IN A 203.0.113.25",
				"mx1.example.com. 3600 IN AAAA 2001:db8::25",
				"mx2.example.com. 3600 IN A 198.51.100.25",
			}},
		{name: "txt", qname: "example.com.", qtype: dns.TypeTXT,
			answer: []string{`example.com. 3600 IN TXT "v=spf1 mx -all"`}},
		{name: "caa", qname: "example.com.", qtype: dns.TypeCAA,
			answer: []string{`example.com. 3600 IN CAA 0 issue "letsencrypt.org"`}},
		{name: "soa at apex", qname: "example.com.", qtype: dns.TypeSOA,
			answer: []string{"example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. 2026112301 3600 900 1209600 300"}},
		{name: "ns at apex with in-zone address", qname: "example.com.", qtype: dns.TypeNS,
			answer: []string{"example.com. 3600 IN NS ns1.example.com.", "example.com. 3600 IN NS ns2.example.net."},
			extra:  []string{"ns1.example.com. 3600 IN A 203.0.113.53"}},
		{name: "nodata has soa with negative ttl", qname: "mx2.example.com.", qtype: dns.TypeAAAA,
			ns: []string{soaText}},
		{name: "nxdomain", qname: "nope.example.com.", qtype: dns.TypeA, rcode: dns.RcodeNameError,
			ns: []string{soaText}},
		{name: "empty non-terminal is nodata", qname: "ent.below.example.com.", qtype: dns.TypeA,
			ns: []string{soaText}},
		{name: "empty non-terminal above wildcard is nodata", qname: "dyn.example.com.", qtype: dns.TypeA,
			ns: []string{soaText}},
		{name: "cname followed in zone", qname: "www.example.com.", qtype: dns.TypeA,
			answer: []string{"www.example.com. 3600 IN CNAME example.com.", "example.com. 3600 IN A 203.0.113.80"}},
		{name: "cname chain", qname: "chain.example.com.", qtype: dns.TypeA,
			answer: []string{
				"chain.example.com. 3600 IN CNAME www.example.com.",
				"www.example.com. 3600 IN CNAME example.com.",
				"example.com. 3600 IN A 203.0.113.80",
			}},
		{name: "cname asked for", qname: "www.example.com.", qtype: dns.TypeCNAME,
			answer: []string{"www.example.com. 3600 IN CNAME example.com."}},
		{name: "cname out of zone stops", qname: "away.example.com.", qtype: dns.TypeA,
			answer: []string{"away.example.com. 3600 IN CNAME host.example.net."}},
		{name: "cname to missing name is nxdomain (RFC 6604)", qname: "dangling.example.com.", qtype: dns.TypeA,
			rcode:  dns.RcodeNameError,
			answer: []string{"dangling.example.com. 3600 IN CNAME nowhere.example.com."},
			ns:     []string{soaText}},
		{name: "cname then nodata", qname: "www.example.com.", qtype: dns.TypeSRV,
			answer: []string{"www.example.com. 3600 IN CNAME example.com."},
			ns:     []string{soaText}},
		{name: "wildcard synthesis", qname: "host.dyn.example.com.", qtype: dns.TypeA,
			answer: []string{"host.dyn.example.com. 3600 IN A 203.0.113.99"}},
		{name: "wildcard several labels deep", qname: "a.b.dyn.example.com.", qtype: dns.TypeA,
			answer: []string{"a.b.dyn.example.com. 3600 IN A 203.0.113.99"}},
		{name: "wildcard nodata", qname: "host.dyn.example.com.", qtype: dns.TypeMX,
			ns: []string{soaText}},
		{name: "wildcard cname", qname: "x.wild.example.com.", qtype: dns.TypeA,
			answer: []string{"x.wild.example.com. 3600 IN CNAME mx1.example.com.", "mx1.example.com. 3600 IN A 203.0.113.25"}},
		{name: "wildcard asked literally", qname: "*.dyn.example.com.", qtype: dns.TypeA,
			answer: []string{"*.dyn.example.com. 3600 IN A 203.0.113.99"}},
		{name: "wildcard does not cover existing sibling branch", qname: "x.deep.ent.below.example.com.", qtype: dns.TypeA,
			rcode: dns.RcodeNameError, ns: []string{soaText}},
		{name: "srv with target address", qname: "_submission._tcp.example.com.", qtype: dns.TypeSRV,
			answer: []string{"_submission._tcp.example.com. 3600 IN SRV 0 1 587 mx1.example.com."},
			extra:  []string{"mx1.example.com. 3600 IN A 203.0.113.25", "mx1.example.com. 3600 IN AAAA 2001:db8::25"}},
		{name: "owner ttl", qname: "_imaps._tcp.example.com.", qtype: dns.TypeSRV,
			answer: []string{"_imaps._tcp.example.com. 600 IN SRV 0 1 993 mx1.example.com."},
			extra:  []string{"mx1.example.com. 3600 IN A 203.0.113.25", "mx1.example.com. 3600 IN AAAA 2001:db8::25"}},
		{name: "referral at delegation", qname: "sub.example.com.", qtype: dns.TypeA, noAA: true,
			ns:    []string{"sub.example.com. 3600 IN NS ns.sub.example.com.", "sub.example.com. 3600 IN NS ns.other.net."},
			extra: []string{"ns.sub.example.com. 3600 IN A 192.0.2.53"}},
		{name: "referral below delegation", qname: "www.sub.example.com.", qtype: dns.TypeMX, noAA: true,
			ns:    []string{"sub.example.com. 3600 IN NS ns.sub.example.com.", "sub.example.com. 3600 IN NS ns.other.net."},
			extra: []string{"ns.sub.example.com. 3600 IN A 192.0.2.53"}},
		{name: "glue is not answered authoritatively", qname: "ns.sub.example.com.", qtype: dns.TypeA, noAA: true,
			ns:    []string{"sub.example.com. 3600 IN NS ns.sub.example.com.", "sub.example.com. 3600 IN NS ns.other.net."},
			extra: []string{"ns.sub.example.com. 3600 IN A 192.0.2.53"}},
		{name: "ds at delegation answered by parent", qname: "sub.example.com.", qtype: dns.TypeDS,
			ns: []string{soaText}},
		{name: "null mx", qname: "nomail.example.com.", qtype: dns.TypeMX,
			answer: []string{"nomail.example.com. 3600 IN MX 0 ."}},
		{name: "any gets one rrset", qname: "mx1.example.com.", qtype: dns.TypeANY,
			answer: []string{"mx1.example.com. 3600 IN A 203.0.113.25"}},
		{name: "any at cname gives the cname", qname: "www.example.com.", qtype: dns.TypeANY,
			answer: []string{"www.example.com. 3600 IN CNAME example.com."}},
		{name: "unknown type is nodata", qname: "mx1.example.com.", qtype: 666,
			ns: []string{soaText}},
		{name: "address rotation", qname: "pool.example.com.", qtype: dns.TypeA, client: &Client{Link: NoLink, Rotate: 1},
			answer: []string{"pool.example.com. 3600 IN A 192.0.2.2", "pool.example.com. 3600 IN A 192.0.2.3", "pool.example.com. 3600 IN A 192.0.2.1"}},
		{name: "reverse zone", qname: "25.2.0.192.in-addr.arpa.", qtype: dns.TypePTR,
			answer: []string{"25.2.0.192.in-addr.arpa. 3600 IN PTR mx1.example.com."}},
		{name: "name in no zone is refused", qname: "example.org.", qtype: dns.TypeA, rcode: dns.RcodeRefused, noAA: true},
		{name: "parent of a zone is refused", qname: "com.", qtype: dns.TypeNS, rcode: dns.RcodeRefused, noAA: true},
	}
	runLookups(t, snap, tests)
}

func runLookups(t *testing.T, snap *Snapshot, tests []lookupCase) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// A row's client is used as written: its zero value is a
			// query on wan1 with every link down, not "no link".
			client := Client{Link: NoLink}
			if tc.client != nil {
				client = *tc.client
			}
			res := snap.Lookup(dns.Question{Name: tc.qname, Qtype: tc.qtype, Qclass: dns.ClassINET}, client)
			if res.Rcode != tc.rcode {
				t.Errorf("rcode %s, want %s", dns.RcodeToString[res.Rcode], dns.RcodeToString[tc.rcode])
			}
			if res.Authoritative == tc.noAA {
				t.Errorf("authoritative %v, want %v", res.Authoritative, !tc.noAA)
			}
			compareSection(t, "answer", res.Answer, tc.answer)
			compareSection(t, "authority", res.Ns, tc.ns)
			compareSection(t, "additional", res.Extra, tc.extra)
		})
	}
}

func compareSection(t *testing.T, section string, got []dns.RR, want []string) {
	t.Helper()
	var g, w []string
	for _, rr := range got {
		g = append(g, rr.String())
	}
	for _, s := range want {
		rr, err := dns.NewRR(s)
		if err != nil {
			t.Fatalf("bad expected record %q: %v", s, err)
		}
		w = append(w, rr.String())
	}
	if strings.Join(g, "\n") != strings.Join(w, "\n") {
		t.Errorf("%s section:\n got:\n  %s\nwant:\n  %s", section, strings.Join(g, "\n  "), strings.Join(w, "\n  "))
	}
}

func mustSnapshot(t *testing.T, config string) *Snapshot {
	t.Helper()
	snap, diags := FromYAML("test.yaml", []byte(config), nil)
	if err := diags.Err(); err != nil {
		t.Fatalf("load: %v", err)
	}
	return snap
}

// TestRotationsEnumerateEveryAnswer checks the promise callers rely on to
// cache answers: Rotate r and r % Rotations give the same result.
func TestRotationsEnumerateEveryAnswer(t *testing.T) {
	snap := mustSnapshot(t, linkConfig)
	for _, q := range []struct {
		name string
		t    uint16
		want uint32
	}{
		{"www.example.com.", dns.TypeA, 3},
		{"shared.example.com.", dns.TypeMX, 2},
		{"ns1.example.com.", dns.TypeA, 1},
		{"example.com.", dns.TypeMX, 1},
	} {
		question := dns.Question{Name: q.name, Qtype: q.t, Qclass: dns.ClassINET}
		first := snap.Lookup(question, Client{Link: NoLink, Up: bothUp})
		if first.Rotations != q.want {
			t.Errorf("%s %s: Rotations %d, want %d", q.name, dns.TypeToString[q.t], first.Rotations, q.want)
			continue
		}
		for r := uint32(0); r < 3*first.Rotations; r++ {
			a := snap.Lookup(question, Client{Link: NoLink, Up: bothUp, Rotate: r})
			b := snap.Lookup(question, Client{Link: NoLink, Up: bothUp, Rotate: r % first.Rotations})
			if fmt.Sprint(a) != fmt.Sprint(b) {
				t.Errorf("%s: rotation %d differs from %d", q.name, r, r%first.Rotations)
			}
		}
	}
	if got := lcmBounded(4, 6); got != 12 {
		t.Errorf("lcm(4, 6) = %d", got)
	}
	if got := lcmBounded(60, 7); got != 0 {
		t.Errorf("lcm(60, 7) = %d, want 0 past the bound", got)
	}
}
