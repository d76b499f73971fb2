package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestImportExport runs both commands end to end: a master file imported,
// served from the YAML, exported back.
func TestImportExport(t *testing.T) {
	dir := t.TempDir()
	zoneFile := filepath.Join(dir, "example.net.zone")
	os.WriteFile(zoneFile, []byte("$TTL 300\n@ IN SOA ns1 hostmaster 5 3600 900 1209600 300\n IN NS ns1\n IN MX 10 mx1\nns1 IN A 192.0.2.53\nmx1 IN A 192.0.2.25\n"), 0o644)

	out, errs, code := runArgs(t, "import", zoneFile, "-origin", "example.net")
	if code != 0 {
		t.Fatalf("import: status %d: %s", code, errs)
	}
	if !strings.Contains(out, "10;mx1") {
		t.Errorf("MX not written as pref;host:\n%s", out)
	}
	cfg := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfg, []byte(out), 0o644)

	out, errs, code = runArgs(t, "export", "-config", cfg)
	if code != 0 {
		t.Fatalf("export: status %d: %s", code, errs)
	}
	for _, want := range []string{"$ORIGIN example.net.", "example.net.\t300\tIN\tSOA\tns1.example.net. hostmaster.example.net. 5 3600 900 1209600 300", "example.net.\t300\tIN\tMX\t10 mx1.example.net."} {
		if !strings.Contains(out, want) {
			t.Errorf("export lacks %q:\n%s", want, out)
		}
	}

	if _, errs, code = runArgs(t, "export", "-config", cfg, "nope.example"); code != 1 || !strings.Contains(errs, `no zone "nope.example"`) {
		t.Errorf("unknown zone: status %d, %q", code, errs)
	}
	os.WriteFile(zoneFile, []byte("$ORIGIN example.net.\n@ 300 IN SOA ns1 hostmaster 5 3600 900 1209600 300\n@ 300 IN NS ns1\nns1 300 IN HINFO PC Linux\n"), 0o644)
	// A type mxdns does not serve is skipped with a warning; -strict
	// (given after the file, as the usage allows) makes it an error.
	out, errs, code = runArgs(t, "import", zoneFile)
	if code != 0 || !strings.Contains(errs, "example.net.zone:4: warning: ns1.example.net. HINFO: mxdns does not serve HINFO records; skipped") ||
		!strings.Contains(out, "ns: [ns1]") {
		t.Errorf("HINFO: status %d, stderr %q\n%s", code, errs, out)
	}
	if out, errs, code = runArgs(t, "import", zoneFile, "-strict"); code != 1 || out != "" || !strings.Contains(errs, "example.net.zone:4: ns1.example.net. HINFO: mxdns does not serve HINFO records (-strict)") {
		t.Errorf("HINFO -strict: status %d, stderr %q\n%s", code, errs, out)
	}
}

// TestExportNetwork: a reverse zone may be named as the config names it.
func TestExportNetwork(t *testing.T) {
	example := filepath.Join("..", "..", "config.example.yaml")
	byNet, errs, code := runArgs(t, "export", "-config", example, "203.0.113.0/24")
	if code != 0 {
		t.Fatalf("status %d: %s", code, errs)
	}
	byName, _, _ := runArgs(t, "export", "-config", example, "113.0.203.in-addr.arpa")
	if byNet != byName || !strings.Contains(byNet, "hostmaster.example.com.") {
		t.Errorf("by network:\n%s\nby name:\n%s", byNet, byName)
	}
	if _, errs, code = runArgs(t, "export", "-config", example, "203.0.113.0/25"); code != 1 || !strings.Contains(errs, "/8, /16 or /24") {
		t.Errorf("a /25: status %d, %q", code, errs)
	}
}
