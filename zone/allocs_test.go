package zone

import (
	"testing"

	"github.com/miekg/dns"
)

// TestLookupAllocations guards the answer path's allocations: TTL caps
// and the negative SOA are made at build, so answering copies no record
// (the one allocation left for a single answer is the section's slice).
// Before that: 1, 3, 2, 9 and 21.
func TestLookupAllocations(t *testing.T) {
	snap := mustSnapshot(t, linkConfig)
	for _, tc := range []struct {
		name  string
		qname string
		qtype uint16
		want  float64
	}{
		{"plain a", "ns1.example.com.", dns.TypeA, 1},
		{"link-mapped a", "vpn.example.com.", dns.TypeA, 1},
		{"nxdomain", "nx.example.com.", dns.TypeA, 1},
		{"mx with link-mapped targets", "primary.example.com.", dns.TypeMX, 6},
		{"apex mx with link-mapped targets", "example.com.", dns.TypeMX, 14},
	} {
		q := dns.Question{Name: tc.qname, Qtype: tc.qtype, Qclass: dns.ClassINET}
		c := Client{Link: wan1, Up: bothUp}
		got := testing.AllocsPerRun(100, func() { snap.Lookup(q, c) })
		t.Logf("%s: %v allocations", tc.name, got)
		if got > tc.want {
			t.Errorf("%s: %v allocations per lookup, want at most %v", tc.name, got, tc.want)
		}
	}
}
