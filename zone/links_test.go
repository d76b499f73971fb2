package zone

import (
	"sort"
	"testing"

	"github.com/miekg/dns"
)

const linkConfig = `
link_ttl: 30
links:
  wan1: {listen: ["127.0.0.1:5353"]}
  wan2: {listen: ["127.0.0.2:5353"]}
  wan3: {state: down}
zones:
  example.com:
    ns: [ns1]
    records:
      "@":
        mx: ["10;mx1", "20;mx2", "30;backup.example.net."]
      primary:
        mx: ["10;mx1", "20;mx2"]
        mx_publish: primary
      every:
        mx: ["10;mx1", "20;mx2"]
        mx_publish: all
      shared:
        mx: ["10;mx1", "10;mx2"]
      mx1: {a: {wan1: 203.0.113.25}}
      mx2: {a: {wan2: 198.51.100.25}}
      www: {a: {wan1: 203.0.113.80, wan2: [198.51.100.80, 198.51.100.81]}}
      vpn: {a: {wan2: 198.51.100.90, wan1: 203.0.113.90}, link_mode: failover}
      ns1: {a: 203.0.113.53}
`

const (
	wan1 = 0
	wan2 = 1
)

var (
	bothUp   = LinkSet(0).With(wan1).With(wan2)
	onlyWan1 = LinkSet(0).With(wan1)
	onlyWan2 = LinkSet(0).With(wan2)
	noneUp   = LinkSet(0)
)

func TestLinkRules(t *testing.T) {
	snap := mustSnapshot(t, linkConfig)
	tests := []lookupCase{
		{name: "balance answers the arrival link's addresses", qname: "www.example.com.", qtype: dns.TypeA,
			client: &Client{Link: wan2, Up: bothUp},
			answer: []string{"www.example.com. 30 IN A 198.51.100.80", "www.example.com. 30 IN A 198.51.100.81"}},
		{name: "balance on no link answers every up link", qname: "www.example.com.", qtype: dns.TypeA,
			client: &Client{Link: NoLink, Up: bothUp},
			answer: []string{"www.example.com. 30 IN A 203.0.113.80", "www.example.com. 30 IN A 198.51.100.80", "www.example.com. 30 IN A 198.51.100.81"}},
		{name: "balance rotates", qname: "www.example.com.", qtype: dns.TypeA,
			client: &Client{Link: NoLink, Up: bothUp, Rotate: 1},
			answer: []string{"www.example.com. 30 IN A 198.51.100.80", "www.example.com. 30 IN A 198.51.100.81", "www.example.com. 30 IN A 203.0.113.80"}},
		{name: "arrival link down: the up links answer", qname: "www.example.com.", qtype: dns.TypeA,
			client: &Client{Link: wan1, Up: onlyWan2},
			answer: []string{"www.example.com. 30 IN A 198.51.100.80", "www.example.com. 30 IN A 198.51.100.81"}},
		{name: "all links down: every address", qname: "www.example.com.", qtype: dns.TypeA,
			client: &Client{Link: wan1, Up: noneUp},
			answer: []string{"www.example.com. 30 IN A 203.0.113.80", "www.example.com. 30 IN A 198.51.100.80", "www.example.com. 30 IN A 198.51.100.81"}},
		{name: "failover: first up link in written order", qname: "vpn.example.com.", qtype: dns.TypeA,
			client: &Client{Link: wan1, Up: bothUp},
			answer: []string{"vpn.example.com. 30 IN A 198.51.100.90"}},
		{name: "failover: next link when the first is down", qname: "vpn.example.com.", qtype: dns.TypeA,
			client: &Client{Link: wan2, Up: onlyWan1},
			answer: []string{"vpn.example.com. 30 IN A 203.0.113.90"}},
		{name: "no-link record keeps its ttl", qname: "ns1.example.com.", qtype: dns.TypeA,
			client: &Client{Link: wan1, Up: noneUp},
			answer: []string{"ns1.example.com. 3600 IN A 203.0.113.53"}},
		{name: "healthy mx: all up", qname: "example.com.", qtype: dns.TypeMX,
			client: &Client{Link: NoLink, Up: bothUp},
			answer: []string{"example.com. 30 IN MX 10 mx1.example.com.", "example.com. 30 IN MX 20 mx2.example.com.", "example.com. 30 IN MX 30 backup.example.net."},
			extra:  []string{"mx1.example.com. 30 IN A 203.0.113.25", "mx2.example.com. 30 IN A 198.51.100.25"}},
		{name: "healthy mx: wan1 down withdraws mx1", qname: "example.com.", qtype: dns.TypeMX,
			client: &Client{Link: NoLink, Up: onlyWan2},
			answer: []string{"example.com. 30 IN MX 20 mx2.example.com.", "example.com. 30 IN MX 30 backup.example.net."},
			extra:  []string{"mx2.example.com. 30 IN A 198.51.100.25"}},
		{name: "primary: only the best healthy preference", qname: "primary.example.com.", qtype: dns.TypeMX,
			client: &Client{Link: NoLink, Up: bothUp},
			answer: []string{"primary.example.com. 30 IN MX 10 mx1.example.com."},
			extra:  []string{"mx1.example.com. 30 IN A 203.0.113.25"}},
		{name: "primary: backup appears when primary's link is down", qname: "primary.example.com.", qtype: dns.TypeMX,
			client: &Client{Link: NoLink, Up: onlyWan2},
			answer: []string{"primary.example.com. 30 IN MX 20 mx2.example.com."},
			extra:  []string{"mx2.example.com. 30 IN A 198.51.100.25"}},
		{name: "all: every mx whatever the links", qname: "every.example.com.", qtype: dns.TypeMX,
			client: &Client{Link: NoLink, Up: onlyWan2},
			answer: []string{"every.example.com. 30 IN MX 10 mx1.example.com.", "every.example.com. 30 IN MX 20 mx2.example.com."},
			extra:  []string{"mx1.example.com. 30 IN A 203.0.113.25", "mx2.example.com. 30 IN A 198.51.100.25"}},
		{name: "no mx healthy: publish all", qname: "primary.example.com.", qtype: dns.TypeMX,
			client: &Client{Link: NoLink, Up: noneUp},
			answer: []string{"primary.example.com. 30 IN MX 10 mx1.example.com.", "primary.example.com. 30 IN MX 20 mx2.example.com."},
			extra:  []string{"mx1.example.com. 30 IN A 203.0.113.25", "mx2.example.com. 30 IN A 198.51.100.25"}},
		{name: "equal preference rotates", qname: "shared.example.com.", qtype: dns.TypeMX,
			client: &Client{Link: NoLink, Up: bothUp, Rotate: 1},
			answer: []string{"shared.example.com. 30 IN MX 10 mx2.example.com.", "shared.example.com. 30 IN MX 10 mx1.example.com."},
			extra:  []string{"mx2.example.com. 30 IN A 198.51.100.25", "mx1.example.com. 30 IN A 203.0.113.25"}},
	}
	runLookups(t, snap, tests)
}

func TestListenLinkAndStranded(t *testing.T) {
	snap := mustSnapshot(t, linkConfig)
	if got := snap.ListenLink("127.0.0.2:5353"); got != wan2 {
		t.Errorf("ListenLink(127.0.0.2:5353) = %d, want %d", got, wan2)
	}
	if got := snap.ListenLink("127.0.0.9:53"); got != NoLink {
		t.Errorf("ListenLink(unknown) = %d, want %d", got, NoLink)
	}
	if links := snap.Settings().Links; len(links) != 3 || links[2].State != LinkDown {
		t.Fatalf("links = %+v, want wan3 manually down", links)
	}
	got := snap.Stranded(onlyWan1)
	sort.Strings(got)
	want := []string{"mx2.example.com. A"}
	if len(got) != len(want) || got[0] != want[0] {
		t.Errorf("Stranded(wan1 up) = %v, want %v", got, want)
	}
}

// TestStrandedWithEveryLinkUp: with every link up nothing is stranded,
// whichever bits beyond the links the set has.
func TestStrandedWithEveryLinkUp(t *testing.T) {
	snap := mustSnapshot(t, linkConfig)
	for _, up := range []LinkSet{0b111, AllLinks} {
		if got := snap.Stranded(up); got != nil {
			t.Errorf("Stranded(%b) = %v, want none", up, got)
		}
	}
	if got := snap.Stranded(0b100); len(got) == 0 {
		t.Error("Stranded(only wan3 up) = none, want every linked name")
	}
}
