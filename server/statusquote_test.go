package server

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestStatusQuotesNoFileLines: a symlink among the zone files to a file
// that is not a configuration (shaped like /etc/shadow) is a file in
// error whose lines /status does not print: at most 40 characters of
// each are quoted.
func TestStatusQuotesNoFileLines(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "zones"), 0o755)
	config := "listen: [\"127.0.0.1:0\"]\nzone_files: [\"zones/*.yaml\"]\n" + strings.TrimPrefix(testConfig, "listen: [\"127.0.0.1:0\"]\n")
	s, _, reloads := startServerIn(t, dir, config)

	shadow := filepath.Join(dir, "shadow")
	const tail = "HASHTAILHASHTAILHASHTAIL"
	if err := os.WriteFile(shadow, []byte("root:$6$saltsaltsaltsalt$0123456789"+tail+":19000:0:99999:7:::\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(shadow, filepath.Join(dir, "zones", "evil.yaml")); err != nil {
		t.Fatal(err)
	}
	s.Reload()
	waitReload(t, reloads, func(ReloadResult) bool { return true })
	st := s.Status()
	if len(st.FilesInError) != 1 {
		t.Fatalf("files in error: %+v", st.FilesInError)
	}
	b, _ := json.Marshal(st)
	// The first 40 characters end 5 into the tail.
	if strings.Contains(string(b), tail[:6]) || !strings.Contains(string(b), "root:$6$saltsaltsaltsalt$0123456789"+tail[:5]+"…") {
		t.Errorf("status quotes more than 40 characters of the line:\n%s", b)
	}
}
