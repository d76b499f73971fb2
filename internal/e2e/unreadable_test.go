package e2e

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/mxdns/mxdns/internal/harness"
)

// Issue #13, failure 4: a zone directory that becomes unreadable (chmod
// 000, a wrong owner after a deploy) silently dropped every zone in it.
// Its zones must stay, and /status must say something is wrong. The same
// holds for one unreadable file.
func TestUnreadableDirectoryKeepsZones(t *testing.T) {
	s := newSite(t, map[string]string{"zones/u.yaml": zoneYAML("u.test", "192.0.2.1")})
	if os.Geteuid() == 0 {
		// Root reads through chmod 000: run the server as nobody, in a
		// directory nobody may use.
		s.nobody = true
		if err := chownTree(s.dir, nobodyID); err != nil {
			t.Skipf("cannot hand the site to uid %d, and root ignores chmod 000: %v", nobodyID, err)
		}
		for d := filepath.Dir(s.dir); d != "/"; d = filepath.Dir(d) {
			if err := allowSearch(d); err != nil {
				t.Skipf("cannot make %s searchable for uid %d, and root ignores chmod 000: %v", d, nobodyID, err)
			}
		}
	}
	if err := s.tryStart(); err != nil {
		if s.nobody {
			t.Skipf("cannot run the server as uid %d (root ignores chmod 000): %v", nobodyID, err)
		}
		t.Fatal(err)
	}
	s.expectA("www.u.test", "192.0.2.1", "start")

	zones := s.path("zones")
	t.Cleanup(func() { _ = os.Chmod(zones, 0o755) }) // so that TempDir can be removed
	before := s.status()
	if err := os.Chmod(zones, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.srv.Signal(syscall.SIGHUP); err != nil { // a reload even if chmod made no event
		t.Fatal(err)
	}
	s.waitStatus("a reload after chmod 000 zones", "failure 4", func(st harnessStatus) bool {
		return st.Reload.Count > before.Reload.Count || st.Reload.Failures > before.Reload.Failures || len(st.FilesInError) > 0
	})
	s.expectA("www.u.test", "192.0.2.1", "failure 4 (chmod 000 on the zone directory withdrew its zones)")
	s.waitStatus("an error for the unreadable zone directory", "failure 4 (/status says ok with the zone directory unreadable)", func(st harnessStatus) bool {
		return len(st.FilesInError) > 0 || !st.Reload.OK
	})

	if err := os.Chmod(zones, 0o755); err != nil {
		t.Fatal(err)
	}
	s.save("zones/u.yaml", zoneYAML("u.test", "192.0.2.2"))
	s.waitA("www.u.test", "192.0.2.2", "failure 4 (a save after the directory is readable again)")
	s.waitStatus("no files in error", "failure 4 (after recovery)", func(st harnessStatus) bool { return len(st.FilesInError) == 0 })

	// One unreadable file: EACCES is not ENOENT.
	file := s.path("zones/u.yaml")
	before = s.status()
	if err := os.Chmod(file, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.srv.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	s.waitProcessed(before, "u.yaml", "failure 4")
	s.expectA("www.u.test", "192.0.2.2", "failure 4 (chmod 000 on a zone file withdrew its zone)")
	s.waitInError("u.yaml", "last good copy", "failure 4 (an unreadable file)")
}

const nobodyID = harness.NobodyID

func chownTree(root string, id int) error {
	return filepath.WalkDir(root, func(p string, _ os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, id, id)
	})
}

// allowSearch adds o+x to a directory on the way to the site.
func allowSearch(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if fi.Mode().Perm()&0o001 != 0 {
		return nil
	}
	return os.Chmod(dir, fi.Mode().Perm()|0o001)
}
