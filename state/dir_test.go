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
		if e.Name() != serialsFile && e.Name() != copiesDir {
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
	copyPath := filepath.Join(dir, copiesDir, copyName("/x/a.yaml"))
	before, _ := os.Stat(copyPath)
	d, err = Open(dir) // a restart: nothing known in memory
	if err != nil {
		t.Fatal(err)
	}
	if err := d.SaveCopies(c); err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(copyPath)
	if !os.SameFile(before, after) {
		t.Error("an unchanged copy was written again")
	}
}

// A serial journal cut by a crash in the middle of a line keeps every
// whole line before it.
func TestJournalSurvivesTornLine(t *testing.T) {
	dir := t.TempDir()
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := d.SaveSerials(map[string]zone.SerialRecord{"a.test.": {Serial: uint32(10 + i)}}); err != nil {
			t.Fatal(err)
		}
	}
	d.Close()
	f, _ := os.OpenFile(filepath.Join(dir, serialsFile), os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString("a.test. 99 00")
	f.Close()
	d, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := d.LastSerial("a.test."); !ok || r.Serial != 12 {
		t.Errorf("serial %+v %v after a torn line, want 12", r, ok)
	}
}

// The journal is compacted once it holds many more lines than zones, and
// still says the same.
func TestJournalCompacts(t *testing.T) {
	dir := t.TempDir()
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 1200 {
		if err := d.SaveSerials(map[string]zone.SerialRecord{"a.test.": {Serial: uint32(i)}, "b.test.": {Serial: 7}}); err != nil {
			t.Fatal(err)
		}
	}
	fi, _ := os.Stat(filepath.Join(dir, serialsFile))
	if fi.Size() > 1100*int64(len(serialLine("a.test.", zone.SerialRecord{Serial: 1199}))) {
		t.Errorf("journal of %d bytes was not compacted", fi.Size())
	}
	d.Close()
	d, _ = Open(dir)
	if r, _ := d.LastSerial("a.test."); r.Serial != 1199 {
		t.Errorf("a.test. serial %d after compaction, want 1199", r.Serial)
	}
	if r, _ := d.LastSerial("b.test."); r.Serial != 7 {
		t.Errorf("b.test. serial %d after compaction, want 7", r.Serial)
	}
}

// The copy of a certificate file says it is one: it comes back as one,
// and is no zone file a zone directory held.
func TestCertificateCopy(t *testing.T) {
	dir := t.TempDir()
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	pem := []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
	copies := []zone.FileCopy{
		{File: "/etc/letsencrypt/live/mx1/fullchain.pem", Text: pem, Mtime: 300, Cert: true},
		{File: "/etc/mxdns/zones/b.yaml", Text: []byte("zones: {b.test: {}}\n"), Mtime: 200},
	}
	if err := d.SaveCopies(copies); err != nil {
		t.Fatal(err)
	}
	d, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range copies {
		got, ok := d.LastGood(want.File)
		if !ok || string(got.Text) != string(want.Text) || got.Mtime != want.Mtime || got.Cert != want.Cert {
			t.Errorf("LastGood(%s) = %+v %v, want %+v", want.File, got, ok, want)
		}
	}
	if got := d.KnownFiles(); len(got) != 1 || got[0] != "/etc/mxdns/zones/b.yaml" {
		t.Errorf("KnownFiles = %v, want the zone file alone", got)
	}
}
