package state

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/dnssec"
)

var timing = dnssec.Timing{Propagation: time.Hour, DNSKEYTTL: time.Hour, MaxTTL: time.Hour, DSTTL: 24 * time.Hour}

func TestZoneKeysAreMadeOnceAndKept(t *testing.T) {
	path := t.TempDir()
	d, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	p := dnssec.DefaultPolicy()
	now := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	k1, err := d.ZoneKeys("Example.COM.", p, timing, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(k1.Keys) != 1 || k1.Keys[0].Role != dnssec.CSK || k1.Origin != "example.com." {
		t.Fatalf("keys %+v", k1)
	}
	if k2, _ := d.ZoneKeys("example.com.", p, timing, now); k2 != k1 {
		t.Error("a second call made other keys")
	}
	file := filepath.Join(path, "keys", "example.com.json")
	if _, err := os.Stat(file); err == nil {
		t.Error("the key file was written before FlushKeys")
	}
	if err := d.FlushKeys(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	if fi, err := os.Stat(filepath.Dir(file)); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("keys directory: %v, %v, want mode 0700", fi, err)
	}
	d.Close()

	d2, _ := Open(path)
	k3, err := d2.ZoneKeys("example.com.", p, timing, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if k3.Keys[0].Tag() != k1.Keys[0].Tag() {
		t.Error("a restart made other keys")
	}

	// Another policy makes the keys it needs and keeps the old out of use.
	split := p
	split.Split = true
	k4, err := d2.ZoneKeys("example.com.", split, timing, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(k4.Keys) != 2 || k4.Keys[0].Role != dnssec.KSK || k4.Keys[1].Role != dnssec.ZSK {
		t.Fatalf("split keys %+v", k4.Keys)
	}
	d2.FlushKeys()
	b, _ := os.ReadFile(file)
	all, err := dnssec.UnmarshalKeys("example.com.", b)
	if err != nil || len(all) != 3 || all[0].Removed.IsZero() {
		t.Errorf("file after the change: %d keys, the CSK removed %v, %v", len(all), len(all) > 0 && !all[0].Removed.IsZero(), err)
	}
	if _, err := d2.ZoneKeys(".", p, timing, now); err != nil {
		t.Fatal(err)
	}
	d2.FlushKeys()
	if _, err := os.Stat(filepath.Join(path, "keys", "root.json")); err != nil {
		t.Errorf("root zone's key file: %v", err)
	}
}

func TestDamagedKeyFileIsAnErrorAndKept(t *testing.T) {
	path := t.TempDir()
	os.MkdirAll(filepath.Join(path, "keys"), 0o700)
	file := filepath.Join(path, "keys", "example.com.json")
	os.WriteFile(file, []byte(`{"version": 1, "keys": [{"role": "csk", "dnskey": "garbage"}]}`), 0o600)
	d, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.ZoneKeys("example.com.", dnssec.DefaultPolicy(), timing, time.Now()); err == nil {
		t.Fatal("a damaged key file was read")
	}
	if b, _ := os.ReadFile(file); string(b) != `{"version": 1, "keys": [{"role": "csk", "dnskey": "garbage"}]}` {
		t.Error("the damaged key file was written over")
	}
	if d.keyFile(`a/b\.example.`, ".json") != filepath.Join(path, "keys", "a%2Fb%5C.example.json") {
		t.Errorf("unsafe name: %s", d.keyFile(`a/b\.example.`, ".json"))
	}
}

// Another algorithm makes a key of it and takes the old one out of use,
// kept in the file.
func TestZoneKeysOfAnotherAlgorithm(t *testing.T) {
	path := t.TempDir()
	d, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	old, err := d.ZoneKeys("example.com.", dnssec.DefaultPolicy(), timing, now)
	if err != nil {
		t.Fatal(err)
	}
	p := dnssec.DefaultPolicy()
	p.Algorithm = dns.ED25519
	k, err := d.ZoneKeys("example.com.", p, timing, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(k.Keys) != 1 || k.Keys[0].DNSKEY.Algorithm != dns.ED25519 || k.Keys[0].Role != dnssec.CSK {
		t.Fatalf("keys under ED25519: %+v", k.Keys)
	}
	if err := d.FlushKeys(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(path, "keys", "example.com.json"))
	if err != nil {
		t.Fatal(err)
	}
	all, err := dnssec.UnmarshalKeys("example.com.", b)
	if err != nil || len(all) != 2 || all[0].Tag() != old.Keys[0].Tag() || all[0].Removed.IsZero() {
		t.Errorf("file after the change: %d keys, %v", len(all), err)
	}
}
