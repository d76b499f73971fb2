package zone

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// aliasBomb is a zone file of about 35 KB whose aliases, expanded, ask for
// a billion TXT records: a thousand zones share one zone's mapping, whose
// thousand names share one name's thousand-item list.
func aliasBomb() []byte {
	var b strings.Builder
	b.WriteString("zones:\n  z0.example: &Z\n    ns: [ns1.example.net.]\n    records:\n      n0: &O {txt: [x")
	b.WriteString(strings.Repeat(", x", 999))
	b.WriteString("]}\n")
	for i := 1; i < 1000; i++ {
		fmt.Fprintf(&b, "      n%d: *O\n", i)
	}
	for i := 1; i < 1000; i++ {
		fmt.Fprintf(&b, "  z%d.example: *Z\n", i)
	}
	return []byte(b.String())
}

// TestAliasBomb: the bomb is refused at the alias where the expansion
// crosses max_records_per_file, before any of it is paid for (the test
// would run out of time or memory otherwise).
func TestAliasBomb(t *testing.T) {
	text := aliasBomb()
	var diags Diagnostics
	zones := parseZoneFile("z.yaml", text, &diags)
	// z0's 999 aliases add 999,000 values, z1's alias a million more:
	// the limit of two million is crossed at z2's alias, line 1006.
	want := "z.yaml:1006:15: file has more than 2000000 records (max_records_per_file) once its YAML aliases are expanded"
	if len(zones) != 0 || len(diags) != 1 || diags[0].String() != want {
		t.Fatalf("got %d zones, findings %v\nwant only: %s", len(zones), diags, want)
	}
	// In the configuration itself, with its own limit written after the
	// zones: the limit is the file's, wherever it is written.
	config := append(aliasBomb(), "max_records_per_file: 1500\n"...)
	_, diags = FromYAML("c.yaml", config, nil)
	want = "c.yaml:7:11: file has more than 1500 records (max_records_per_file) once its YAML aliases are expanded"
	if errs := diags.Errors(); len(errs) != 1 || errs[0].String() != want {
		t.Fatalf("findings %v\nwant only: %s", diags, want)
	}
}

// TestAliasLoop: an alias inside the value it names is not followed for
// ever by the count.
func TestAliasLoop(t *testing.T) {
	const zone = "zones:\n  example.com:\n    ns: [ns1.example.net.]\n    records:\n"
	wantOneError(t, zone+"      www: &w {txt: *w}\n", "c.yaml:5:12: txt: want a value or a list of values, got a mapping")
	wantOneError(t, zone+"      www: {txt: &l [a, *l]}\n", "c.yaml:5:18: txt: want a value, got a list")
}

// TestMaxRecordsPerFile: a file with more records than allowed is an
// error at the first record beyond the limit, whether the records are
// written out or come from aliases.
func TestMaxRecordsPerFile(t *testing.T) {
	const zone = "zones:\n  example.com:\n    ns: [ns1.example.net.]\n    records:\n"
	for _, tc := range []struct{ yaml, want string }{
		{"max_records_per_file: 3\n" + zone + "      www: {a: [192.0.2.1, 192.0.2.2], txt: [a, b]}\n",
			"c.yaml:6:49: file has more than 3 records (max_records_per_file)"},
		{zone + "      www: {a: {wan1: [192.0.2.1, 192.0.2.2], wan2: 192.0.2.3}}\nmax_records_per_file: 2\nlinks: {wan1: {}, wan2: {}}\n",
			"c.yaml:5:53: file has more than 2 records (max_records_per_file)"},
		// Two aliases add four values, within the limit of five; the
		// records they make are counted as they are made, and the sixth,
		// made through ftp's alias, is reported where it is written.
		{"max_records_per_file: 5\n" + zone + "      www: {txt: &t [a, b]}\n      mail: {txt: *t}\n      ftp: {txt: *t}\n",
			"c.yaml:6:25: file has more than 5 records (max_records_per_file)"},
		{"max_records_per_file: 3\n" + zone + "      www: {txt: &t [a, b]}\n      mail: {txt: *t}\n      ftp: {txt: *t}\n",
			"c.yaml:8:18: file has more than 3 records (max_records_per_file) once its YAML aliases are expanded"},
	} {
		wantOneError(t, tc.yaml, tc.want)
	}
	// At the limit is allowed.
	if s, diags := FromYAML("c.yaml", []byte("max_records_per_file: 4\n"+zone+"      www: {a: [192.0.2.1, 192.0.2.2], txt: [a, b]}\n"), nil); s == nil {
		t.Errorf("4 records with max_records_per_file 4: %v", diags)
	}
	// A zone file follows the limit it is given.
	var diags Diagnostics
	parseZoneFileLimited("z.yaml", []byte(zone+"      www: {txt: [a, b, c]}\n"), 2, &diags)
	if want := "z.yaml:5:25: file has more than 2 records (max_records_per_file)"; len(diags) != 1 || diags[0].String() != want {
		t.Errorf("findings %v, want only: %s", diags, want)
	}
}

// BenchmarkAliasBomb is what refusing a billion-laughs zone file costs.
func BenchmarkAliasBomb(b *testing.B) {
	text := aliasBomb()
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		var diags Diagnostics
		parseZoneFile("z.yaml", text, &diags)
		if len(diags) != 1 {
			b.Fatal(diags)
		}
	}
}

// TestMaxRecordsChangeReparsesZoneFiles: a zone file is parsed again when
// max_records_per_file changes, though the file did not. Raising the
// limit clears the error it caused without a save; lowering it below a
// served file is an error while the last good version stays served.
func TestMaxRecordsChangeReparsesZoneFiles(t *testing.T) {
	cfg, zones := zoneFilesConfig(t)
	config := func(limit int, mtime int64) {
		writeFile(t, cfg, fmt.Sprintf("max_records_per_file: %d\nzone_files: [\"zones/*.yaml\"]\n", limit), time.Unix(mtime, 0))
	}
	a := filepath.Join(zones, "a.yaml")
	writeFile(t, a, "zones:\n  a.test: {ns: [ns1.example.net.], records: {www: {txt: [a, b, c, d, e]}}}\n", time.Unix(1000, 0))
	txt := func(s *Snapshot) int {
		r := s.Lookup(dns.Question{Name: "www.a.test.", Qtype: dns.TypeTXT, Qclass: dns.ClassINET}, Client{Link: NoLink})
		return len(r.Answer)
	}
	const over = "file has more than 3 records (max_records_per_file)"

	config(3, 1000)
	snap, diags := Load(cfg, nil)
	if err := diags.Err(); err == nil || !strings.Contains(err.Error(), over) {
		t.Fatalf("limit 3: %v, want %q", err, over)
	}

	config(100, 2000)
	l := Open(cfg, snap, Options{Changed: []string{cfg}})
	snap, diags = l.Snapshot, l.Diags
	if err := diags.Err(); err != nil {
		t.Fatalf("limit raised to 100, the file not touched: %v", err)
	}
	if n := txt(snap); n != 5 {
		t.Fatalf("limit raised: %d TXT records, want 5", n)
	}

	config(3, 3000)
	l = Open(cfg, snap, Options{Changed: []string{cfg}})
	snap, diags = l.Snapshot, l.Diags
	if err := diags.Err(); err == nil || !strings.Contains(err.Error(), over) {
		t.Errorf("limit lowered to 3 again: %v, want %q", err, over)
	}
	if n := txt(snap); n != 5 {
		t.Errorf("limit lowered: %d TXT records, want the last good version's 5", n)
	}
}

// TestMaxFileSizeChangeRereadsZoneFiles: max_file_size too applies to
// files not saved since it changed; the last good version stays served.
func TestMaxFileSizeChangeRereadsZoneFiles(t *testing.T) {
	cfg, zones := zoneFilesConfig(t)
	config := func(limit string, mtime int64) {
		writeFile(t, cfg, "max_file_size: "+limit+"\nzone_files: [\"zones/*.yaml\"]\n", time.Unix(mtime, 0))
	}
	a := filepath.Join(zones, "a.yaml")
	writeFile(t, a, "zones:\n  a.test: {ns: [ns1.example.net.], records: {www: {a: 192.0.2.1}}}\n", time.Unix(1000, 0))
	const over = "more than max_file_size"

	config("1MiB", 1000)
	snap, diags := Load(cfg, nil)
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	config("16", 2000)
	l := Open(cfg, snap, Options{Changed: []string{cfg}})
	if err := l.Diags.Err(); err == nil || !strings.Contains(err.Error(), over) {
		t.Errorf("max_file_size lowered to 16 bytes, the file not touched: %v, want %q", err, over)
	}
	if got := wwwA(t, l.Snapshot, "a.test"); got != "192.0.2.1" {
		t.Errorf("max_file_size lowered: www.a.test %s, want the last good version's 192.0.2.1", got)
	}
}
