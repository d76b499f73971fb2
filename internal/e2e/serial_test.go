package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/mxdns/mxdns/internal/harness"
)

// Issue #13, failure 5: serial: auto went backwards after a restart: by 55
// after 60 quick edits (the serial ran ahead of the file's mtime), and by
// 337 days after `cp -p` put back an older file. Secondaries then keep
// stale data. Serials must only increase (RFC 1982) across edits,
// SIGTERM restarts, kill -9 and restored old files.
func TestAutoSerialNeverGoesBack(t *testing.T) {
	s := newSite(t, map[string]string{"zones/s.yaml": zoneYAML("s.test", "10.0.0.0")})
	s.start()
	last := s.serial("s.test")
	check := func(what string, mustIncrease bool) {
		t.Helper()
		got := s.serial("s.test")
		if harness.SerialAfter(last, got) || (mustIncrease && got == last) {
			t.Fatalf("failure 5 (%s): s.test serial %d after %d", what, got, last)
		}
		last = got
	}

	for i := 1; i <= 60; i++ {
		addr := fmt.Sprintf("10.0.0.%d", i)
		s.save("zones/s.yaml", zoneYAML("s.test", addr))
		s.waitA("www.s.test", addr, "edit")
		check(fmt.Sprintf("edit %d of 60", i), true)
	}
	s.restart(false, "restart")
	check("SIGTERM and restart after 60 quick edits", false)

	// An older copy of the file, put back with its old mtime by cp -p.
	old := s.path("old-s.yaml")
	if err := os.WriteFile(old, []byte(zoneYAML("s.test", "10.0.1.1")), 0o644); err != nil {
		t.Fatal(err)
	}
	then := time.Now().Add(-337 * 24 * time.Hour)
	if err := os.Chtimes(old, then, then); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("cp", "-p", old, s.path("zones/s.yaml")).CombinedOutput(); err != nil {
		t.Fatalf("cp -p: %v: %s", err, out)
	}
	s.waitA("www.s.test", "10.0.1.1", "cp -p of an older file")
	check("cp -p of a file 337 days old", true)
	s.restart(false, "restart")
	check("SIGTERM and restart after cp -p of a file 337 days old", false)

	s.save("zones/s.yaml", zoneYAML("s.test", "10.0.2.1"))
	s.waitA("www.s.test", "10.0.2.1", "edit")
	check("edit after restart", true)
	s.restart(true, "kill -9 and restart")
	check("kill -9 and restart", false)
}
