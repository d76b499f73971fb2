package state

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/mxdns/mxdns/zone"
)

func TestCopiesAndSerialsSurviveReopen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := d.LastGood("/etc/mxdns/a.yaml"); ok {
		t.Fatal("a copy in a new directory")
	}
	copies := []zone.FileCopy{
		{File: "/etc/mxdns/a.yaml", Text: []byte("zones: {}\n"), Mtime: 100},
		{File: "/etc/mxdns/zones/b.yaml", Text: []byte("zones: {b.test: {}}\n"), Mtime: 200},
	}
	if err := d.SaveCopies(copies); err != nil {
		t.Fatal(err)
	}
	rec := zone.SerialRecord{Serial: 2026120401, Hash: [32]byte{1, 2, 3}}
	if err := d.SaveSerials(map[string]zone.SerialRecord{"b.test.": rec}); err != nil {
		t.Fatal(err)
	}

	d, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range copies {
		got, ok := d.LastGood(want.File)
		if !ok || string(got.Text) != string(want.Text) || got.Mtime != want.Mtime {
			t.Errorf("LastGood(%s) = %+v %v, want %+v", want.File, got, ok, want)
		}
	}
	if got, ok := d.LastSerial("b.test."); !ok || got != rec {
		t.Errorf("LastSerial = %+v %v, want %+v", got, ok, rec)
	}
	if got := d.KnownFiles(); len(got) != 2 {
		t.Errorf("KnownFiles = %v", got)
	}
	// Zones no longer served keep their serial.
	if err := d.SaveSerials(map[string]zone.SerialRecord{"c.test.": {Serial: 7}}); err != nil {
		t.Fatal(err)
	}
	if _, ok := d.LastSerial("b.test."); !ok {
		t.Error("b.test.'s serial forgotten")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if fi, _ := e.Info(); fi.Mode().IsRegular() && fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", e.Name(), fi.Mode().Perm())
		}
		if filepath.Ext(e.Name()) != ".json" && e.Name() != copiesDir {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

// A copy that no longer matches its digest is no last good copy.
func TestDamagedCopyIsNotServed(t *testing.T) {
	dir := t.TempDir()
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.SaveCopies([]zone.FileCopy{{File: "/x/a.yaml", Text: []byte("zones: {}\n")}}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, copiesDir, copyName("/x/a.yaml")), []byte("zon"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, ok := d.LastGood("/x/a.yaml"); ok {
		t.Error("a damaged copy was returned")
	}
}

// An unchanged copy is not written again: a restart with ten thousand
// unchanged files writes nothing.
func TestUnchangedCopyNotRewritten(t *testing.T) {
	dir := t.TempDir()
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	c := []zone.FileCopy{{File: "/x/a.yaml", Text: []byte("zones: {}\n"), Mtime: 1}}
	if err := d.SaveCopies(c); err != nil {
		t.Fatal(err)
	}
	index := filepath.Join(dir, indexFile)
	before, _ := os.Stat(index)
	if err := os.Chmod(filepath.Join(dir, copiesDir), 0o500); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(filepath.Join(dir, copiesDir), 0o700)
	if err := d.SaveCopies(c); err != nil {
		t.Fatalf("saving an unchanged copy wrote: %v", err)
	}
	after, _ := os.Stat(index)
	if !after.ModTime().Equal(before.ModTime()) {
		t.Error("index rewritten for an unchanged copy")
	}
}
