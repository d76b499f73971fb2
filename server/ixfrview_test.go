package server

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// transferOf is an unsigned AXFR or IXFR (from serial) of origin.
func transferOf(t *testing.T, s *Server, origin string, qtype uint16, serial uint32) []dns.RR {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(origin, qtype)
	if qtype == dns.TypeIXFR {
		m.SetIxfr(origin, serial, "ns1."+origin, "hostmaster."+origin)
	}
	tr := &dns.Transfer{DialTimeout: 10 * time.Second, ReadTimeout: 10 * time.Second}
	ch, err := tr.In(m, s.Addrs()[0].TCP.String())
	if err != nil {
		t.Fatal(err)
	}
	var rrs []dns.RR
	for env := range ch {
		if env.Error != nil {
			t.Fatalf("%s of %s: %v", dns.TypeToString[qtype], origin, env.Error)
		}
		rrs = append(rrs, env.RR...)
	}
	return rrs
}

// TestIXFRFollowsLinkChanges: under transfer_view: current a link
// change gives the zones it changes a new version and serial; it is
// journaled like an edit, so a secondary gets by IXFR exactly what an
// AXFR would give it, and going back to the first links is a third
// version, reached by IXFR too.
func TestIXFRFollowsLinkChanges(t *testing.T) {
	shortViewDelay(t, 10*time.Millisecond)
	s, follows := viewServer(t, t.TempDir(), nil)
	const origin = "linked.test."
	first := transferOf(t, s, origin, dns.TypeAXFR, 0)

	setLinks(s, wan2Up)
	waitFollowed(t, s, follows, wan2Up)
	second := transferOf(t, s, origin, dns.TypeAXFR, 0)
	if zoneSet(second)[0] == zoneSet(first)[0] && slices.Equal(zoneSet(second), zoneSet(first)) {
		t.Fatal("the transferred zone did not change with wan1 down")
	}
	reply := transferOf(t, s, origin, dns.TypeIXFR, first[0].(*dns.SOA).Serial)
	if got := applyIXFR(t, first, reply); !slices.Equal(got, zoneSet(second)) {
		t.Fatalf("IXFR after wan1 went down applied:\n  %s\nAXFR:\n  %s", strings.Join(got, "\n  "), strings.Join(zoneSet(second), "\n  "))
	}

	setLinks(s, bothUp)
	waitFollowed(t, s, follows, bothUp)
	third := transferOf(t, s, origin, dns.TypeAXFR, 0)
	for _, from := range [][]dns.RR{first, second} {
		reply := transferOf(t, s, origin, dns.TypeIXFR, from[0].(*dns.SOA).Serial)
		if got := applyIXFR(t, from, reply); !slices.Equal(got, zoneSet(third)) {
			t.Errorf("IXFR from %d after wan1 came back applied:\n  %s\nAXFR:\n  %s", from[0].(*dns.SOA).Serial,
				strings.Join(got, "\n  "), strings.Join(zoneSet(third), "\n  "))
		}
	}
	// From the first links and back, only the serial differs.
	if reply := transferOf(t, s, origin, dns.TypeIXFR, first[0].(*dns.SOA).Serial); len(reply) != 4 {
		t.Errorf("IXFR from the same links' version: %d records, want the four SOAs alone:\n%v", len(reply), reply)
	}
}
