package transport

import (
	"fmt"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/internal/dnstest"
	"github.com/mxdns/mxdns/zone"
)

// testConfigReply is the reply testConfig must give to name and qtype,
// written out by hand from the config (RFC 1034 §4.3.2, RFC 2308), so
// that a transport's replies are checked against something other than
// the code path that made them. Sections are records in presentation
// form, lower-cased, in any order.
func testConfigReply(t *testing.T, snap *zone.Snapshot, name string, qtype uint16) *dns.Msg {
	t.Helper()
	rrs, _ := snap.Records("example.com.")
	var serial uint32
	for _, rr := range rrs {
		if soa, ok := rr.(*dns.SOA); ok {
			serial = soa.Serial
		}
	}
	// Negative answers: TTL min(SOA TTL 3600, minimum 300).
	soa := fmt.Sprintf("example.com. 300 IN SOA ns1.example.com. hostmaster.example.com. %d 3600 900 1209600 300", serial)
	m := new(dns.Msg)
	m.Response, m.Authoritative = true, true
	add := func(sec *[]dns.RR, ss ...string) {
		for _, s := range ss {
			rr, err := dns.NewRR(s)
			if err != nil {
				t.Fatal(err)
			}
			*sec = append(*sec, rr)
		}
	}
	switch key := strings.ToLower(name) + " " + dns.TypeToString[qtype]; key {
	case "example.com. MX":
		add(&m.Answer, "example.com. 3600 IN MX 10 mx1.example.com.", "example.com. 3600 IN MX 20 mx2.example.com.")
		add(&m.Extra, "mx1.example.com. 3600 IN A 203.0.113.25", "mx2.example.com. 3600 IN A 198.51.100.25")
	case "mx1.example.com. A":
		add(&m.Answer, "mx1.example.com. 3600 IN A 203.0.113.25")
	case "mx1.example.com. MX", "nope.example.com. A", "nope.example.com. MX":
		add(&m.Ns, soa)
		if strings.HasPrefix(key, "nope.") {
			m.Rcode = dns.RcodeNameError
		}
	case "example.org. A", "example.org. MX":
		m.Rcode, m.Authoritative = dns.RcodeRefused, false
	default:
		t.Fatalf("no expected reply for %s", key)
	}
	return m
}

var sameReply = dnstest.SameReply
