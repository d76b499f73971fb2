package e2e

import (
	"strings"
	"testing"
)

// Issue #13, failure 9: one broken file blocked every other file's
// updates until it was fixed. Each file keeps its own last good version:
// the broken one serves its previous zones, is reported in the log, on
// /status and as a metric, and every other file updates as usual.
func TestBrokenFileBlocksNoOther(t *testing.T) {
	s := newSite(t, map[string]string{
		"zones/a.yaml": zoneYAML("a.test", "192.0.2.1"),
		"zones/b.yaml": zoneYAML("b.test", "192.0.2.2"),
	})
	s.start()
	s.expectA("www.b.test", "192.0.2.2", "start")

	// Line 7 has an MX written with a space instead of "pref;host".
	s.save("zones/b.yaml", zoneYAML("b.test", "192.0.2.3", `"@": {mx: ["10 mx1"]}`))
	s.save("zones/a.yaml", zoneYAML("a.test", "192.0.2.4"))
	s.waitA("www.a.test", "192.0.2.4", "failure 9 (zones/b.yaml broken: a save of zones/a.yaml)")
	s.expectA("www.b.test", "192.0.2.2", "failure 9 (the broken file's last good copy)")
	f := s.waitInError("b.yaml", "last good copy", "failure 9")
	if !strings.Contains(f.Error, "b.yaml:7:") {
		t.Errorf("failure 9: files_in_error error %q does not name b.yaml:7:", f.Error)
	}
	if v, ok, err := s.srv.Metric("mxdns_files_in_error"); err != nil || !ok || v != 1 {
		t.Errorf("failure 9: mxdns_files_in_error = %v (exported %v, %v), want 1", v, ok, err)
	}
	log := s.srv.Log()
	if !strings.Contains(log, `msg="file error, serving last good copy"`) || !strings.Contains(log, "b.yaml") {
		t.Errorf("failure 9: the log has no ERROR msg=\"file error, serving last good copy\" naming b.yaml")
	}

	s.save("zones/b.yaml", zoneYAML("b.test", "192.0.2.5"))
	s.waitA("www.b.test", "192.0.2.5", "failure 9 (the broken file, fixed)")
	s.waitNotInError("b.yaml", "failure 9 (the broken file, fixed)")
	if v, ok, err := s.srv.Metric("mxdns_files_in_error"); err != nil || !ok || v != 0 {
		t.Errorf("failure 9: mxdns_files_in_error = %v (exported %v, %v) after the fix, want 0", v, ok, err)
	}
}
