package xfr

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mxdns/mxdns/state"
)

var _ Store = (*state.Dir)(nil)

func openState(t *testing.T, dir string) *state.Dir {
	t.Helper()
	d, err := state.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// TestJournalStateDirRoundTrip: journals kept in a state directory
// answer after the directory is opened again, as after a restart; a
// file damaged on disk gives the whole zone and a warning, and the
// journal starts again.
func TestJournalStateDirRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	j := NewJournal(openState(t, dir), nil)
	j.Publish([]Version{version(t, 1, a1)}, lots)
	j.Publish([]Version{version(t, 2, a2)}, lots)
	j.Publish([]Version{version(t, 3, a3)}, lots)

	j = NewJournal(openState(t, dir), nil)
	j.Publish([]Version{version(t, 4, a3, mx)}, lots)
	wantChanges(t, j, 1, 4, []string{a1}, []string{a3, mx})
	wantChanges(t, j, 3, 4, nil, []string{mx})

	files, _ := filepath.Glob(filepath.Join(dir, "ixfr", "*"))
	if len(files) != 1 || filepath.Base(files[0]) != "example.com.jnl" {
		t.Fatalf("journal files %v", files)
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x40
	if err := os.WriteFile(files[0], b, 0o600); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	j = NewJournal(openState(t, dir), slog.New(slog.NewTextHandler(&log, nil)))
	j.Publish([]Version{version(t, 4, a3, mx)}, lots)
	if !strings.Contains(log.String(), "level=WARN") {
		t.Errorf("no warning of the damaged journal:\n%s", log.String())
	}
	wantFull(t, j, 1, 4, fullOlder)
	wantFull(t, j, 3, 4, fullOlder)
	j.Publish([]Version{version(t, 5, mx)}, lots)
	wantChanges(t, j, 4, 5, []string{a3}, nil)
}
