package zone

import (
	"fmt"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// TestMailDomains: the status page's view of the MX sets agrees with
// what Lookup answers, and says why each record is withdrawn.
func TestMailDomains(t *testing.T) {
	snap := mustSnapshot(t, linkConfig)
	show := func(up LinkSet) string {
		var b strings.Builder
		domains, _ := snap.MailDomains(up, nil, 10)
		for _, d := range domains {
			fmt.Fprintf(&b, "%s %s withdrawn=%d\n", d.Name, d.Publish, d.Withdrawn)
			for _, mx := range d.MX {
				fmt.Fprintf(&b, "  %d %s published=%v links=%v %s\n", mx.Preference, mx.Host, mx.Published, mx.Links, mx.Why)
			}
		}
		return b.String()
	}
	want := `example.com. healthy withdrawn=1
  10 mx1.example.com. published=true links=[0] 
  20 mx2.example.com. published=false links=[1] its addresses are only on wan2, down
  30 backup.example.net. published=true links=[] 
primary.example.com. primary withdrawn=1
  10 mx1.example.com. published=true links=[0] 
  20 mx2.example.com. published=false links=[1] its addresses are only on wan2, down
shared.example.com. healthy withdrawn=1
  10 mx1.example.com. published=true links=[0] 
  10 mx2.example.com. published=false links=[1] its addresses are only on wan2, down
every.example.com. all withdrawn=0
  10 mx1.example.com. published=true links=[0] 
  20 mx2.example.com. published=true links=[1] published though wan2 down: mx_publish: all
`
	if got := show(onlyWan1); got != want {
		t.Errorf("wan2 down:\n%s\nwant:\n%s", got, want)
	}
	got := show(bothUp)
	if !strings.Contains(got, "20 mx2.example.com. published=false links=[1] mx_publish: primary publishes only the lowest preference reachable") {
		t.Errorf("primary with both up does not say why mx2 is held back:\n%s", got)
	}
	if !strings.Contains(show(noneUp), "primary.example.com. primary withdrawn=0\n  10 mx1.example.com. published=true links=[0] published though wan1 down: no MX target is reachable, so every one is published") {
		t.Errorf("every link down:\n%s", show(noneUp))
	}
	if d, n := snap.MailDomains(onlyWan1, func(n string) bool { return strings.HasPrefix(n, "every") }, 10); n != 1 || len(d) != 1 || d[0].Name != "every.example.com." {
		t.Errorf("filtered: %d %+v", n, d)
	}
	if d, n := snap.MailDomains(onlyWan1, nil, 2); n != 4 || len(d) != 2 || d[0].Name != "example.com." || d[1].Name != "primary.example.com." {
		t.Errorf("the first 2 of 4: %d %+v", n, d)
	}
	// withdraws, which orders them, agrees with what is published.
	for _, z := range snap.zones {
		for _, set := range z.mxSets {
			for _, up := range []LinkSet{bothUp, onlyWan1, onlyWan2, noneUp} {
				if got, want := snap.withdraws(set, up), len(snap.publishedMX(set, up)) < len(set.rrs); got != want {
					t.Errorf("%s with up %b: withdraws %v, publishedMX says %v", set.rrs[0].Header().Name, up, got, want)
				}
			}
		}
	}
	// The published records are those Lookup answers.
	for _, up := range []LinkSet{bothUp, onlyWan1, onlyWan2, noneUp} {
		domains, _ := snap.MailDomains(up, nil, 10)
		for _, d := range domains {
			r := snap.Lookup(dns.Question{Name: d.Name, Qtype: dns.TypeMX, Qclass: dns.ClassINET}, Client{Link: NoLink, Up: up})
			n := 0
			for _, mx := range d.MX {
				if mx.Published {
					n++
				}
			}
			if n != len(r.Answer) {
				t.Errorf("%s with up %b: %d published, Lookup answers %d", d.Name, up, n, len(r.Answer))
			}
		}
	}
}
