package zone

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestSymlinkTargetsAreWatched: a configuration or zone file that is a
// symbolic link into another directory has that directory watched, its
// target concerns the snapshot, and a change reported at the target
// reloads the file read through the link.
func TestSymlinkTargetsAreWatched(t *testing.T) {
	dir := t.TempDir()
	etc, elsewhere, zones := filepath.Join(dir, "etc"), filepath.Join(dir, "elsewhere"), filepath.Join(dir, "zones")
	for _, d := range []string{etc, elsewhere, zones} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	zoneText := func(addr string) string {
		return "zones:\n  a.test: {ns: [ns1.example.net.], records: {www: {a: " + addr + "}}}\n"
	}
	realConfig, realZone := filepath.Join(etc, "mxdns.yaml"), filepath.Join(elsewhere, "a.yaml")
	writeFile(t, realConfig, "zone_files: [\"zones/*.yaml\"]\n", time.Unix(1000, 0))
	writeFile(t, realZone, zoneText("192.0.2.1"), time.Unix(1000, 0))
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.Symlink("etc/mxdns.yaml", cfg); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../elsewhere/a.yaml", filepath.Join(zones, "a.yaml")); err != nil {
		t.Fatal(err)
	}
	snap, diags := Load(cfg, nil)
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{dir, zones, etc, elsewhere} {
		if !slices.Contains(snap.WatchDirs(), d) {
			t.Errorf("WatchDirs %q lacks %s", snap.WatchDirs(), d)
		}
	}
	for _, f := range []string{realConfig, realZone} {
		if !snap.Concerns(f) {
			t.Errorf("a change of the link target %s does not concern the snapshot", f)
		}
	}
	if snap.Concerns(filepath.Join(elsewhere, "other.yaml")) {
		t.Errorf("a file beside a link target concerns the snapshot")
	}

	writeFile(t, realZone, zoneText("192.0.2.2"), time.Unix(2000, 0))
	next, diags := Reload(cfg, snap, []string{realZone})
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	if got := wwwA(t, next, "a.test"); got != "192.0.2.2" {
		t.Errorf("after the target changed: %s, want 192.0.2.2", got)
	}
}

// wwwA is the address of www in zone.
func wwwA(t *testing.T, s *Snapshot, zone string) string {
	t.Helper()
	r := s.Lookup(dns.Question{Name: "www." + zone + ".", Qtype: dns.TypeA, Qclass: dns.ClassINET}, Client{Link: NoLink})
	if len(r.Answer) != 1 {
		t.Fatalf("www.%s: %v", zone, r.Answer)
	}
	return r.Answer[0].(*dns.A).A.String()
}
