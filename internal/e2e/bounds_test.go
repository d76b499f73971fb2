package e2e

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mxdns/mxdns/internal/harness"
)

// Issue #13, failure 6: reading is unbounded. A zone file that is a link
// to /dev/zero grew the server until the kernel killed it; a FIFO blocked
// the reload forever (later saves never applied, /status hung); a small
// file of YAML aliases took minutes and gigabytes; an RRset was built in
// quadratic time. Each must be an error for its file alone, found within
// bounded time and memory, with every other file still updating.
func TestBoundedReads(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		want       []string // the error names one of these (the limit)
		make       func(path string) error
	}{
		{"dev zero link", "zero.yaml", nil, func(p string) error { return os.Symlink("/dev/zero", p) }},
		{"fifo", "fifo.yaml", nil, func(p string) error { return syscall.Mkfifo(p, 0o644) }},
		{"alias bomb", "bomb.yaml", []string{"max_records_per_file", "2000000", "2,000,000"}, func(p string) error { return os.WriteFile(p, []byte(harness.AliasBomb("test")), 0o644) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			failure := "failure 6 (" + tc.name + " as a zone file)"
			s := newSite(t, map[string]string{"zones/a.yaml": zoneYAML("a.test", "192.0.2.1")})
			s.start()
			path := s.path("zones/" + tc.file)
			t.Cleanup(func() { harness.UnblockFIFO(path) })
			if err := tc.make(path); err != nil {
				t.Fatal(err)
			}
			s.save("zones/a.yaml", zoneYAML("a.test", "192.0.2.2"))
			if !s.srv.Running() || s.srv.MemKilled() {
				t.Fatalf("%s: the server died, peak RSS %s\n%s", failure, harness.MiB(s.srv.PeakRSS()), tail(s.srv.Log(), 5))
			}
			s.waitA("www.a.test", "192.0.2.2", failure+": a later save of another file")
			f := s.waitInError(tc.file, "nothing", failure)
			if len(tc.want) > 0 && !slices.ContainsFunc(tc.want, func(w string) bool { return strings.Contains(f.Error, w) }) {
				t.Errorf("%s: error %q names none of %q", failure, f.Error, tc.want)
			}
			s.expectA("www.cfg.test", "192.0.2.10", failure)
			if peak := s.srv.PeakRSS(); peak >= memLimit || s.srv.MemKilled() {
				t.Fatalf("%s: peak RSS %s, limit %s", failure, harness.MiB(peak), harness.MiB(memLimit))
			}
		})
	}

	t.Run("one large RRset", func(t *testing.T) {
		// 40,000 TXT records at one name: twice the 20,000 that took 6.5 s
		// when each record was checked against all before it. A linear
		// build takes a fraction of a second.
		const records, limit = 40000, 5 * time.Second
		s := newSite(t, map[string]string{"zones/a.yaml": zoneYAML("a.test", "192.0.2.1")})
		s.start()
		var b strings.Builder
		b.WriteString(zoneYAML("a.test", "192.0.2.2", "big:", "  txt:"))
		for i := range records {
			fmt.Fprintf(&b, "          - \"r%d\"\n", i)
		}
		start := time.Now()
		s.save("zones/a.yaml", b.String())
		s.waitA("www.a.test", "192.0.2.2", "failure 6 (one RRset of 40,000 records)")
		if took := time.Since(start); took > limit {
			t.Fatalf("failure 6 (quadratic RRset): a file with %d records in one RRset took %v to serve, limit %v", records, took.Round(time.Millisecond), limit)
		}
	})
}
