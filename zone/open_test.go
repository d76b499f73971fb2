package zone

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// memory is a Memory held in maps, as the state directory would hold it.
type memory struct {
	copies  map[string]FileCopy
	serials map[string]SerialRecord
}

func (m *memory) LastGood(file string) (FileCopy, bool) {
	c, ok := m.copies[file]
	return c, ok
}

func (m *memory) LastSerial(origin string) (SerialRecord, bool) {
	r, ok := m.serials[origin]
	return r, ok
}

func (m *memory) KnownFiles() []string {
	var out []string
	for f, c := range m.copies {
		if !c.Cert {
			out = append(out, f)
		}
	}
	return out
}

// remember keeps what a load read good and served, as the server does.
func (m *memory) remember(l Loaded) {
	if m.copies == nil {
		m.copies, m.serials = map[string]FileCopy{}, map[string]SerialRecord{}
	}
	for _, c := range l.Copies {
		m.copies[c.File] = c
	}
	if l.Snapshot != nil {
		for o, r := range l.Snapshot.Serials() {
			m.serials[o] = r
		}
	}
}

func zoneText(origin, addr string) string {
	return "zones:\n  " + origin + ":\n    ns: [ns1.example.net.]\n    records:\n      mx1: {a: " + addr + "}\n"
}

// mx1 is the address the snapshot answers for mx1 in origin, "" for none.
func mx1(t *testing.T, s *Snapshot, origin string) string {
	t.Helper()
	if s == nil {
		t.Fatal("no snapshot")
	}
	z := s.zones[origin+"."]
	if z == nil {
		return ""
	}
	n := z.nodes.at("mx1." + origin + ".")
	if n == nil || len(n.sets) == 0 || len(n.sets[0].rrs) == 0 {
		return ""
	}
	f := strings.Fields(n.sets[0].rrs[0].String())
	return f[len(f)-1]
}

func mustOpen(t *testing.T, cfg string, prev *Snapshot, mem *memory) Loaded {
	t.Helper()
	opts := Options{}
	if mem != nil {
		opts.Memory = mem
	}
	l := Open(cfg, prev, opts)
	if l.Snapshot == nil {
		t.Fatalf("nothing served: %v", l.Diags.Errors())
	}
	if mem != nil {
		mem.remember(l)
	}
	return l
}

func faultFiles(s *Snapshot) []string {
	var out []string
	for _, f := range s.Faults() {
		out = append(out, filepath.Base(f.File))
	}
	return out
}

// Each save that would take zones away by mistake keeps the last good
// version served, reports the file, and leaves the other files alone.
func TestOpenKeepsLastGoodVersion(t *testing.T) {
	saves := map[string]string{
		"syntax error":       "zones:\n  a.test: [broken\n",
		"bad record":         zoneText("a.test", "not-an-address"),
		"empty":              "",
		"comments only":      "# nothing yet\n",
		"zones key alone":    "zones:\n",
		"build error":        "zones:\n  a.test:\n    ns: [ns1.example.net.]\n    records:\n      mx1: {a: 192.0.2.9, cname: x.example.net.}\n",
		"directory in place": "",
		"fifo in place":      "",
	}
	for name, text := range saves {
		t.Run(name, func(t *testing.T) {
			cfg, zones := zoneFilesConfig(t)
			a, b := filepath.Join(zones, "a.yaml"), filepath.Join(zones, "b.yaml")
			writeFile(t, a, zoneText("a.test", "192.0.2.1"), time.Unix(1_800_000_000, 0))
			writeFile(t, b, zoneText("b.test", "192.0.2.1"), time.Unix(1_800_000_000, 0))
			first := mustOpen(t, cfg, nil, nil)

			switch name {
			case "directory in place":
				os.Remove(a)
				os.Mkdir(a, 0o755)
			case "fifo in place":
				os.Remove(a)
				if err := syscall.Mkfifo(a, 0o644); err != nil {
					t.Skip(err)
				}
			default:
				writeFile(t, a, text, time.Unix(1_800_000_100, 0))
			}
			writeFile(t, b, zoneText("b.test", "192.0.2.2"), time.Unix(1_800_000_100, 0))
			next := mustOpen(t, cfg, first.Snapshot, nil)
			if got := mx1(t, next.Snapshot, "a.test"); got != "192.0.2.1" {
				t.Errorf("a.test mx1 = %q, want its last good 192.0.2.1", got)
			}
			if got := mx1(t, next.Snapshot, "b.test"); got != "192.0.2.2" {
				t.Errorf("b.test mx1 = %q, want its new 192.0.2.2", got)
			}
			if got := faultFiles(next.Snapshot); len(got) != 1 || got[0] != "a.yaml" {
				t.Errorf("faults %v, want a.yaml", got)
			}
			if next.Diags.Err() == nil {
				t.Error("no error reported")
			}
			for _, c := range next.Copies {
				if c.File == a {
					t.Error("the broken file is offered as a good copy")
				}
			}

			// Unchanged, it stays in error, since the first time.
			again := mustOpen(t, cfg, next.Snapshot, nil)
			if f := again.Snapshot.Faults(); len(f) != 1 || !f[0].Since.Equal(next.Snapshot.Faults()[0].Since) || !f[0].Serving {
				t.Errorf("faults at the next load: %+v", f)
			}
		})
	}
}

// A file that is really gone takes its zones with it, without error.
func TestOpenRemovesDeletedFile(t *testing.T) {
	cfg, zones := zoneFilesConfig(t)
	a := filepath.Join(zones, "a.yaml")
	writeFile(t, a, zoneText("a.test", "192.0.2.1"), time.Unix(1_800_000_000, 0))
	writeFile(t, filepath.Join(zones, "b.yaml"), zoneText("b.test", "192.0.2.1"), time.Unix(1_800_000_000, 0))
	first := mustOpen(t, cfg, nil, nil)
	os.Remove(a)
	next := mustOpen(t, cfg, first.Snapshot, nil)
	if mx1(t, next.Snapshot, "a.test") != "" || len(next.Snapshot.Faults()) != 0 || next.Diags.Err() != nil {
		t.Errorf("a.test still served (%q) or an error: %v", mx1(t, next.Snapshot, "a.test"), next.Diags.Errors())
	}
}

// A zone directory that cannot be listed keeps every file it held.
func TestOpenKeepsFilesOfUnreadableDirectory(t *testing.T) {
	cfg, zones := zoneFilesConfig(t)
	writeFile(t, filepath.Join(zones, "a.yaml"), zoneText("a.test", "192.0.2.1"), time.Unix(1_800_000_000, 0))
	first := mustOpen(t, cfg, nil, nil)
	// Root reads through chmod 000; a symbolic link loop fails for all.
	os.Rename(zones, zones+".moved")
	if err := os.Symlink(filepath.Base(zones), zones); err != nil {
		t.Fatal(err)
	}
	next := mustOpen(t, cfg, first.Snapshot, nil)
	if got := mx1(t, next.Snapshot, "a.test"); got != "192.0.2.1" {
		t.Errorf("a.test mx1 = %q, want 192.0.2.1 kept", got)
	}
	if next.Diags.Err() == nil || len(next.Snapshot.Faults()) == 0 {
		t.Errorf("no error for the unreadable directory: %v", next.Diags)
	}
}

// At start, a broken file (configuration included) is served from the
// last good copy the memory keeps; without one, its zones are not served
// and the rest are.
func TestOpenStartsFromMemory(t *testing.T) {
	cfg, zones := zoneFilesConfig(t)
	a, b := filepath.Join(zones, "a.yaml"), filepath.Join(zones, "b.yaml")
	writeFile(t, a, zoneText("a.test", "192.0.2.1"), time.Unix(1_800_000_000, 0))
	mem := &memory{}
	mustOpen(t, cfg, nil, mem)

	writeFile(t, a, "zones: [\n", time.Unix(1_800_000_100, 0))
	writeFile(t, b, "zones: [\n", time.Unix(1_800_000_100, 0))
	writeFile(t, cfg, "zone_files: [\"zones/*.yaml\"\n", time.Unix(1_800_000_100, 0))
	l := mustOpen(t, cfg, nil, mem)
	if got := mx1(t, l.Snapshot, "a.test"); got != "192.0.2.1" {
		t.Errorf("a.test mx1 = %q, want the remembered 192.0.2.1", got)
	}
	faults := l.Snapshot.Faults()
	if len(faults) != 3 {
		t.Fatalf("faults %+v, want the config, a and b", faults)
	}
	for _, f := range faults {
		if want := filepath.Base(f.File) != "b.yaml"; f.Serving != want {
			t.Errorf("%s serving %v, want %v", f.File, f.Serving, want)
		}
	}

	if s, _ := Load(cfg, nil); s != nil {
		t.Error("the strict load served a broken configuration")
	}
}

// "serial: auto" never goes back, whatever the files' times say: across
// restarts after quick edits, and after an older file is restored.
func TestOpenSerialNeverGoesBack(t *testing.T) {
	cfg, zones := zoneFilesConfig(t)
	a := filepath.Join(zones, "a.yaml")
	mtime := time.Unix(1_800_000_000, 0)
	mem := &memory{}
	var last uint32
	for i := range 5 {
		writeFile(t, a, zoneText("a.test", "192.0.2."+string(rune('1'+i))), mtime)
		l := mustOpen(t, cfg, nil, mem) // each a restart
		got := serialOf(t, l.Snapshot, "a.test.")
		if i > 0 && !serialAfter(got, last) {
			t.Fatalf("edit %d: serial %d after %d", i, got, last)
		}
		last = got
	}
	// The same content after a restart keeps its serial.
	l := mustOpen(t, cfg, nil, mem)
	if got := serialOf(t, l.Snapshot, "a.test."); got != last {
		t.Errorf("unchanged zone's serial %d, want %d", got, last)
	}
	// An old file restored with its old time still moves up.
	writeFile(t, a, zoneText("a.test", "192.0.2.1"), time.Unix(1_700_000_000, 0))
	l = mustOpen(t, cfg, nil, mem)
	if got := serialOf(t, l.Snapshot, "a.test."); !serialAfter(got, last) {
		t.Errorf("restored file's serial %d, want after %d", got, last)
	}
}

// Reading is bounded: a link to /dev/zero is an error, not an endless read.
func TestOpenRefusesDevices(t *testing.T) {
	cfg, zones := zoneFilesConfig(t)
	a := filepath.Join(zones, "a.yaml")
	writeFile(t, a, zoneText("a.test", "192.0.2.1"), time.Unix(1_800_000_000, 0))
	first := mustOpen(t, cfg, nil, nil)
	os.Remove(a)
	if err := os.Symlink("/dev/zero", a); err != nil {
		t.Fatal(err)
	}
	next := mustOpen(t, cfg, first.Snapshot, nil)
	if got := mx1(t, next.Snapshot, "a.test"); got != "192.0.2.1" {
		t.Errorf("a.test mx1 = %q, want 192.0.2.1", got)
	}
	if err := next.Diags.Err(); err == nil || !strings.Contains(err.Error(), "not a regular file (a character device)") {
		t.Errorf("error %v, want not a regular file", err)
	}
}

// Editors' scratch files beside the zones are never read.
func TestGlobSkipsEditorFiles(t *testing.T) {
	cfg, zones := zoneFilesConfig(t)
	writeFile(t, cfg, "zone_files: [\"zones/*\"]\n", time.Unix(1000, 0))
	writeFile(t, filepath.Join(zones, "a.yaml"), zoneText("a.test", "192.0.2.1"), time.Unix(1_800_000_000, 0))
	for _, junk := range []string{".a.yaml.swp", "a.yaml~", "#a.yaml#", "4913", "a.yaml.tmp", ".a.yaml.swx"} {
		writeFile(t, filepath.Join(zones, junk), "not: [yaml\n", time.Unix(1_800_000_000, 0))
	}
	s, diags := Load(cfg, nil)
	if s == nil {
		t.Fatalf("editor files were read: %v", diags.Errors())
	}
}

// A new file that defines a zone again never takes the zone from the file
// that served it, whichever of the two the error is reported in.
func TestOpenBlamesTheChange(t *testing.T) {
	for _, newName := range []string{"0.yaml", "z.yaml"} {
		t.Run(newName, func(t *testing.T) {
			cfg, zones := zoneFilesConfig(t)
			writeFile(t, filepath.Join(zones, "m.yaml"), zoneText("a.test", "192.0.2.1"), time.Unix(1_800_000_000, 0))
			writeFile(t, filepath.Join(zones, "b.yaml"), zoneText("b.test", "192.0.2.1"), time.Unix(1_800_000_000, 0))
			first := mustOpen(t, cfg, nil, nil)
			writeFile(t, filepath.Join(zones, newName), zoneText("a.test", "192.0.2.7"), time.Unix(1_800_000_100, 0))
			writeFile(t, filepath.Join(zones, "b.yaml"), zoneText("b.test", "192.0.2.2"), time.Unix(1_800_000_100, 0))
			next := mustOpen(t, cfg, first.Snapshot, nil)
			if got := mx1(t, next.Snapshot, "a.test"); got != "192.0.2.1" {
				t.Errorf("a.test mx1 = %q, want 192.0.2.1 from the file that served it", got)
			}
			if got := faultFiles(next.Snapshot); len(got) == 0 || got[len(got)-1] == "m.yaml" {
				t.Errorf("faults %v, want the new file blamed", got)
			}
			if newName == "z.yaml" {
				if got := mx1(t, next.Snapshot, "b.test"); got != "192.0.2.2" {
					t.Errorf("b.test mx1 = %q, want its new 192.0.2.2", got)
				}
			}
		})
	}
}

// A reload told which file changed reuses what the patterns matched, and
// with it what matching found: a pattern that matches nothing is still
// reported, so that the warning is not taken for cleared.
func TestIncrementalReloadKeepsMatchFindings(t *testing.T) {
	cfg, zones := zoneFilesConfig(t)
	writeFile(t, cfg, "zone_files: [\"zones/*.yaml\", \"none/*.yaml\"]\n", time.Unix(1000, 0))
	a := filepath.Join(zones, "a.yaml")
	writeFile(t, a, zoneText("a.test", "192.0.2.1"), time.Unix(1_800_000_000, 0))
	first := mustOpen(t, cfg, nil, nil)
	writeFile(t, a, zoneText("a.test", "192.0.2.2"), time.Unix(1_800_000_100, 0))
	next := Open(cfg, first.Snapshot, Options{Changed: []string{a}})
	if next.Snapshot == nil || next.Snapshot.match != first.Snapshot.match {
		t.Fatal("the incremental reload did not reuse the match")
	}
	for _, l := range []Loaded{first, next} {
		found := false
		for _, d := range l.Diags.Warnings() {
			found = found || strings.Contains(d.Msg, `"none/*.yaml" matches no file`)
		}
		if !found {
			t.Errorf("warnings %v lack the pattern that matches no file", l.Diags.Warnings())
		}
	}
}
