package zone

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// A reload builds zones anew from parsed files it did not read again, whose
// records the snapshot being served answers with: building must not write
// them while queries and transfers read them. Run with -race.
func TestReloadLeavesServedRecordsAlone(t *testing.T) {
	cfg, zones := zoneFilesConfig(t)
	var b strings.Builder
	b.WriteString("zones:\n  a.test:\n    ns: [ns1]\n    records:\n      ns1: {a: 192.0.2.1}\n")
	b.WriteString("      \"*\": {a: 192.0.2.2, txt: wildcard}\n")
	for i := range 200 {
		fmt.Fprintf(&b, "      h%d: {a: 10.0.0.%d, txt: host%d}\n", i, i%250+1, i)
	}
	writeFile(t, filepath.Join(zones, "a.yaml"), b.String(), time.Unix(1000, 0))
	writeFile(t, filepath.Join(zones, "r.yaml"), "zones:\n  0.0.10.in-addr.arpa: {ns: [ns1.a.test.], records: {\"250\": {ptr: h1.a.test.}}}\n", time.Unix(1000, 0))
	served, diags := Load(cfg, nil)
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}

	done := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				if _, ok := served.Records("a.test"); !ok {
					t.Error("a.test not served")
					return
				}
				served.Records("0.0.10.in-addr.arpa")
				for _, qt := range []uint16{dns.TypeA, dns.TypeTXT} {
					served.Lookup(dns.Question{Name: "nothere.a.test.", Qtype: qt, Qclass: dns.ClassINET}, Client{Link: NoLink})
				}
			}
		})
	}
	// A zone that comes makes every zone be built again, from the parses
	// of the files that did not change.
	writeFile(t, filepath.Join(zones, "b.yaml"), "zones:\n  b.test: {ns: [ns1.a.test.]}\n", time.Unix(2000, 0))
	for range 5 {
		if _, diags := Load(cfg, served); diags.Err() != nil {
			t.Error(diags.Err())
		}
	}
	close(done)
	wg.Wait()
}

// A secondary receives a link-mapped set with the TTL as written (Records),
// while the records themselves carry it capped at link_ttl: a change above
// the cap is a change of the zone all the same.
func TestAutoSerialSeesLinkMappedTTL(t *testing.T) {
	config := func(ttl int) []byte {
		return fmt.Appendf(nil, `link_ttl: 60
links:
  wan1: {listen: ["127.0.0.1:5353"]}
zones:
  example.com:
    ns: [ns1]
    records:
      ns1: {a: 192.0.2.53}
      www: {a: {wan1: 192.0.2.1}, ttl: %d}
`, ttl)
	}
	file := filepath.Join(t.TempDir(), "config.yaml")
	first, diags := FromYAML(file, config(600), nil)
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	next, diags := FromYAML(file, config(900), first)
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	rrs, _ := next.Records("example.com")
	if !slices.ContainsFunc(rrs, func(rr dns.RR) bool { return rr.Header().Name == "www.example.com." && rr.Header().Ttl == 900 }) {
		t.Fatalf("www is not transferred with TTL 900: %v", rrs)
	}
	if a, b := serialOf(t, first, "example.com."), serialOf(t, next, "example.com."); a == b {
		t.Errorf("serial stayed %d when the TTL of a link-mapped set went from 600 to 900", a)
	}
}
