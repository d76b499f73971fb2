package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/dnssec"
	"github.com/mxdns/mxdns/state"
	"github.com/mxdns/mxdns/zone"
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

// TestDNSSECDSSeenHeldToTheParent: in a rollover of a zone whose signed
// parent is served here, ds-seen is refused until the parent publishes
// the DS of the key that waits for it; check, reading the keys the
// server keeps, warns meanwhile.
func TestDNSSECDSSeenHeldToTheParent(t *testing.T) {
	dir := t.TempDir()
	config := filepath.Join(dir, "config.yaml")
	write := func(ds ...string) {
		t.Helper()
		list := ""
		if len(ds) > 0 {
			list = `, ds: ["` + strings.Join(ds, `", "`) + `"]`
		}
		text := "state_dir: state\ndnssec: on\nzones:\n  example.com:\n    ns: [ns1.example.net.]\n    records:\n" +
			"      mail: {ns: [ns1.example.net.]" + list + "}\n  mail.example.com:\n    ns: [ns1.example.net.]\n"
		if err := os.WriteFile(config, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dsLine := func(k *dnssec.Key) string { return strings.Join(strings.Fields(k.DS().String())[4:], " ") }

	// The child's first key, its DS in the parent; then time passes to
	// the rollover, until the next key waits for its DS.
	write()
	if _, errOut, code := runArgs(t, "dnssec", "ds", "mail.example.com", "-config", config); code != 0 {
		t.Fatalf("ds: status %d: %s", code, errOut)
	}
	d, err := state.Open(filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	snap, diags := zone.Load(config, nil)
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	p, _ := snap.Signing("mail.example.com.")
	keys, _ := d.Keys("mail.example.com.")
	write(dsLine(keys[0]))
	var waiting *dnssec.Key
	for now := time.Now(); waiting == nil && now.Before(time.Now().AddDate(3, 0, 0)); now = now.Add(24 * time.Hour) {
		zk, err := d.ZoneKeys("mail.example.com.", p, snap.KeyTiming("mail.example.com."), now)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range zk.Keys {
			if k.WaitsForDS() {
				waiting = k
			}
		}
	}
	if err := d.FlushKeys(); err != nil {
		t.Fatal(err)
	}
	d.Close()
	if waiting == nil {
		t.Fatal("no key came to wait for its DS in three years")
	}

	_, errOut, code := runArgs(t, "dnssec", "ds-seen", "mail.example.com", "-config", config)
	if code != 1 || !strings.Contains(errOut, fmt.Sprintf("zone example.com, served here, does not publish the DS of mail.example.com's key %d", waiting.Tag())) {
		t.Fatalf("ds-seen without the parent's DS: status %d, %q", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "state", "keys", "mail.example.com.ds-seen")); err == nil {
		t.Error("ds-seen was marked though refused")
	}
	if check, _, _ := runArgs(t, "check", config); !strings.Contains(check, "zone mail.example.com's new key waits for its DS") {
		t.Errorf("check does not tell of the key waiting:\n%s", check)
	}
	write("12345 13 2 " + strings.Repeat("ab", 32))
	if check, _, _ := runArgs(t, "check", config); !strings.Contains(check, "ds at mail.example.com names no key that signs zone mail.example.com's DNSKEY set") {
		t.Errorf("check does not tell of a DS naming no key:\n%s", check)
	}

	write(dsLine(keys[0]), dsLine(waiting))
	if _, errOut, code := runArgs(t, "dnssec", "ds-seen", "mail.example.com", "-config", config); code != 0 {
		t.Fatalf("ds-seen with the parent's DS: status %d, %q", code, errOut)
	}
}

// TestCheckSaysWhichKeysItCouldNotRead: check run by a user who may not
// read the server's keys (here, a key file that is damaged) still checks
// the configuration, passes it, and says in one note what it left
// unchecked, rather than skipping the DS checks without a word.
func TestCheckSaysWhichKeysItCouldNotRead(t *testing.T) {
	dir := t.TempDir()
	config := filepath.Join(dir, "config.yaml")
	text := "state_dir: state\ndnssec: on\nzones:\n  example.com:\n    ns: [ns1.example.net.]\n  example.org:\n    ns: [ns1.example.net.]\n"
	if err := os.WriteFile(config, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	keys := filepath.Join(dir, "state", "keys")
	if err := os.MkdirAll(keys, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, z := range []string{"example.com", "example.org"} {
		if err := os.WriteFile(filepath.Join(keys, z+".json"), []byte("{"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out, errOut, code := runArgs(t, "check", config)
	if code != 0 {
		t.Fatalf("check: status %d, want 0: %s%s", code, out, errOut)
	}
	if !strings.Contains(out, "note: the keys of 2 signed zones could not be read (keys of example.") ||
		!strings.Contains(out, "run mxdns check as the user mxdns serves as") {
		t.Errorf("check does not say which keys it could not read:\n%s", out)
	}
}
