package zone

import (
	"fmt"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// classlessForward is a forward zone with addresses inside the classless
// block 192.0.2.0/26 (ns1, mx1) and outside it (far), for the tests that
// add reverse zones to it.
const classlessForward = `
zones:
  example.com:
    ns: [ns1]
    records:
      "@": {mx: "10;mx1"}
      mx1: {a: 192.0.2.25}
      far: {a: 192.0.2.100}
      ns1: {a: 192.0.2.1}
`

// TestClasslessOutranksSlash24: when the /24 holding the RFC 2317 CNAMEs
// and the classless zone they lead into are both served, an address in the
// classless block gets its PTR there, where the CNAME leads, and one
// outside it in the /24.
func TestClasslessOutranksSlash24(t *testing.T) {
	snap, diags := FromYAML("test.yaml", []byte(classlessForward+`  192.0.2.0/24:
    ns: [ns1.example.com.]
    records:
      "1": {cname: 1.0-63.2.0.192.in-addr.arpa.}
      "25": {cname: 25.0-63.2.0.192.in-addr.arpa.}
  0-63.2.0.192.in-addr.arpa:
    ns: [ns1.example.com.]
`), nil)
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	for _, d := range diags {
		if strings.Contains(d.Msg, "no PTR") {
			t.Errorf("unexpected finding: %s", d)
		}
	}
	runLookups(t, snap, []lookupCase{
		{name: "in the classless zone", qname: "25.0-63.2.0.192.in-addr.arpa.", qtype: dns.TypePTR,
			answer: []string{"25.0-63.2.0.192.in-addr.arpa. 3600 IN PTR mx1.example.com."}},
		{name: "outside the classless block", qname: "100.2.0.192.in-addr.arpa.", qtype: dns.TypePTR,
			answer: []string{"100.2.0.192.in-addr.arpa. 3600 IN PTR far.example.com."}},
	})
}

// TestClasslessRange: a block named start/length never reaches past the
// last address of its /24.
func TestClasslessRange(t *testing.T) {
	for _, tc := range []struct {
		label  string
		lo, hi int
		ok     bool
	}{
		{"0-63", 0, 63, true},
		{"64/26", 64, 127, true},
		{"128/25", 128, 255, true},
		{"255/32", 255, 255, true},
		{"255/25", 0, 0, false},
		{"192/25", 0, 0, false},
		{"64-300", 0, 0, false},
		{"0/24", 0, 0, false},
		{"x/26", 0, 0, false},
		{"www", 0, 0, false},
	} {
		lo, hi, ok := classlessRange(tc.label)
		if ok != tc.ok || ok && (lo != tc.lo || hi != tc.hi) {
			t.Errorf("classlessRange(%q) = %d, %d, %v; want %d, %d, %v", tc.label, lo, hi, ok, tc.lo, tc.hi, tc.ok)
		}
	}
}

// Where the /24 is served and holds no CNAME at an address's name, a
// resolver asking for the PTR stays in the /24, whatever RFC 2317 zone
// covers the address: the PTR goes there, and one written there by hand
// counts, with the classless zone's auto_ptr off.
func TestPTRStaysInSlash24WithoutCNAME(t *testing.T) {
	const config = `
zones:
  example.com:
    ns: [ns1]
    records:
      "@": {mx: ["10;mx1", "20;mx2"]}
      mx1: {a: 192.0.2.25}
      mx2: {a: 192.0.2.26}
      ns1: {a: 192.0.2.1}
  192.0.2.0/24:
    ns: [ns1.example.com.]
    records:
      "1": {cname: 1.0-63.2.0.192.in-addr.arpa.}
      "26": {ptr: mx2.example.com.}
  0-63.2.0.192.in-addr.arpa:
    ns: [ns1.example.com.]
    auto_ptr: AUTO
`
	snap, diags := FromYAML("test.yaml", []byte(strings.Replace(config, "AUTO", "true", 1)), nil)
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	runLookups(t, snap, []lookupCase{
		{name: "generated in the /24", qname: "25.2.0.192.in-addr.arpa.", qtype: dns.TypePTR,
			answer: []string{"25.2.0.192.in-addr.arpa. 3600 IN PTR mx1.example.com."}},
		{name: "where the CNAME leads", qname: "1.0-63.2.0.192.in-addr.arpa.", qtype: dns.TypePTR,
			answer: []string{"1.0-63.2.0.192.in-addr.arpa. 3600 IN PTR ns1.example.com."}},
	})

	rrs, _ := snap.Records("0-63.2.0.192.in-addr.arpa")
	for _, rr := range rrs {
		if rr.Header().Name == "25.0-63.2.0.192.in-addr.arpa." {
			t.Errorf("PTR where no CNAME leads: %s", rr)
		}
	}

	_, diags = FromYAML("test.yaml", []byte(strings.Replace(config, "AUTO", "false", 1)), nil)
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	for _, d := range diags {
		if strings.Contains(d.Msg, "mx2") && strings.Contains(d.Msg, "no PTR") {
			t.Errorf("PTR written in the /24 not seen: %s", d)
		}
	}
}

// A CNAME leads the PTR wherever it points among our reverse zones; a
// name delegated away, or a CNAME leading out of our zones, is another
// server's to answer: no PTR is made, and none is asked for.
func TestPTRFollowsReverseData(t *testing.T) {
	snap, diags := FromYAML("test.yaml", []byte(`
zones:
  example.com:
    ns: [ns1]
    records:
      "@": {mx: ["10;mx1", "20;mx2", "30;mx3"]}
      mx1: {a: 192.0.2.25}
      mx2: {a: 192.0.2.26}
      mx3: {a: 192.0.2.27}
      ns1: {a: 198.51.100.1}
  192.0.2.0/24:
    ns: [ns1.example.com.]
    records:
      "25": {cname: 25.hosts.2.0.192.in-addr.arpa.}
      "26": {ns: [ns.example.net.]}
      "27": {cname: 27.rev.example.net.}
`), nil)
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	for _, d := range diags {
		if strings.Contains(d.Msg, "no PTR") {
			t.Errorf("unexpected finding: %s", d)
		}
	}
	runLookups(t, snap, []lookupCase{
		{name: "at the CNAME's target", qname: "25.hosts.2.0.192.in-addr.arpa.", qtype: dns.TypePTR,
			answer: []string{"25.hosts.2.0.192.in-addr.arpa. 3600 IN PTR mx1.example.com."}},
	})
	rrs, _ := snap.Records("2.0.192.in-addr.arpa")
	for _, rr := range rrs {
		if rr.Header().Rrtype == dns.TypePTR && rr.Header().Name != "25.hosts.2.0.192.in-addr.arpa." {
			t.Errorf("PTR where no resolver reaches it: %s", rr)
		}
	}
}

// When CNAMEs lead two addresses to one name, one PTR answers for both: its
// name is chosen among all the names holding either, the same every build.
func TestPTRForAddressesSharingAName(t *testing.T) {
	const config = `
zones:
  example.com:
    ns: [ns1]
    records:
      long-name: {a: 192.0.2.25}
      b: {a: 192.0.2.26}
      ns1: {a: 198.51.100.1}
  192.0.2.0/24:
    ns: [ns1.example.com.]
    records:
      "25": {cname: shared.2.0.192.in-addr.arpa.}
      "26": {cname: shared.2.0.192.in-addr.arpa.}
`
	for range 20 {
		snap, diags := FromYAML("test.yaml", []byte(config), nil)
		if err := diags.Err(); err != nil {
			t.Fatal(err)
		}
		runLookups(t, snap, []lookupCase{
			{name: "the shorter name", qname: "shared.2.0.192.in-addr.arpa.", qtype: dns.TypePTR,
				answer: []string{"shared.2.0.192.in-addr.arpa. 3600 IN PTR b.example.com."}},
		})
		if len(diags) != 1 || !strings.Contains(diags[0].Msg, "addresses 192.0.2.25, 192.0.2.26") {
			t.Fatalf("want one finding naming both addresses, got %v", diags)
		}
	}
}

// TestManyNamesOnOneAddress: a farm of names on one address gets one PTR,
// to the preferred name, and a warning that lists a few of them and
// counts the rest, not a line the size of the zone.
func TestManyNamesOnOneAddress(t *testing.T) {
	var b strings.Builder
	b.WriteString("zones:\n  example.com:\n    ns: [ns1.example.net.]\n    records:\n")
	for i := range 1000 {
		fmt.Fprintf(&b, "      host%03d: {a: 192.0.2.1}\n", i)
	}
	b.WriteString("      w: {a: 192.0.2.1}\n  192.0.2.0/24: {ns: [ns1.example.net.]}\n")
	snap, diags := FromYAML("c.yaml", []byte(b.String()), nil)
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	r := snap.Lookup(dns.Question{Name: "1.2.0.192.in-addr.arpa.", Qtype: dns.TypePTR, Qclass: dns.ClassINET}, Client{Link: NoLink})
	if len(r.Answer) != 1 || r.Answer[0].(*dns.PTR).Ptr != "w.example.com." {
		t.Errorf("PTR %v, want the shortest name, w.example.com.", r.Answer)
	}
	want := "address 192.0.2.1 is held by w.example.com. (c.yaml:1005:14), host000.example.com. (c.yaml:5:20), " +
		"host001.example.com. (c.yaml:6:20), host002.example.com. (c.yaml:7:20), host003.example.com. (c.yaml:8:20), and 996 more; " +
		"the generated PTR names w.example.com. (the shortest name)"
	if ws := diags.Warnings(); len(ws) != 1 || !strings.HasPrefix(ws[0].Msg, want) {
		t.Errorf("warnings %v\nwant one starting: %s", ws, want)
	}
}
