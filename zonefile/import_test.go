package zonefile

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/zone"
)

// TestImportWild imports a zone with types mxdns does not serve, TXT
// escapes and mail records split at odd places, with and without the
// mail helpers. The skipped types are warnings naming their lines, and
// the zone served from the YAML holds every other record of the
// original: the same data and TTL, TXT compared by the octets a reader
// sees (the strings joined), which is all SPF, DKIM and DMARC read.
func TestImportWild(t *testing.T) {
	const file = "testdata/import/example.net.zone"
	text, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, helpers := range []bool{false, true} {
		out, warnings, err := Import(text, file, Options{Helpers: helpers})
		if err != nil {
			t.Fatalf("helpers %v: %v", helpers, err)
		}
		want := []string{
			file + ":11: warning: example.net. HINFO: mxdns does not serve HINFO records; skipped",
			file + ":12: warning: example.net. NAPTR: mxdns does not serve NAPTR records; skipped",
			file + ":23: warning: sip.example.net. NAPTR: mxdns does not serve NAPTR records; skipped",
		}
		if got := warnings.Error(); got != strings.Join(want, "\n") {
			t.Errorf("helpers %v: warnings\n%s\nwant\n%s", helpers, got, strings.Join(want, "\n"))
		}
		if helpers {
			for _, re := range []string{`spf: 'mx include:_spf\.example\.org -all'`, `dmarc: 'v=DMARC1; p=reject; rua=mailto:dmarc@example\.net'`,
				`dkim: \{selector: s2026, key: MIIB[^,]*, k: rsa\}`, `plainkey\._domainkey: \{txt: `} {
				if !regexp.MustCompile(re).Match(out) {
					t.Errorf("helpers: YAML does not match %s:\n%s", re, out)
				}
			}
		}
		var kept []dns.RR
		for _, rr := range parseAll(t, text, file, "example.net.") {
			if served[rr.Header().Rrtype] {
				kept = append(kept, rr)
			}
		}
		got := servedRecords(t, out)
		for _, miss := range missingData(kept, got) {
			t.Errorf("helpers %v: lost %s", helpers, miss)
		}
		for _, extra := range missingData(got, kept) {
			t.Errorf("helpers %v: added %s", helpers, extra)
		}
		if t.Failed() {
			t.Logf("YAML:\n%s", out)
		}
	}
}

// servedRecords loads YAML as mxdns would serve it and returns its zone.
func servedRecords(t *testing.T, out []byte) []dns.RR {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(cfg, out, 0o644); err != nil {
		t.Fatal(err)
	}
	snap, diags := zone.Load(cfg, nil)
	if err := diags.Err(); err != nil {
		t.Fatalf("imported YAML does not load: %v\n%s", err, out)
	}
	rrs, ok := snap.Records("example.net.")
	if !ok {
		t.Fatalf("no zone example.net. in\n%s", out)
	}
	return rrs
}

// missingData lists the records of a with no equal in b: same name, type,
// TTL and data, a TXT's data being its strings' octets joined.
func missingData(a, b []dns.RR) []dns.RR {
	var out []dns.RR
	for _, x := range a {
		found := false
		for _, y := range b {
			if x.Header().Ttl == y.Header().Ttl && sameData(x, y) {
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

func sameData(x, y dns.RR) bool {
	tx, okx := x.(*dns.TXT)
	ty, oky := y.(*dns.TXT)
	if !okx || !oky {
		return dns.IsDuplicate(x, y)
	}
	jx, errx := txtValue(tx.Hdr.Name, tx.Txt, true)
	jy, erry := txtValue(ty.Hdr.Name, ty.Txt, true)
	return errx == nil && erry == nil && strings.EqualFold(tx.Hdr.Name, ty.Hdr.Name) && jx == jy
}

// TestImportStrict: with Strict a type mxdns does not serve is an error.
func TestImportStrict(t *testing.T) {
	const file = "testdata/import/example.net.zone"
	text, _ := os.ReadFile(file)
	out, warnings, err := Import(text, file, Options{Strict: true})
	if err == nil || len(warnings) != 0 {
		t.Fatalf("no error (warnings %v); YAML:\n%s", warnings, out)
	}
	if want := file + ":11: example.net. HINFO: mxdns does not serve HINFO records (-strict)"; !strings.Contains(err.Error(), want) {
		t.Errorf("error\n%v\nwant it to hold %s", err, want)
	}
}

// TestUnescapeTXT: RFC 1035 §5.1 escapes.
func TestUnescapeTXT(t *testing.T) {
	for in, want := range map[string]string{
		`plain`: "plain", `say \"hi\"`: `say "hi"`, `back\\slash`: `back\slash`,
		`\065\066C`: "ABC", `caf\195\169`: "café", `semi\;colon`: "semi;colon", `\000`: "\x00",
	} {
		if got, err := unescapeTXT(in); err != nil || got != want {
			t.Errorf("unescapeTXT(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{`\256`, `end\`} {
		if _, err := unescapeTXT(in); err == nil {
			t.Errorf("unescapeTXT(%q): no error", in)
		}
	}
}
