package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func TestDNSSECDS(t *testing.T) {
	dir := t.TempDir()
	config := filepath.Join(dir, "config.yaml")
	os.WriteFile(config, []byte(`
state_dir: state
zones:
  example.com:
    dnssec: on
    ns: [ns1.example.net.]
  plain.example:
    ns: [ns1.example.net.]
`), 0o644)
	out, errOut, code := runArgs(t, "dnssec", "ds", "example.com", "-config", config)
	if code != 0 {
		t.Fatalf("status %d: %s", code, errOut)
	}
	rr, err := dns.NewRR(strings.TrimSpace(out))
	if ds, ok := rr.(*dns.DS); err != nil || !ok || ds.DigestType != dns.SHA256 || ds.Algorithm != dns.ECDSAP256SHA256 || ds.Hdr.Name != "example.com." {
		t.Fatalf("ds printed %q (%v)", out, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "state", "keys", "example.com.json")); err != nil {
		t.Errorf("the key is not in the configuration's state_dir: %v", err)
	}
	again, _, _ := runArgs(t, "dnssec", "-config", config, "ds", "example.com.")
	if again != out {
		t.Errorf("a second run printed %q, first %q", again, out)
	}
	status, _, code := runArgs(t, "dnssec", "status", "-config", config)
	tag := strings.Fields(out)[4]
	if code != 0 || !strings.Contains(status, "example.com") || !strings.Contains(status, tag) || !strings.Contains(status, "csk") {
		t.Errorf("status (%d):\n%s", code, status)
	}
	for _, tc := range []struct{ zone, want string }{
		{"plain.example", "zone plain.example is not signed"},
		{"other.example", "zone other.example is not served"},
	} {
		_, errOut, code := runArgs(t, "dnssec", "ds", tc.zone, "-config", config)
		if code != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("ds %s: status %d, %q; want %q", tc.zone, code, errOut, tc.want)
		}
	}
	if _, _, code := runArgs(t, "dnssec", "-config", config); code != 2 {
		t.Errorf("no subcommand: status %d, want 2", code)
	}
}
