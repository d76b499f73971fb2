package e2e

import (
	"fmt"
	"os"
	"testing"
)

// A configuration or zone file that is a symbolic link into a directory
// of its own (kept in /etc, linked into the working directory) must
// reload on a save of its target, as a save of the file itself does:
// the server used to watch only the link's directory and needed SIGHUP.
func TestSymlinkTargetsReload(t *testing.T) {
	s := newSite(t, nil)
	for _, d := range []string{"etc", "elsewhere"} {
		if err := os.Mkdir(s.path(d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	s.writeInPlace("elsewhere/a.yaml", zoneYAML("a.test", "192.0.2.1"))
	if err := os.Symlink("../elsewhere/a.yaml", s.path("zones/a.yaml")); err != nil {
		t.Fatal(err)
	}
	// The harness writes config.yaml through the link, into etc/.
	if err := os.Symlink("etc/mxdns.yaml", s.path("config.yaml")); err != nil {
		t.Fatal(err)
	}
	s.start()
	s.expectA("www.cfg.test", "192.0.2.10", "start")
	s.expectA("www.a.test", "192.0.2.1", "start")

	// Two rounds each, as in TestRelativePathsReload: the first save may
	// be read by the reload every server makes just after it starts.
	for i, addr := range []string{"192.0.2.11", "192.0.2.12"} {
		s.cfgWWW = addr
		s.save("etc/mxdns.yaml", s.config(s.srv.Port, s.srv.AdminPort))
		s.waitA("www.cfg.test", addr, fmt.Sprintf("save %d of the configuration's link target is never served", i+1))
	}
	for i, addr := range []string{"192.0.2.2", "192.0.2.3"} {
		s.save("elsewhere/a.yaml", zoneYAML("a.test", addr))
		s.waitA("www.a.test", addr, fmt.Sprintf("save %d of a zone file's link target is never served", i+1))
	}
	s.writeInPlace("elsewhere/a.yaml", zoneYAML("a.test", "192.0.2.4"))
	s.waitA("www.a.test", "192.0.2.4", "a zone file's link target written in place is never served")
}
