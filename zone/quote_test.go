package zone

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestClipQuoted(t *testing.T) {
	long := strings.Repeat("x", 50)
	args := []any{long, long, 7, long}
	got := clipQuoted("%s: %q is %d%% %-3q", args)
	want := []any{long, strings.Repeat("x", 40) + "…", 7, strings.Repeat("x", 40) + "…"}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("arg %d: %v, want %v", i, got[i], want[i])
		}
	}
	if args[1] != long {
		t.Error("the caller's arguments were changed")
	}
	if clip("short") != "short" || clip(strings.Repeat("é", 40)) != strings.Repeat("é", 40) {
		t.Error("clip cut a value of 40 characters or fewer")
	}
}

// fakeShadow is shaped like /etc/shadow: what must not be copied out.
const fakeShadow = "root:$y$j9T$Abcdefghijklmnopqrstuv$0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij:19000:0:99999:7:::\n" +
	"operator:$6$saltsaltsalt$LONGHASHLONGHASHLONGHASHLONGHASHLONGHASH:19000:0:99999:7:::\n"

// TestDiagnosticsQuoteAtMost40Characters: a file that is not a
// configuration (here a symlink to a shadow file among the zone files)
// is reported without its lines, every quoted value cut to 40
// characters; so is a long value in a real zone.
func TestDiagnosticsQuoteAtMost40Characters(t *testing.T) {
	dir := t.TempDir()
	shadow := filepath.Join(dir, "shadow")
	if err := os.WriteFile(shadow, []byte(fakeShadow), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "zones"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(shadow, filepath.Join(dir, "zones", "evil.yaml")); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("a", 30) + "SECRETTAIL"
	config := "zone_files: [\"zones/*.yaml\"]\nzones:\n  example.com:\n    ns: [ns1]\n    records:\n      ns1: {a: \"192.0.2." + long + "\"}\n"
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	_, diags := Load(path, nil)
	if len(diags.Errors()) < 3 {
		t.Fatalf("want errors for both shadow lines and the long value, got %v", diags)
	}
	text := diags.Err().Error()
	for _, secret := range []string{"LONGHASHLONGHASHLONGHASH", "KLMNOPQRSTUVWXYZ", "CRETTAIL", "19000"} {
		if strings.Contains(text, secret) {
			t.Errorf("diagnostics quote past 40 characters (%s):\n%s", secret, text)
		}
	}
	if !strings.Contains(text, `"root:$y$j9T$Abcdefghijklmnopqrstuv$01234…"`) {
		t.Errorf("want the line cut to 40 characters and an ellipsis:\n%s", text)
	}
}
