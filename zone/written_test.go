package zone

import (
	"fmt"
	"testing"

	"github.com/miekg/dns"
)

// A record written by hand or made by a helper is found at the key that
// wrote it; what the server makes itself is not.
func TestWrittenAt(t *testing.T) {
	snap, diags := FromYAML("config.yaml", []byte(`
zones:
  example.com:
    ns: [ns1]
    records:
      "@":
        mx: ["10;mx1", "20;mx2"]
        spf: "mx -all"
        dmarc: {p: reject}
      mx1: {a: {wan1: 192.0.2.25}, aaaa: "2001:db8::25"}
      mx2: {a: 192.0.2.26}
      ns1: {a: 192.0.2.1}
  192.0.2.0/24:
    ns: [ns1.example.com.]
links:
  wan1: {state: up}
`), nil)
	if diags.Err() != nil {
		t.Fatal(diags.Err())
	}
	at := func(name string, rrtype uint16) []string {
		var out []string
		for _, w := range snap.WrittenAt(name, rrtype) {
			out = append(out, w.RR.String()+fmt.Sprintf(" @%d:%d", w.Line, w.Col))
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		qtype uint16
		want  []string
	}{
		{"Example.COM", dns.TypeMX, []string{"example.com.\t3600\tIN\tMX\t10 mx1.example.com. @7:14", "example.com.\t3600\tIN\tMX\t20 mx2.example.com. @7:24"}},
		{"example.com.", dns.TypeTXT, []string{"example.com.\t3600\tIN\tTXT\t\"v=spf1 mx -all\" @8:9"}},
		{"_dmarc.example.com", dns.TypeTXT, []string{"_dmarc.example.com.\t3600\tIN\tTXT\t\"v=DMARC1; p=reject\" @9:9"}},
		{"mx1.example.com", dns.TypeANY, []string{"mx1.example.com.\t3600\tIN\tA\t192.0.2.25 @10:23", "mx1.example.com.\t3600\tIN\tAAAA\t2001:db8::25 @10:42"}},
		{"example.com", dns.TypeSOA, nil},
		{"25.2.0.192.in-addr.arpa", dns.TypePTR, nil},
		{"nope.example.com", dns.TypeA, nil},
		{"example.org", dns.TypeA, nil},
	} {
		got := at(tc.name, tc.qtype)
		if len(got) != len(tc.want) {
			t.Errorf("%s %s: %q, want %q", tc.name, dns.TypeToString[tc.qtype], got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%s %s: %q, want %q", tc.name, dns.TypeToString[tc.qtype], got[i], tc.want[i])
			}
		}
	}
	for name, want := range map[string]string{"example.com": "example.com.", "x.y.example.com.": "example.com.",
		"25.2.0.192.in-addr.arpa": "2.0.192.in-addr.arpa.", "example.org": "", "com": ""} {
		if got := snap.ZoneOf(name); got != want {
			t.Errorf("ZoneOf(%s) = %q, want %q", name, got, want)
		}
	}
}
