package e2e

import (
	"strings"
	"testing"
)

// Issue #13, failure 3: one broken file at start means no DNS at all. A
// broken file (or config) at start is replaced by its last good copy from
// the state directory, and the good files are served as they are.
func TestBrokenFileAtStart(t *testing.T) {
	t.Run("zone file", func(t *testing.T) {
		s := newSite(t, map[string]string{
			"zones/a.yaml": zoneYAML("a.test", "192.0.2.1"),
			"zones/b.yaml": zoneYAML("b.test", "192.0.2.2"),
		})
		s.start()
		s.expectA("www.b.test", "192.0.2.2", "start")
		before := s.status()
		s.save("zones/b.yaml", "zones:\n  b.test:\n    ns: [ns1.b.test.\n")
		s.waitProcessed(before, "b.yaml", "failure 3")
		s.expectA("www.b.test", "192.0.2.2", "failure 3 (broken save while running)")

		s.restart(false, "failure 3 (restart with a broken zones/b.yaml: no DNS at all)")
		s.expectA("www.a.test", "192.0.2.1", "failure 3 (the good file after a restart)")
		s.expectA("www.b.test", "192.0.2.2", "failure 3 (the broken file's last good copy after a restart)")
		s.expectA("www.cfg.test", "192.0.2.10", "failure 3 (the config's zone after a restart)")
		s.waitInError("b.yaml", "last good copy", "failure 3 (restart with a broken file)")
	})

	t.Run("config", func(t *testing.T) {
		s := newSite(t, map[string]string{"zones/a.yaml": zoneYAML("a.test", "192.0.2.1")})
		s.start()
		before := s.status()
		s.brokenCfg = true
		s.rewriteConfig()
		s.waitProcessed(before, "config.yaml", "failure 3")
		s.restart(false, "failure 3 (restart with a broken config.yaml: no DNS at all)")
		s.expectA("www.cfg.test", "192.0.2.10", "failure 3 (the config's last good copy after a restart)")
		s.expectA("www.a.test", "192.0.2.1", "failure 3 (a zone file after a restart with a broken config)")
		s.waitInError("config.yaml", "last good copy", "failure 3 (restart with a broken config)")
	})

	t.Run("no good copy", func(t *testing.T) {
		s := newSite(t, map[string]string{
			"zones/a.yaml": zoneYAML("a.test", "192.0.2.1"),
			"zones/c.yaml": "zones:\n  c.test: [\n",
		})
		if err := s.tryStart(); err != nil {
			t.Fatalf("failure 3 (a file broken before it was ever good stops every zone): %v", err)
		}
		s.expectA("www.a.test", "192.0.2.1", "failure 3 (the good file beside a never-good one)")
		if got := s.answer("www.c.test"); got != "REFUSED" {
			t.Errorf("www.c.test A: %q, want REFUSED (no good copy of zones/c.yaml exists)", got)
		}
		s.waitInError("c.yaml", "nothing", "failure 3 (a file with no good copy)")
	})

	t.Run("strict", func(t *testing.T) {
		s := newSite(t, map[string]string{
			"zones/a.yaml": zoneYAML("a.test", "192.0.2.1"),
			"zones/c.yaml": "zones:\n  c.test: [\n",
		})
		s.extraArgs = []string{"-strict"}
		err := s.tryStart()
		if err == nil {
			t.Fatal("mxdns serve -strict started with a broken zones/c.yaml; want it to refuse")
		}
		if !strings.Contains(err.Error(), "c.yaml:") {
			t.Fatalf("mxdns serve -strict refused to start without naming zones/c.yaml: %v", err)
		}
	})
}
