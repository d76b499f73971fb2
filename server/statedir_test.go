package server

import (
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	statedir "github.com/mxdns/mxdns/state"
)

// TestStateDirChangeIsWarnedOnce: the state directory is opened at start,
// so a state_dir written or changed later is not followed, but it is not
// dropped without a word either: one warning per new value, none while
// it names the directory in use, and another wording when -state-dir
// chose the directory.
func TestStateDirChangeIsWarnedOnce(t *testing.T) {
	const zones = "listen: [\"127.0.0.1:0\"]\nzones:\n  example.com: {ns: [ns1.example.net.]}\n"
	for _, tc := range []struct {
		byFlag bool
		want   string
	}{
		{false, "state_dir changed: it takes effect when mxdns restarts"},
		{true, "state_dir is overridden by -state-dir"},
	} {
		dir := t.TempDir()
		inUse := filepath.Join(dir, "state")
		path := filepath.Join(dir, "config.yaml")
		writeFile(t, path, "state_dir: state\n"+zones)
		keeper, err := statedir.Open(inUse)
		if err != nil {
			t.Fatal(err)
		}
		var logs syncBuffer
		s, err := New(Options{Logger: slog.New(slog.NewTextHandler(&logs, nil)), ConfigPath: path,
			Keeper: keeper, StateDirByFlag: tc.byFlag})
		if err != nil {
			t.Fatal(err)
		}
		stopAtCleanup(t, s)
		reload := func(stateDir string) {
			t.Helper()
			writeFile(t, path, "state_dir: "+stateDir+"\n"+zones)
			if res := s.Reload(); res.Err != nil {
				t.Fatal(res.Err)
			}
		}
		reload("other")
		reload("other")
		reload("state")
		reload("other")
		if n := strings.Count(logs.String(), tc.want); n != 2 {
			t.Errorf("by flag %v: %d warnings %q, want one for each change away from the directory in use:\n%s",
				tc.byFlag, n, tc.want, logs.String())
		}
		if strings.Contains(logs.String(), "state_dir="+inUse) {
			t.Errorf("by flag %v: warned about the directory in use:\n%s", tc.byFlag, logs.String())
		}
	}
}
