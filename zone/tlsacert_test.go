package zone

import (
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// testPKI is a CA and a leaf it signed, and a next key, all Ed25519 from
// fixed seeds with fixed dates, so that every byte, and so the goldens,
// stay the same from run to run.
type testPKI struct {
	ca, leaf   *x509.Certificate
	chain      []byte // PEM, leaf first
	nextKey    []byte // PEM PKCS#8 private key
	nextPublic []byte // PEM public key
}

func newTestPKI(t *testing.T, leafSeed byte) testPKI {
	t.Helper()
	key := func(b byte) ed25519.PrivateKey {
		return ed25519.NewKeyFromSeed([]byte(strings.Repeat(string(rune(b)), 32)))
	}
	caKey, leafKey, nextKey := key('c'), key(leafSeed), key('n')
	day := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test CA"}, NotBefore: day, NotAfter: day.AddDate(10, 0, 0),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(nil, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(leafSeed)), Subject: pkix.Name{CommonName: "mx1.example.com"}, DNSNames: []string{"mx1.example.com"},
		NotBefore: day, NotAfter: day.AddDate(0, 3, 0)}
	leafDER, err := x509.CreateCertificate(nil, leafTmpl, ca, leafKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(leafDER)
	p8, _ := x509.MarshalPKCS8PrivateKey(nextKey)
	spki, _ := x509.MarshalPKIXPublicKey(nextKey.Public())
	return testPKI{ca: ca, leaf: leaf,
		chain:      append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER}), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})...),
		nextKey:    pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8}),
		nextPublic: pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: spki})}
}

func sha256Hex(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// tlsaSite writes the PKI and a zone file using it, and loads it.
func tlsaSite(t *testing.T, pki testPKI, zone string) (string, string, *Snapshot, Diagnostics) {
	t.Helper()
	cfg, zones := zoneFilesConfig(t)
	certs := filepath.Join(filepath.Dir(cfg), "certs")
	os.Mkdir(certs, 0o755)
	for name, b := range map[string][]byte{"chain.pem": pki.chain, "next.key": pki.nextKey, "next.pub": pki.nextPublic, "empty.pem": []byte("no pem here\n")} {
		writeFile(t, filepath.Join(certs, name), string(b), time.Unix(1000, 0))
	}
	writeFile(t, filepath.Join(zones, "mail.yaml"), zone, time.Unix(1000, 0))
	snap, diags := Load(cfg, nil)
	return cfg, zones, snap, diags
}

const tlsaZone = `zones:
  example.com:
    dnssec: on
    ns: [ns1]
    records:
      "@": {mx: ["10;mx1", "20;mx2", "30;mx3"]}
      ns1: {a: 192.0.2.53}
      mx1: {a: 192.0.2.1}
      mx2: {a: 192.0.2.2}
      mx3: {a: 192.0.2.3}
      _25._tcp.mx1: {tlsa: {cert: ../certs/chain.pem, next: ../certs/next.key}}
      _25._tcp.mx2: {tlsa: [{cert: ../certs/chain.pem, usage_selector_match: "2 0 1"}, {cert: ../certs/chain.pem, usage_selector_match: "3 0 2"}]}
      _25._tcp.mx3: {tlsa: ["3 1 1 LEAFSPKI", {cert: ../certs/chain.pem, next: ../certs/next.pub}]}
      _443._tcp.www: {tlsa: {cert: ../certs/chain.pem, usage_selector_match: "1 1 0"}}
`

// The TLSA records made from certificate files, each form, as golden text.
func TestTLSAFromCertificates(t *testing.T) {
	pki := newTestPKI(t, 'l')
	zone := strings.Replace(tlsaZone, "LEAFSPKI", sha256Hex(pki.leaf.RawSubjectPublicKeyInfo), 1)
	_, _, snap, diags := tlsaSite(t, pki, zone)
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, name := range []string{"_25._tcp.mx1", "_25._tcp.mx2", "_25._tcp.mx3", "_443._tcp.www"} {
		r := snap.Lookup(dns.Question{Name: name + ".example.com.", Qtype: dns.TypeTLSA, Qclass: dns.ClassINET}, Client{Link: NoLink})
		for _, rr := range r.Answer {
			b.WriteString(rr.String() + "\n")
		}
	}
	golden(t, filepath.Join("testdata", "tlsa", "certificates.golden"), b.String())

	// The goldens say what the records are; this says they are right.
	leafSPKI := sha256Hex(pki.leaf.RawSubjectPublicKeyInfo)
	if !strings.Contains(b.String(), "_25._tcp.mx1.example.com.\t3600\tIN\tTLSA\t3 1 1 "+leafSPKI) {
		t.Errorf("no 3 1 1 record of the leaf's key:\n%s", b.String())
	}
	caSum := sha256.Sum256(pki.ca.Raw)
	if !strings.Contains(b.String(), "2 0 1 "+hex.EncodeToString(caSum[:])) {
		t.Errorf("no 2 0 1 record of the CA certificate:\n%s", b.String())
	}
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if string(want) != got {
		t.Errorf("%s:\n got:\n%s\nwant:\n%s", path, got, want)
	}
}

func TestTLSACertificateFindings(t *testing.T) {
	pki := newTestPKI(t, 'l')
	for _, tc := range []struct{ name, records, want string }{
		{"missing file", `_25._tcp.mx1: {tlsa: {cert: ../certs/gone.pem}}`, "7:35: tlsa: read "},
		{"no certificate", `_25._tcp.mx1: {tlsa: {cert: ../certs/empty.pem}}`, "holds no certificate (want a PEM file, leaf first)"},
		{"a key for selector 0", `_25._tcp.mx1: {tlsa: {cert: ../certs/chain.pem, next: ../certs/next.key, usage_selector_match: "3 0 1"}}`, "selector 0 publishes the whole certificate"},
		{"no cert key", `_25._tcp.mx1: {tlsa: {next: ../certs/next.key}}`, "tlsa: want cert: the path"},
		{"bad usage_selector_match", `_25._tcp.mx1: {tlsa: {cert: ../certs/chain.pem, usage_selector_match: "3 2 1"}}`, `usage_selector_match "3 2 1": want three numbers`},
		{"a written TLSA that matches nothing", `_25._tcp.mx1: {tlsa: ["3 1 1 ` + strings.Repeat("ab", 32) + `", {cert: ../certs/chain.pem}]}`, "matches neither the cert nor the next file"},
		{"unsigned zone", `_25._tcp.mx1: {tlsa: {cert: ../certs/chain.pem}}` + "\n    dnssec: off", "DANE needs DNSSEC"},
		{"not an MX host", `_25._tcp.web: {tlsa: {cert: ../certs/chain.pem}}`, "no MX of these zones names web.example.com"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			zone := "zones:\n  example.com:\n    dnssec: on\n    ns: [ns1]\n    records:\n      \"@\": {mx: \"10;mx1\"}\n      " + tc.records + "\n"
			if strings.Contains(tc.records, "dnssec: off") {
				records, _, _ := strings.Cut(tc.records, "\n")
				zone = "zones:\n  example.com:\n    dnssec: off\n    ns: [ns1]\n    records:\n      \"@\": {mx: \"10;mx1\"}\n      " + records + "\n"
			}
			_, _, _, diags := tlsaSite(t, pki, zone)
			var all []string
			for _, d := range diags {
				all = append(all, d.String())
			}
			if !strings.Contains(strings.Join(all, "\n"), tc.want) {
				t.Errorf("findings:\n%s\nwant one with %q", strings.Join(all, "\n"), tc.want)
			}
		})
	}
	// In the configuration file itself: an error naming where to write it.
	_, diags := FromYAML("config.yaml", []byte("zones:\n  example.com:\n    ns: [ns1]\n    records:\n      _25._tcp.mx1: {tlsa: {cert: c.pem}}\n"), nil)
	if err := diags.Err(); err == nil || !strings.Contains(err.Error(), "write this zone in a zone_files file") {
		t.Errorf("cert in the configuration file: %v", err)
	}
}

// A renewed certificate, saved over the file or swapped in by a symbolic
// link as certbot does, is read again at the next load though the zone
// file did not change; the watcher is told to watch where it lies.
func TestRenewedCertificateIsReadAgain(t *testing.T) {
	pki := newTestPKI(t, 'l')
	cfg, _, snap, diags := tlsaSite(t, pki, "zones:\n  example.com:\n    dnssec: on\n    ns: [ns1]\n    records:\n      \"@\": {mx: \"10;mx1\"}\n      mx1: {a: 192.0.2.1}\n      _25._tcp.mx1: {tlsa: {cert: ../certs/live.pem}}\n")
	_ = snap
	dir := filepath.Dir(cfg)
	archive := filepath.Join(dir, "archive")
	os.Mkdir(archive, 0o755)
	writeFile(t, filepath.Join(archive, "cert1.pem"), string(pki.chain), time.Unix(1000, 0))
	live := filepath.Join(dir, "certs", "live.pem")
	if err := os.Symlink("../archive/cert1.pem", live); err != nil {
		t.Fatal(err)
	}
	snap, diags = Load(cfg, nil)
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	tlsa := func(s *Snapshot) string {
		r := s.Lookup(dns.Question{Name: "_25._tcp.mx1.example.com.", Qtype: dns.TypeTLSA, Qclass: dns.ClassINET}, Client{Link: NoLink})
		if len(r.Answer) != 1 {
			t.Fatalf("TLSA answer %v", r.Answer)
		}
		return r.Answer[0].(*dns.TLSA).Certificate
	}
	first := tlsa(snap)
	if !snap.Concerns(live) || !snap.Concerns(filepath.Join(archive, "cert1.pem")) {
		t.Error("the certificate or the file its link leads to is not a concern of the snapshot")
	}
	watched := strings.Join(snap.WatchDirs(), " ")
	if !strings.Contains(watched, filepath.Join(dir, "certs")) || !strings.Contains(watched, archive) {
		t.Errorf("watched %s, want the certs and archive directories", watched)
	}
	// certbot: a new file in archive/, and the link replaced.
	renewed := newTestPKI(t, 'm')
	writeFile(t, filepath.Join(archive, "cert2.pem"), string(renewed.chain), time.Unix(2000, 0))
	os.Symlink("../archive/cert2.pem", live+".new")
	if err := os.Rename(live+".new", live); err != nil {
		t.Fatal(err)
	}
	next, diags := Reload(cfg, snap, []string{live})
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	if got := tlsa(next); got == first || got != sha256Hex(renewed.leaf.RawSubjectPublicKeyInfo) {
		t.Errorf("after the renewal the TLSA is %s, want the new leaf's key", got)
	}
}
