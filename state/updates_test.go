package state

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/zone"
)

func TestUpdatesRoundTrip(t *testing.T) {
	dir := t.TempDir()
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if got, errs := d.Updates(); len(got) != 0 || len(errs) != 0 {
		t.Fatalf("a new directory holds updates %v, errors %v", got, errs)
	}
	added := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	rr, _ := dns.NewRR(`_acme-challenge.example.com. 60 IN TXT "token with \"quotes\"; and a semicolon"`)
	if err := d.SaveUpdates("example.com.", []zone.UpdatedRecord{{RR: rr, Added: added}}); err != nil {
		t.Fatal(err)
	}
	if err := d.SaveUpdates(`we\ird.example.`, nil); err != nil {
		t.Fatal(err)
	}
	// A file cut short by a crash, and a temporary file left behind.
	ud := filepath.Join(dir, updatesDir)
	if err := os.WriteFile(filepath.Join(ud, "0000-broken.json"), []byte(`{"version":1,"zone":"bro`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ud, ".tmp-x.json-1"), []byte(`x`), 0o600); err != nil {
		t.Fatal(err)
	}

	d2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	got, errs := d2.Updates()
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "0000-broken.json") {
		t.Errorf("errors %v, want one naming the broken file", errs)
	}
	recs := got["example.com."]
	if len(recs) != 1 || !dns.IsDuplicate(recs[0].RR, rr) || recs[0].RR.Header().Ttl != 60 || !recs[0].Added.Equal(added) {
		t.Errorf("read back %v, want %v added %v", recs, rr, added)
	}
	if r, ok := got[`we\ird.example.`]; !ok || len(r) != 0 {
		t.Errorf("the zone whose records were all deleted: %v %v, want it listed, empty", r, ok)
	}
	if _, err := os.Stat(filepath.Join(ud, "0000-broken.json")); err != nil {
		t.Errorf("the broken file must stay for a person to look at: %v", err)
	}
}
