package state

import (
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The labels of the catalog's members survive a restart; a save of the
// same labels writes nothing.
func TestCatalogIDsSurviveReopen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if ids, err := d.CatalogIDs(); err != nil || ids != nil {
		t.Fatalf("a new directory has labels %v (%v)", ids, err)
	}
	ids := map[string]string{"a.test.": "0123456789abcdef", "2.0.192.in-addr.arpa.": "fedcba9876543210"}
	if err := d.SaveCatalogIDs(ids); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, catalogFile)
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if before.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", catalogFile, before.Mode().Perm())
	}
	if err := d.SaveCatalogIDs(maps.Clone(ids)); err != nil {
		t.Fatal(err)
	}
	if after, err := os.Stat(path); err != nil || !os.SameFile(before, after) {
		t.Error("the same labels were written again")
	}

	d, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	got, err := d.CatalogIDs()
	if err != nil || !maps.Equal(got, ids) {
		t.Errorf("after reopening: %v (%v), want %v", got, err, ids)
	}
	got["a.test."] = "changed"
	if again, _ := d.CatalogIDs(); again["a.test."] != ids["a.test."] {
		t.Error("CatalogIDs hands out its own map")
	}
}

// A file that cannot be read is reported, once; the next save replaces it.
func TestCatalogIDsUnreadable(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, catalogFile)
	if err := os.WriteFile(path, []byte(`{"version": 1, "members": {"a.test.": `), 0o600); err != nil {
		t.Fatal(err)
	}
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.CatalogIDs(); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("a cut-off file: error %v, want one naming %s", err, path)
	}
	if ids, err := d.CatalogIDs(); err != nil || ids != nil {
		t.Errorf("second read: %v (%v), want nothing and no error", ids, err)
	}
	ids := map[string]string{"a.test.": "0123456789abcdef"}
	if err := d.SaveCatalogIDs(ids); err != nil {
		t.Fatal(err)
	}
	d, _ = Open(dir)
	if got, err := d.CatalogIDs(); err != nil || !maps.Equal(got, ids) {
		t.Errorf("after the save: %v (%v), want %v", got, err, ids)
	}
}
