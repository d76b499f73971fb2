package zone

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/miekg/dns"
)

// FuzzFromYAML: no configuration text, however broken, panics the loader;
// a configuration that loads answers lookups without panicking either.
func FuzzFromYAML(f *testing.F) {
	for _, p := range []string{"../config.example.yaml", "../zones/example.org.yaml"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	files, _ := filepath.Glob("testdata/diagnostics/*.yaml")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	dir := f.TempDir()
	names := []string{"example.com.", "www.example.com.", "x.dyn.example.com.", "a.b.sub.example.com.", "25.2.0.192.in-addr.arpa.", "nope.", "."}
	types := []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeMX, dns.TypeNS, dns.TypeSOA, dns.TypeANY, dns.TypeDS, dns.TypeCNAME, 666}
	f.Fuzz(func(t *testing.T, text []byte) {
		// zone_files globs reaching outside the scratch directory could
		// read anything (/dev/zero); they are not what is fuzzed here.
		if bytes.Contains(text, []byte("zone_files")) && bytes.ContainsAny(text, `/\`) {
			t.Skip()
		}
		snap, diags := FromYAML(filepath.Join(dir, "fuzz.yaml"), text, nil)
		if diags.Err() != nil {
			if snap != nil {
				t.Fatal("a snapshot despite errors")
			}
			return
		}
		if snap == nil {
			t.Fatal("no snapshot and no error")
		}
		asked := names
		for _, zi := range snap.Zones() {
			asked = append(asked, zi.Origin, "mx1."+zi.Origin, "a.b.c."+zi.Origin)
			if err := snap.Export(io.Discard, zi.Origin); err != nil {
				t.Fatalf("export %s: %v", zi.Origin, err)
			}
		}
		for _, n := range asked {
			for _, qt := range types {
				for _, link := range []int{NoLink, 0, 1} {
					snap.Lookup(dns.Question{Name: n, Qtype: qt, Qclass: dns.ClassINET}, Client{Link: link, Up: AllLinks})
				}
			}
		}
	})
}
