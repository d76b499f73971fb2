package zone

import (
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// TestExportParsesBack checks that the exported text is a zone file that
// miekg/dns's RFC 1035 parser reads back to the same records.
func TestExportParsesBack(t *testing.T) {
	snap := mustSnapshot(t, linkConfig)
	var b strings.Builder
	if err := snap.Export(&b, "Example.com"); err != nil {
		t.Fatal(err)
	}
	want, _ := snap.Records("example.com.")
	zp := dns.NewZoneParser(strings.NewReader(b.String()), "", "export")
	var got []dns.RR
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		got = append(got, rr)
	}
	if err := zp.Err(); err != nil {
		t.Fatalf("parse exported zone: %v\n%s", err, b.String())
	}
	if len(got) != len(want) {
		t.Fatalf("parsed %d records, exported %d:\n%s", len(got), len(want), b.String())
	}
	for i := range got {
		if !dns.IsDuplicate(got[i], want[i]) || got[i].Header().Ttl != want[i].Header().Ttl {
			t.Errorf("record %d: parsed %v, exported %v", i, got[i], want[i])
		}
	}
	if got[0].Header().Rrtype != dns.TypeSOA {
		t.Errorf("first record %v, want the SOA", got[0])
	}
	for _, addr := range []string{"203.0.113.80", "198.51.100.80", "198.51.100.81"} {
		if !strings.Contains(b.String(), addr) {
			t.Errorf("export lacks link-mapped address %s", addr)
		}
	}
	if _, ok := snap.Records("example.net."); ok {
		t.Error("Records of a zone not served: ok, want not ok")
	}
}
