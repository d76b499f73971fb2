package state

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Policies survive a new handle on the directory, which need not exist
// before the first save; a damaged file is an error, not an empty cache.
func TestSTSPolicies(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	p := OpenSTSPolicies(dir)
	if _, ok, err := p.Seen("example.com"); ok || err != nil {
		t.Fatalf("empty: ok %v, err %v", ok, err)
	}
	seen := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	want := STSPolicy{ID: "20261123", Digest: "ab12", Seen: seen}
	if err := p.Remember("example.com", want); err != nil {
		t.Fatal(err)
	}
	if err := p.Remember("example.org", STSPolicy{ID: "1", Digest: "cd"}); err != nil {
		t.Fatal(err)
	}
	got, ok, err := OpenSTSPolicies(dir).Seen("example.com")
	if err != nil || !ok || got != want {
		t.Errorf("reopened: %+v %v %v, want %+v", got, ok, err, want)
	}
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("directory: %v %v", st, err)
	}
	if tmp, _ := filepath.Glob(filepath.Join(dir, ".tmp-*")); len(tmp) != 0 {
		t.Errorf("temporary files left: %v", tmp)
	}

	if err := os.WriteFile(filepath.Join(dir, stsFile), []byte("{\"version\": 7}"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := OpenSTSPolicies(dir).Seen("example.com"); err == nil || !strings.Contains(err.Error(), "version 7") {
		t.Errorf("damaged file: %v", err)
	}
}
