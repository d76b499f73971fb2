package health

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mxdns/mxdns/zone"
)

func TestReadState(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "wan1")
	for _, tc := range []struct {
		content string // "-" for no file
		ok      bool
		result  string
	}{
		{"up\n", true, "up"},
		{"  UP  ", true, "up"},
		{"down", false, "down"},
		{"", false, "empty; want up or down"},
		{"password=hunter2\n", false, "want up or down, found something else (not shown)"},
		{"-", false, "no such file or directory"},
	} {
		os.Remove(path)
		if tc.content != "-" {
			if err := os.WriteFile(path, []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		out := readState(path)
		if out.ok != tc.ok || out.result != "file "+path+": "+tc.result {
			t.Errorf("%q: %+v, want %v %q", tc.content, out, tc.ok, tc.result)
		}
	}
}

// monitorOf runs m on links and returns a channel of every report.
func monitorOf(t *testing.T, links []zone.Link) (*Monitor, <-chan report) {
	t.Helper()
	reports := make(chan report, 100)
	m := New(Config{Report: func(c Checker, res Result, up, flip bool) { reports <- report{c.Link, res, up, flip} }})
	m.Sync(links)
	t.Cleanup(func() { m.Cancel() })
	return m, reports
}

type report struct {
	link     string
	res      Result
	up, flip bool
}

// waitVerdict waits until a report says link is up (or down).
func waitVerdict(t *testing.T, reports <-chan report, link string, up bool) report {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case r := <-reports:
			if r.link == link && r.up == up {
				return r
			}
		case <-deadline:
			t.Fatalf("%s not %v within 20s", link, map[bool]string{true: "up", false: "down"}[up])
		}
	}
}

// TestFileCheckWatched: a change of the file is seen at once, long
// before the hour-long interval; a missing file is down with the reason.
func TestFileCheckWatched(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "wan1.state")
	os.WriteFile(path, []byte("up\n"), 0o644)
	check := zone.Check{File: path, Interval: time.Hour, Timeout: time.Second, Rise: 1, Fall: 1}
	_, reports := monitorOf(t, []zone.Link{{Name: "wan1", Checks: []zone.Check{check}}})
	waitVerdict(t, reports, "wan1", true) // the first probe, within a second

	save := func(text string) { // as a monitor does: write a file, rename it into place
		tmp := filepath.Join(dir, ".wan1.tmp")
		os.WriteFile(tmp, []byte(text), 0o644)
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
	save("down\n")
	if r := waitVerdict(t, reports, "wan1", false); r.res.Result != "file "+path+": down" || !r.flip {
		t.Errorf("down: %+v", r)
	}
	save("up\n")
	waitVerdict(t, reports, "wan1", true)
	os.Remove(path)
	if r := waitVerdict(t, reports, "wan1", false); !strings.HasSuffix(r.res.Result, ": no such file or directory") {
		t.Errorf("removed: %+v", r)
	}
}

// TestRequire: with two checks, all wants both up, any wants one.
func TestRequire(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	os.WriteFile(a, []byte("up"), 0o644)
	os.WriteFile(b, []byte("down"), 0o644)
	checks := []zone.Check{
		{File: a, Interval: time.Hour, Timeout: time.Second, Rise: 1, Fall: 1},
		{File: b, Interval: time.Hour, Timeout: time.Second, Rise: 1, Fall: 1},
	}
	links := []zone.Link{{Name: "all", Checks: checks}, {Name: "any", Checks: checks, Require: zone.RequireAny}}
	m, reports := monitorOf(t, links)
	waitVerdict(t, reports, "all", false)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) && (len(m.Results("any")) < 2 || m.Results("any")[1].Time.IsZero()) {
		time.Sleep(5 * time.Millisecond)
	}
	if up := m.Up(links); !up.Has(1) || up.Has(0) {
		t.Errorf("up set %b: want any up, all down", up)
	}
	if ups := m.CheckUp("all"); len(ups) != 2 || !ups[0] || ups[1] {
		t.Errorf("check verdicts %v", ups)
	}
	os.WriteFile(a, []byte("down"), 0o644)
	waitVerdict(t, reports, "any", false)
	os.WriteFile(b, []byte("up"), 0o644)
	waitVerdict(t, reports, "any", true)
}

// A FIFO at the path is refused without being opened, which would block.
func TestFileProbeRefusesAFIFO(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skip(err)
	}
	done := make(chan outcome, 1)
	go func() { done <- readState(path) }()
	select {
	case out := <-done:
		if out.ok || !strings.Contains(out.result, "not a regular file") {
			t.Errorf("a FIFO: %+v", out)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("reading a FIFO blocked")
	}
}
