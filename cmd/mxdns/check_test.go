package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The check tests need the real zone package.

// TestCheckExample: the example configuration checks silently, as a file
// argument or with -config, and -v adds the summary.
func TestCheckExample(t *testing.T) {
	example := filepath.Join("..", "..", "config.example.yaml")
	for _, args := range [][]string{{"check", example}, {"check", "-config", example}, {"check", "-strict", example}, {"check", example, "-strict"}} {
		out, errOut, code := runArgs(t, args...)
		if code != 0 || out != "" || errOut != "" {
			t.Errorf("%q: status %d, stdout %q, stderr %q; want 0 and silence", args, code, out, errOut)
		}
	}
	out, _, code := runArgs(t, "check", "-v", example)
	if code != 0 || !strings.Contains(out, ": ok, 3 zones, 0 warnings") {
		t.Errorf("-v: status %d, output %q", code, out)
	}
}

func writeConfig(t *testing.T, config string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCheckBroken(t *testing.T) {
	path := writeConfig(t, "zones:\n  example.com:\n    records:\n      mx1: {a: not-an-address}\n")
	out, _, code := runArgs(t, "check", path)
	if code != 1 {
		t.Errorf("status %d, want 1", code)
	}
	if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(path) + `:\d+:\d+: `).MatchString(out) {
		t.Errorf("no file:line:col diagnostic in:\n%s", out)
	}
	if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(path) + `: \d+ errors?, \d+ warnings?$`).MatchString(out) {
		t.Errorf("no summary in:\n%s", out)
	}
}

// warnConfig loads with one warning: a backup MX in another domain.
const warnConfig = `zones:
  example.com:
    ns: [ns1]
    records:
      "@": {mx: ["10;mx1", "20;backup.example.net."]}
      mx1: {a: 192.0.2.25}
      ns1: {a: 192.0.2.53}
`

func TestCheckWarningStrict(t *testing.T) {
	path := writeConfig(t, warnConfig)
	warning := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(path) + `:5:\d+: warning: backup mx backup\.example\.net\.`)
	out, _, code := runArgs(t, "check", path)
	if code != 0 || !warning.MatchString(out) || strings.Count(out, "\n") != 1 {
		t.Errorf("without -strict: status %d, output:\n%s\nwant 0 and the one warning alone", code, out)
	}
	out, _, code = runArgs(t, "check", "-strict", path)
	if code != 1 || !warning.MatchString(out) || !strings.Contains(out, ": 1 warning, failing as -strict asks") {
		t.Errorf("-strict: status %d, output:\n%s\nwant 1, the warning and why", code, out)
	}
}

func TestCheckJSON(t *testing.T) {
	path := writeConfig(t, warnConfig)
	for _, tt := range []struct {
		args []string
		code int
	}{{[]string{"check", "-format", "json", path}, 0}, {[]string{"check", "-format", "json", "-strict", path}, 1}} {
		out, errOut, code := runArgs(t, tt.args...)
		if code != tt.code {
			t.Errorf("%q: status %d, want %d; stderr %s", tt.args, code, tt.code, errOut)
		}
		var rep checkReport
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("%q: %v\n%s", tt.args, err, out)
		}
		if len(rep.Diagnostics) != 1 {
			t.Fatalf("%q: diagnostics %+v", tt.args, rep.Diagnostics)
		}
		d := rep.Diagnostics[0]
		if d.File != path || d.Line != 5 || d.Col == 0 || d.Severity != "warning" || !strings.HasPrefix(d.Message, "backup mx ") {
			t.Errorf("%q: diagnostic %+v", tt.args, d)
		}
		s := rep.Summary
		if s.File != path || s.OK != (tt.code == 0) || s.Errors != 0 || s.Warnings != 1 || s.Zones != 1 {
			t.Errorf("%q: summary %+v", tt.args, s)
		}
	}
	// No diagnostics is an empty array, not null.
	out, _, code := runArgs(t, "check", "-format", "json", filepath.Join("..", "..", "config.example.yaml"))
	if code != 0 || !strings.Contains(out, `"diagnostics": []`) {
		t.Errorf("clean config: status %d\n%s", code, out)
	}
}
