package e2e

import (
	"fmt"
	"os"
	"testing"
)

// Issue #13, failure 1: relative paths never reload. The watcher reported
// ./config.yaml while the snapshot compared config.yaml, so a server
// started with a relative -config (as `make run` does) ignored every save
// of the config and of files matched by a relative glob.
func TestRelativePathsReload(t *testing.T) {
	for _, tc := range []struct{ config, glob string }{
		{"config.yaml", "zones/*.yaml"},
		{"./config.yaml", "./zones/*.yaml"},
		{"sub/../config.yaml", "sub/../zones/*.yaml"},
	} {
		t.Run(tc.config, func(t *testing.T) {
			s := newSite(t, map[string]string{"zones/a.yaml": zoneYAML("a.test", "192.0.2.1")})
			if err := os.Mkdir(s.path("sub"), 0o755); err != nil {
				t.Fatal(err)
			}
			s.configArg, s.glob = tc.config, tc.glob
			s.start()
			s.expectA("www.cfg.test", "192.0.2.10", "start")
			s.expectA("www.a.test", "192.0.2.1", "start")

			// Two rounds: the first save may be read by the reload every
			// server makes just after it starts; the second needs the
			// watcher to see the save.
			for i, addr := range []string{"192.0.2.11", "192.0.2.12"} {
				s.cfgWWW = addr
				s.rewriteConfig()
				s.waitA("www.cfg.test", addr, fmt.Sprintf("failure 1 (save %d of the config named -config %s is never served)", i+1, tc.config))
			}
			for i, addr := range []string{"192.0.2.2", "192.0.2.3"} {
				s.save("zones/a.yaml", zoneYAML("a.test", addr))
				s.waitA("www.a.test", addr, fmt.Sprintf("failure 1 (save %d of a file matched by zone_files %s is never served)", i+1, tc.glob))
			}
		})
	}
}
