package zone

import (
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// TestLookupKinds: every result says its kind, including the shapes a
// message alone cannot tell apart: a CNAME into a delegation (answer
// part, AA set, NS in authority) is a referral, a CNAME to a missing name
// is NXDOMAIN and one to a name without the type is NODATA.
func TestLookupKinds(t *testing.T) {
	snap := mustSnapshot(t, strings.Replace(exampleConfig, "      nomail:", "      tosub: {cname: www.sub}\n      nomail:", 1))
	for _, tc := range []struct {
		qname string
		qtype uint16
		want  Kind
		cut   string
	}{
		{"mx1.example.com.", dns.TypeA, KindAnswer, ""},
		{"www.example.com.", dns.TypeA, KindAnswer, ""},
		{"away.example.com.", dns.TypeA, KindAnswer, ""},
		{"host.dyn.example.com.", dns.TypeA, KindAnswer, ""},
		{"mx2.example.com.", dns.TypeAAAA, KindNoData, ""},
		{"www.example.com.", dns.TypeSRV, KindNoData, ""},
		{"sub.example.com.", dns.TypeDS, KindNoData, ""},
		{"nope.example.com.", dns.TypeA, KindNXDomain, ""},
		{"dangling.example.com.", dns.TypeA, KindNXDomain, ""},
		{"sub.example.com.", dns.TypeA, KindReferral, "sub.example.com."},
		{"www.sub.example.com.", dns.TypeMX, KindReferral, "sub.example.com."},
		{"tosub.example.com.", dns.TypeA, KindReferral, "sub.example.com."},
		{"example.org.", dns.TypeA, KindRefused, ""},
	} {
		res := snap.Lookup(dns.Question{Name: tc.qname, Qtype: tc.qtype, Qclass: dns.ClassINET}, Client{Link: NoLink})
		if res.Kind != tc.want || res.Cut != tc.cut {
			t.Errorf("%s %s: kind %v cut %q, want %v cut %q", tc.qname, dns.TypeToString[tc.qtype], res.Kind, res.Cut, tc.want, tc.cut)
		}
	}
	res := snap.Lookup(dns.Question{Name: "tosub.example.com.", Qtype: dns.TypeA, Qclass: dns.ClassINET}, Client{Link: NoLink})
	if len(res.Answer) != 1 || !res.Authoritative || len(res.Ns) != 2 {
		t.Errorf("CNAME into a delegation: want the CNAME, AA and the cut's NS, got %+v", res)
	}
}
