package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/internal/harness"
)

// deadline bounds every wait for the server to act on a change: generous,
// because the machine may be busy; the server normally takes milliseconds.
const deadline = 20 * time.Second

// memLimit: a server past this resident set is killed and the test fails;
// a few small zones need a few tens of MiB.
const memLimit = 512 << 20

// site is a server's working directory with its config.yaml, zone files
// and state directory, and the server running there.
type site struct {
	t   *testing.T
	dir string
	srv *harness.Server

	configArg string // how -config is spelled on the command line
	glob      string // the zone_files glob
	cfgWWW    string // www.cfg.test's address in config.yaml
	brokenCfg bool   // config.yaml is written with a syntax error
	nobody    bool   // the server runs as uid 65534
	extraArgs []string
}

// newSite makes a directory holding files (relative path to content).
func newSite(t *testing.T, files map[string]string) *site {
	t.Helper()
	s := &site{t: t, dir: t.TempDir(), configArg: "config.yaml", glob: "zones/*.yaml", cfgWWW: "192.0.2.10"}
	if err := os.MkdirAll(filepath.Join(s.dir, "zones"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, text := range files {
		s.writeInPlace(name, text)
	}
	return s
}

// config is config.yaml for the given ports: the listen and admin
// addresses, RRL off, the glob, and one zone of its own.
func (s *site) config(port, admin int) string {
	text := fmt.Sprintf(`listen: ["127.0.0.1:%d"]
admin: "127.0.0.1:%d"
rrl: off
zone_files: [%q]
zones:
  cfg.test:
    ns: [ns1.cfg.test.]
    records:
      ns1: {a: 192.0.2.53}
      www: {a: %s}
`, port, admin, s.glob, s.cfgWWW)
	if s.brokenCfg {
		text += "  broken.test: [\n"
	}
	return text
}

// args is the command line: serve, relative paths, the state directory.
func (s *site) args() []string {
	args := []string{"serve", "-config", s.configArg}
	if hasStateDir {
		args = append(args, "-state-dir", "state")
	}
	return append(args, s.extraArgs...)
}

// start runs the server in the site and stops it when the test ends.
func (s *site) start() {
	s.t.Helper()
	if err := s.tryStart(); err != nil {
		s.t.Fatal(err)
	}
}

// tryStart is start returning the error of a server that did not come up.
func (s *site) tryStart() error {
	s.t.Helper()
	srv, err := harness.Start(harness.Options{
		Bin: bin, Dir: s.dir, Args: s.args(), Nobody: s.nobody, MemLimit: memLimit,
		WriteConfig: func(port, admin int) error {
			return os.WriteFile(filepath.Join(s.dir, "config.yaml"), []byte(s.config(port, admin)), 0o644)
		},
	})
	if srv != nil {
		s.srv = srv
		s.t.Cleanup(func() {
			if err := srv.Stop(); err != nil {
				s.t.Log(err)
			}
			if s.t.Failed() {
				s.t.Logf("server output:\n%s", tail(srv.Log(), 40))
			}
		})
	}
	return err
}

// restart stops the server with SIGTERM (or SIGKILL when kill9) and starts
// it again in the same place.
func (s *site) restart(kill9 bool, failure string) {
	s.t.Helper()
	if kill9 {
		s.srv.Kill()
	} else if err := s.srv.Stop(); err != nil {
		s.t.Fatal(err)
	}
	if err := s.srv.Restart(); err != nil {
		s.t.Fatalf("%s: %v", failure, err)
	}
}

// rewriteConfig saves config.yaml again (by rename) with the same ports.
func (s *site) rewriteConfig() {
	s.save("config.yaml", s.config(s.srv.Port, s.srv.AdminPort))
}

// save replaces a file the way editors do: write a temporary file
// elsewhere, then rename it into place.
func (s *site) save(name, text string) {
	s.t.Helper()
	tmpDir := filepath.Join(s.dir, "saves")
	if err := os.MkdirAll(tmpDir, 0o755); err != nil {
		s.t.Fatal(err)
	}
	f, err := os.CreateTemp(tmpDir, "save")
	if err != nil {
		s.t.Fatal(err)
	}
	if _, err := f.WriteString(text); err != nil {
		s.t.Fatal(err)
	}
	if err := f.Chmod(0o644); err != nil {
		s.t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		s.t.Fatal(err)
	}
	if err := os.Rename(f.Name(), filepath.Join(s.dir, name)); err != nil {
		s.t.Fatal(err)
	}
}

// writeInPlace truncates and writes the file, as `cat >` or an in-place
// editor save does.
func (s *site) writeInPlace(name, text string) {
	s.t.Helper()
	if err := os.WriteFile(filepath.Join(s.dir, name), []byte(text), 0o644); err != nil {
		s.t.Fatal(err)
	}
}

func (s *site) path(name string) string { return filepath.Join(s.dir, name) }

// zoneYAML is a zone file defining origin with www at addr; extra lines
// go into its records. Line 6 is www.
func zoneYAML(origin, addr string, extra ...string) string {
	text := fmt.Sprintf("zones:\n  %s:\n    ns: [ns1.%s.]\n    records:\n      ns1: {a: 192.0.2.53}\n      www: {a: %s}\n", origin, origin, addr)
	for _, l := range extra {
		text += "      " + l + "\n"
	}
	return text
}

// answer summarises the reply to name A: the rcode and sorted addresses,
// or the error.
func (s *site) answer(name string) string {
	r, err := s.srv.Query(name, dns.TypeA)
	if err != nil {
		if s.srv.MemKilled() {
			return fmt.Sprintf("no answer, the test killed the server at RSS over %s", harness.MiB(memLimit))
		}
		if !s.srv.Running() {
			return fmt.Sprintf("no answer, server exited (%v)", s.srv.ExitErr())
		}
		return "no answer: " + err.Error()
	}
	return summary(r)
}

func summary(r *dns.Msg) string {
	var addrs []string
	for _, rr := range r.Answer {
		if a, ok := rr.(*dns.A); ok {
			addrs = append(addrs, a.A.String())
		}
	}
	slices.Sort(addrs)
	return strings.TrimSpace(dns.RcodeToString[r.Rcode] + " " + strings.Join(addrs, " "))
}

// expectA fails unless name A answers NOERROR with exactly addr now.
func (s *site) expectA(name, addr, failure string) {
	s.t.Helper()
	if got, want := s.answer(name), "NOERROR "+addr; got != want {
		s.t.Fatalf("%s: %s A answered %q, want %q%s", failure, name, got, want, s.statusNote())
	}
}

// waitA waits until name A answers NOERROR with exactly addr.
func (s *site) waitA(name, addr, failure string) {
	s.t.Helper()
	want := "NOERROR " + addr
	var got string
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	if !harness.Wait(ctx, func() bool { got = s.answer(name); return got == want }) {
		s.t.Fatalf("%s: %s A still answers %q after %v, want %q%s", failure, name, got, deadline, want, s.statusNote())
	}
}

// status fetches /status, failing the test when it does not answer.
func (s *site) status() harness.Status {
	s.t.Helper()
	st, err := s.srv.Status()
	if err != nil {
		s.t.Fatal(err)
	}
	return st
}

// statusNote is /status's reload error and files in error, for messages.
func (s *site) statusNote() string {
	st, err := s.srv.Status()
	if err != nil {
		return "\n/status: " + err.Error()
	}
	return fmt.Sprintf("\n/status: reload ok=%v count=%d last_error=%q files_in_error=%+v", st.Reload.OK, st.Reload.Count, st.Reload.LastError, st.FilesInError)
}

// waitStatus waits until cond holds for /status.
func (s *site) waitStatus(what, failure string, cond func(harness.Status) bool) harness.Status {
	s.t.Helper()
	var st harness.Status
	var err error
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	ok := harness.Wait(ctx, func() bool {
		st, err = s.srv.Status()
		return err == nil && cond(st)
	})
	if !ok {
		if err != nil {
			s.t.Fatalf("%s: waiting for %s: %v", failure, what, err)
		}
		s.t.Fatalf("%s: /status never showed %s within %v; last: reload ok=%v last_error=%q files_in_error=%+v", failure, what, deadline, st.Reload.OK, st.Reload.LastError, st.FilesInError)
	}
	return st
}

// waitProcessed waits until the server has acted on a save of file made
// after before was taken: a reload was counted, or the file is reported
// in error. Either comes within milliseconds of the save.
func (s *site) waitProcessed(before harness.Status, file, failure string) {
	s.t.Helper()
	s.waitStatus("a reload after the save of "+file, failure, func(st harness.Status) bool {
		_, inErr := st.InError(file)
		return st.Reload.Count > before.Reload.Count || st.Reload.Failures > before.Reload.Failures || inErr
	})
}

// waitInError waits until file is listed in files_in_error, serving
// serving, and returns the entry.
func (s *site) waitInError(file, serving, failure string) harness.FileError {
	s.t.Helper()
	st := s.waitStatus(fmt.Sprintf("%s in files_in_error serving %q", file, serving), failure, func(st harness.Status) bool {
		f, ok := st.InError(file)
		return ok && f.Serving == serving
	})
	f, _ := st.InError(file)
	if f.Error == "" {
		s.t.Errorf("%s: files_in_error entry for %s has no error", failure, file)
	}
	if _, err := time.Parse(time.RFC3339, f.Since); err != nil {
		s.t.Errorf("%s: files_in_error since %q: %v", failure, f.Since, err)
	}
	return f
}

// waitNotInError waits until no entry of files_in_error names file.
func (s *site) waitNotInError(file, failure string) {
	s.t.Helper()
	s.waitStatus(file+" gone from files_in_error", failure, func(st harness.Status) bool {
		_, ok := st.InError(file)
		return !ok
	})
}

// serial is the zone's SOA serial now.
func (s *site) serial(zone string) uint32 {
	s.t.Helper()
	r, err := s.srv.Query(zone, dns.TypeSOA)
	if err != nil {
		s.t.Fatalf("%s SOA: %v", zone, err)
	}
	serial, ok := harness.Serial(r)
	if !ok {
		s.t.Fatalf("%s SOA: no serial in %q", zone, summary(r))
	}
	return serial
}

// tail is the last n lines of text.
func tail(text string, n int) string {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{"..."}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

type harnessStatus = harness.Status
