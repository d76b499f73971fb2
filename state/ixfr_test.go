package state

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestJournalFiles: appends and replacements last once synced, a
// replacement is unseen until then, and an append cuts what lay past it.
func TestJournalFiles(t *testing.T) {
	d, err := Open(filepath.Join(t.TempDir(), "state"))
	if err != nil {
		t.Fatal(err)
	}
	const z = "example.com."
	if b, err := d.ReadJournal(z); b != nil || err != nil {
		t.Fatalf("a journal in a new directory: %q %v", b, err)
	}
	if err := d.ReplaceJournal(z, []byte("base")); err != nil {
		t.Fatal(err)
	}
	if b, _ := d.ReadJournal(z); b != nil {
		t.Fatalf("a replacement seen before it was synced: %q", b)
	}
	if err := d.SyncJournals(); err != nil {
		t.Fatal(err)
	}
	for _, w := range []struct {
		at   int64
		data string
	}{{4, "+one"}, {8, "+two"}, {8, "+TWO"}} { // the last as after a crash tore +two
		if err := d.AppendJournal(z, w.at, []byte(w.data)); err != nil {
			t.Fatal(err)
		}
		if err := d.SyncJournals(); err != nil {
			t.Fatal(err)
		}
	}
	d, err = Open(d.Path())
	if err != nil {
		t.Fatal(err)
	}
	if b, err := d.ReadJournal(z); string(b) != "base+one+TWO" || err != nil {
		t.Errorf("journal %q %v, want base+one+TWO", b, err)
	}
	if b, err := d.ReadJournalAt(z, 4, 4); string(b) != "+one" || err != nil {
		t.Errorf("at 4: %q %v", b, err)
	}
	if _, err := d.ReadJournalAt(z, 10, 4); err == nil {
		t.Error("a read past the end gave no error")
	}
	entries, _ := os.ReadDir(filepath.Join(d.Path(), journalsDir))
	if len(entries) != 1 || entries[0].Name() != "example.com.jnl" {
		t.Errorf("journal directory holds %v, want example.com.jnl alone", entries)
	}
}

// TestJournalNames: every origin gets a file name of its own, whatever
// it holds.
func TestJournalNames(t *testing.T) {
	d := &Dir{path: "/s"}
	seen := map[string]string{}
	for _, o := range []string{".", "example.com.", "Example.com.", "0/25.2.0.192.in-addr.arpa.", "a\\032b.example.", "_x.example.",
		strings.Repeat("a", 63) + "." + strings.Repeat("b", 63) + "." + strings.Repeat("%", 63) + "." + strings.Repeat("c", 61) + "."} {
		p := d.journalPath(o)
		if filepath.Dir(p) != "/s/ixfr" || len(filepath.Base(p)) > 255 {
			t.Errorf("%q: %q", o, p)
		}
		if other, dup := seen[p]; dup {
			t.Errorf("%q and %q share %s", o, other, p)
		}
		seen[p] = o
	}
}

// TestJournalManyAppendsOneSync: a batch larger than syncEachUpTo is
// synced with the file system, and every file is whole.
func TestJournalManyAppendsOneSync(t *testing.T) {
	d, err := Open(filepath.Join(t.TempDir(), "state"))
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, syncEachUpTo+10)
	for i := range names {
		names[i] = string(rune('a'+i%26)) + strings.Repeat("x", i/26) + ".test."
		if err := d.ReplaceJournal(names[i], []byte("b")); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.SyncJournals(); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if err := d.AppendJournal(n, 1, []byte(n)); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.SyncJournals(); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if b, _ := d.ReadJournal(n); !bytes.Equal(b, []byte("b"+n)) {
			t.Fatalf("%s: %q", n, b)
		}
	}
}
