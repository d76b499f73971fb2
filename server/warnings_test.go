package server

import (
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mxdns/mxdns/server/ops"
)

// warnZone has one warning: a backup MX in another domain.
const warnZone = `listen: ["127.0.0.1:0"]
zones:
  example.com:
    ns: [ns1]
    records:
      "@": {mx: ["10;mx1", "20;backup.example.net."]}
      mx1: {a: 192.0.2.25}
      ns1: {a: 192.0.2.53}
`

// TestWarningsLoggedOnce: a warning is logged when it appears, not again
// at each reload; it is logged as cleared when it goes, logged again when
// it comes back, and /status lists the current ones.
func TestWarningsLoggedOnce(t *testing.T) {
	var logs syncBuffer
	path := filepath.Join(t.TempDir(), "config.yaml")
	writeFile(t, path, warnZone)
	s, err := New(Options{Logger: slog.New(slog.NewTextHandler(&logs, nil)), ConfigPath: path})
	if err != nil {
		t.Fatal(err)
	}
	stopAtCleanup(t, s)
	count := func(msg string) int { return strings.Count(logs.String(), `msg="`+msg+`"`) }
	reload := func() {
		t.Helper()
		if res := s.Reload(); res.Err != nil {
			t.Fatalf("reload: %v", res.Err)
		}
	}
	status := func() []ops.WarningStatus {
		t.Helper()
		st := s.Status()
		if st.Warnings == nil {
			t.Fatal("status warnings is nil: the JSON would say null")
		}
		return st.Warnings
	}

	reload()
	reload()
	if n := count("config warning"); n != 1 {
		t.Errorf("after start and two reloads: logged %d times, want once:\n%s", n, logs.String())
	}
	if w := status(); len(w) != 1 || w[0].At != path+":6:28" || !strings.HasPrefix(w[0].Warning, "backup mx backup.example.net.") {
		t.Errorf("status warnings %+v", w)
	}

	// Moved to another line by an edit above it: the same warning.
	writeFile(t, path, "# a comment\n"+warnZone)
	reload()
	if n := count("config warning"); n != 1 {
		t.Errorf("moved warning logged again:\n%s", logs.String())
	}
	if w := status(); len(w) != 1 || w[0].At != path+":7:28" {
		t.Errorf("status after the move %+v", w)
	}

	// A failed reload changes nothing.
	writeFile(t, path, warnZone+"      bad: {a: nope}\n")
	if res := s.Reload(); res.Err == nil {
		t.Fatal("broken config reloaded")
	}
	if n := count("config warning"); n != 1 || len(status()) != 1 {
		t.Errorf("after a failed reload: %d logged, status %+v", n, status())
	}

	writeFile(t, path, strings.Replace(warnZone, `, "20;backup.example.net."`, "", 1))
	reload()
	if n := count("config warning cleared"); n != 1 || len(status()) != 0 {
		t.Errorf("cleared: logged %d, status %+v\n%s", n, status(), logs.String())
	}
	writeFile(t, path, warnZone)
	reload()
	if n := count("config warning"); n != 2 {
		t.Errorf("back again: logged %d times in all, want 2:\n%s", n, logs.String())
	}
}
