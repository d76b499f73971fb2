package zone

import (
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
