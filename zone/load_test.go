package zone

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func serialOf(t *testing.T, s *Snapshot, origin string) uint32 {
	t.Helper()
	for _, z := range s.Zones() {
		if z.Origin == origin {
			return z.Serial
		}
	}
	t.Fatalf("zone %s not loaded", origin)
	return 0
}

// zoneFilesConfig writes, in a new directory, a configuration whose zones
// are the files of its zones directory, and returns the paths of both.
func zoneFilesConfig(t *testing.T) (cfg, zones string) {
	t.Helper()
	dir := t.TempDir()
	cfg, zones = filepath.Join(dir, "config.yaml"), filepath.Join(dir, "zones")
	if err := os.Mkdir(zones, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, cfg, "zone_files: [\"zones/*.yaml\"]\n", time.Unix(1000, 0))
	return cfg, zones
}

func writeFile(t *testing.T, path, text string, mtime time.Time) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

func TestAutoSerialMovesOnlyWithContent(t *testing.T) {
	cfg, zones := zoneFilesConfig(t)
	a := filepath.Join(zones, "a.yaml")
	b := filepath.Join(zones, "b.yaml")
	writeFile(t, a, "zones:\n  a.test: {ns: [ns.b.test.]}\n", time.Unix(1_800_000_000, 0))
	writeFile(t, b, "zones:\n  b.test: {ns: [ns], records: {ns: {a: 192.0.2.1}}}\n", time.Unix(1_800_000_100, 0))

	first, diags := Load(cfg, nil)
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	if got := serialOf(t, first, "a.test."); got != 1_800_000_000 {
		t.Errorf("first serial of a.test = %d, want the file's mtime 1800000000", got)
	}
	if got, want := first.Files(), []string{cfg, a, b}; len(got) != 3 || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("Files() = %v, want %v", got, want)
	}
	if got := first.WatchDirs(); len(got) != 2 || got[0] != filepath.Dir(cfg) || got[1] != zones {
		t.Errorf("WatchDirs() = %v, want [%s %s]", got, filepath.Dir(cfg), zones)
	}

	// Touched but unchanged: the serial stays.
	writeFile(t, a, "zones:\n  a.test: {ns: [ns.b.test.]}\n", time.Unix(1_800_000_500, 0))
	second, _ := Load(cfg, first)
	if got := serialOf(t, second, "a.test."); got != 1_800_000_000 {
		t.Errorf("serial after a touch = %d, want 1800000000 unchanged", got)
	}

	// Changed, with a clock that went backwards: the serial still rises.
	writeFile(t, a, "zones:\n  a.test: {ns: [ns.b.test.], ttl: 60}\n", time.Unix(1_700_000_000, 0))
	third, _ := Load(cfg, second)
	if got := serialOf(t, third, "a.test."); got != 1_800_000_001 {
		t.Errorf("serial after a change = %d, want 1800000001", got)
	}
	if got := serialOf(t, third, "b.test."); got != 1_800_000_100 {
		t.Errorf("serial of the untouched zone = %d, want 1800000100", got)
	}
}

func TestExplicitSerialAndSOADefaults(t *testing.T) {
	snap := mustSnapshot(t, `
zones:
  example.com:
    ttl: 600
    soa: {serial: 42, rname: john.doe@example.net, mname: ns0.example.net.}
    ns: [ns1.example.net.]
`)
	res := snap.Lookup(dns.Question{Name: "example.com.", Qtype: dns.TypeSOA, Qclass: dns.ClassINET}, Client{Link: NoLink})
	compareSection(t, "answer", res.Answer, []string{`example.com. 600 IN SOA ns0.example.net. john\.doe.example.net. 42 3600 900 1209600 300`})
}

func TestMissingConfigIsAnError(t *testing.T) {
	snap, diags := Load(filepath.Join(t.TempDir(), "absent.yaml"), nil)
	if snap != nil || diags.Err() == nil {
		t.Fatalf("Load of a missing file gave %v, %v; want an error", snap, diags)
	}
}

func TestConcernsOnlyFilesThatShapeTheSnapshot(t *testing.T) {
	cfg, zones := zoneFilesConfig(t)
	dir := filepath.Dir(cfg)
	writeFile(t, filepath.Join(zones, "a.yaml"), "zones:\n  a.test: {ns: [ns.b.test.]}\n", time.Now())
	snap, diags := Load(cfg, nil)
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]bool{
		cfg:                                    true,
		filepath.Join(zones, "a.yaml"):         true,
		filepath.Join(zones, "new.yaml"):       true, // a file the glob will pick up
		filepath.Join(dir, "..data"):           true, // Kubernetes ConfigMap swap
		filepath.Join(dir, "server.log"):       false,
		filepath.Join(dir, ".config.yaml.swp"): false,
		filepath.Join(zones, "notes.txt"):      false,
	} {
		if got := snap.Concerns(path); got != want {
			t.Errorf("Concerns(%s) = %v, want %v", path, got, want)
		}
	}
}

// A reverse zone's generated PTRs come from forward zone files, so its
// automatic serial must follow them too: a restart after a forward edit
// must not serve a lower serial than before it, or secondaries ignore the
// zone until the serial passes the one they hold.
func TestAutoPTRSerialSurvivesRestart(t *testing.T) {
	cfg, zones := zoneFilesConfig(t)
	fwd := filepath.Join(zones, "fwd.yaml")
	rev := filepath.Join(zones, "rev.yaml")
	writeFile(t, rev, "zones:\n  2.0.192.in-addr.arpa: {ns: [ns1.example.com.]}\n", time.Unix(1_800_000_000, 0))
	writeFile(t, fwd, "zones:\n  example.com: {ns: [ns1], records: {ns1: {a: 192.0.2.1}}}\n", time.Unix(1_800_000_000, 0))
	const origin = "2.0.192.in-addr.arpa."

	first, diags := Load(cfg, nil)
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	writeFile(t, fwd, "zones:\n  example.com: {ns: [ns1], records: {ns1: {a: 192.0.2.1}, www: {a: 192.0.2.80}}}\n", time.Unix(1_800_000_500, 0))
	second, diags := Load(cfg, first)
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	before, after := serialOf(t, first, origin), serialOf(t, second, origin)
	if !serialAfter(after, before) {
		t.Fatalf("serial after a new PTR = %d, want above %d", after, before)
	}
	restarted, diags := Load(cfg, nil)
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	if got := serialOf(t, restarted, origin); serialAfter(after, got) {
		t.Errorf("serial after a restart = %d, below the %d served before it", got, after)
	}
}

// The same configuration text at another path is another configuration:
// its zones are defined, and their findings placed, at the new path.
func TestSameConfigTextElsewhere(t *testing.T) {
	const text = "zones:\n  example.com: {ns: [ns1.example.net.], records: {www: {txt: hi, mx_publish: all}}}\n"
	first, second := filepath.Join(t.TempDir(), "config.yaml"), filepath.Join(t.TempDir(), "config.yaml")
	writeFile(t, first, text, time.Unix(1000, 0))
	writeFile(t, second, text, time.Unix(1000, 0))
	snap, diags := Load(first, nil)
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	snap, diags = Load(second, snap)
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	if z := snap.Zones(); len(z) != 1 || z[0].File != second {
		t.Errorf("zones %+v, want example.com defined in %s", z, second)
	}
	if len(diags) == 0 {
		t.Fatal("no warning about mx_publish without mx")
	}
	for _, d := range diags {
		if d.File != second {
			t.Errorf("finding placed in %s, want %s: %s", d.File, second, d)
		}
	}
}
