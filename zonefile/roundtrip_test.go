package zonefile

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/zone"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata")

func parseAll(t *testing.T, text []byte, file, origin string) []dns.RR {
	t.Helper()
	zp := dns.NewZoneParser(bytes.NewReader(text), origin, file)
	zp.SetDefaultTTL(3600)
	var rrs []dns.RR
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		rrs = append(rrs, rr)
	}
	if err := zp.Err(); err != nil {
		t.Fatal(err)
	}
	return rrs
}

// TestRoundTrip imports every master file under testdata/roundtrip, loads
// the YAML as mxdns would serve it, exports it and compares the records
// with the original's as sets: same records (dns.IsDuplicate), same TTLs.
func TestRoundTrip(t *testing.T) {
	files, _ := filepath.Glob("testdata/roundtrip/*.zone")
	if len(files) == 0 {
		t.Fatal("no zone files")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			text, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			out, warnings, err := Import(text, file, Options{})
			if err != nil {
				t.Fatalf("import: %v", err)
			}
			if len(warnings) > 0 {
				t.Errorf("warnings: %v", warnings)
			}
			cfg := filepath.Join(t.TempDir(), "config.yaml")
			if err := os.WriteFile(cfg, out, 0o644); err != nil {
				t.Fatal(err)
			}
			snap, diags := zone.Load(cfg, nil)
			if err := diags.Err(); err != nil {
				t.Fatalf("imported YAML does not load: %v\n%s", err, out)
			}
			zones := snap.Zones()
			if len(zones) != 1 {
				t.Fatalf("%d zones", len(zones))
			}
			var exported bytes.Buffer
			if err := snap.Export(&exported, zones[0].Origin); err != nil {
				t.Fatal(err)
			}
			want := parseAll(t, text, file, zones[0].Origin)
			got := parseAll(t, exported.Bytes(), "export", zones[0].Origin)
			for _, miss := range missing(want, got) {
				t.Errorf("lost: %s", miss)
			}
			for _, extra := range missing(got, want) {
				t.Errorf("added: %s", extra)
			}
			if t.Failed() {
				t.Logf("YAML:\n%s\nexport:\n%s", out, exported.String())
			}
		})
	}
}

// missing lists the records of a with no equal in b (same data and TTL).
func missing(a, b []dns.RR) []dns.RR {
	var out []dns.RR
	for _, x := range a {
		found := false
		for _, y := range b {
			if dns.IsDuplicate(x, y) && x.Header().Ttl == y.Header().Ttl {
				found = true
				break
			}
		}
		if !found {
			out = append(out, x)
		}
	}
	return out
}

// TestImportErrors: what has no YAML form is an error naming file:line.
func TestImportErrors(t *testing.T) {
	files, _ := filepath.Glob("testdata/errors/*.zone")
	if len(files) == 0 {
		t.Fatal("no zone files")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			text, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			out, warnings, err := Import(text, file, Options{})
			if err == nil {
				t.Fatalf("no error; YAML:\n%s", out)
			}
			got := err.Error() + "\n"
			if len(warnings) > 0 {
				got = warnings.Error() + "\n" + got
			}
			golden := strings.TrimSuffix(file, ".zone") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, _ := os.ReadFile(golden)
			if got != string(want) {
				t.Errorf("got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}
