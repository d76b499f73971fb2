package zone

import (
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
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

// A TLSA written as text beside cert: is checked under its own usage,
// selector and matching type, whatever numbers the cert: entry makes its
// own records under: a written "2 0 1" is the chain's last certificate,
// whole, by SHA-256.
func TestWrittenTLSAComparedUnderItsOwnNumbers(t *testing.T) {
	pki := newTestPKI(t, 'l')
	sum512 := func(b []byte) string { s := sha512.Sum512(b); return hex.EncodeToString(s[:]) }
	nextSPKI := func() []byte {
		b, _ := pem.Decode(pki.nextPublic)
		return b.Bytes
	}()
	for _, tc := range []struct {
		name, written string
		matches       bool
	}{
		{"2 0 1 of the chain's last certificate", "2 0 1 " + sha256Hex(pki.ca.Raw), true},
		{"0 1 1 of the chain's last certificate's key", "0 1 1 " + sha256Hex(pki.ca.RawSubjectPublicKeyInfo), true},
		{"3 0 2 of the leaf", "3 0 2 " + sum512(pki.leaf.Raw), true},
		{"1 0 0 of the leaf, exact", "1 0 0 " + hex.EncodeToString(pki.leaf.Raw), true},
		{"3 1 1 of the next key", "3 1 1 " + sha256Hex(nextSPKI), true},
		{"3 1 2 of the next key", "3 1 2 " + sum512(nextSPKI), true},
		{"upper-case hex", "3 1 1 " + strings.ToUpper(sha256Hex(pki.leaf.RawSubjectPublicKeyInfo)), true},
		{"2 0 1 of the leaf: usage 2 is the chain's end", "2 0 1 " + sha256Hex(pki.leaf.Raw), false},
		{"3 0 1 of the chain's last certificate: usage 3 is the leaf", "3 0 1 " + sha256Hex(pki.ca.Raw), false},
		{"3 1 1 of the whole leaf: selector 1 is the key", "3 1 1 " + sha256Hex(pki.leaf.Raw), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			zone := "zones:\n  example.com:\n    dnssec: on\n    ns: [ns1]\n    records:\n      \"@\": {mx: \"10;mx1\"}\n      mx1: {a: 192.0.2.1}\n" +
				"      _25._tcp.mx1: {tlsa: [\"" + tc.written + "\", {cert: ../certs/chain.pem, next: ../certs/next.key, usage_selector_match: \"3 1 1\"}]}\n"
			_, _, _, diags := tlsaSite(t, pki, zone)
			err := diags.Err()
			if tc.matches && err != nil {
				t.Errorf("a written TLSA that matches a file is an error: %v", err)
			}
			if !tc.matches && (err == nil || !strings.Contains(err.Error(), "matches neither the cert nor the next file")) {
				t.Errorf("a written TLSA that matches no file: %v, want the error that says so", err)
			}
		})
	}
}

// A file of a certificate and its private key, as some tools write, is
// read for the certificate: a key beside it is not needed, and may be
// encrypted or of a kind mxdns does not read. A next: file that is a key
// alone must be readable, and an encrypted one is an error naming it.
func TestCombinedCertificateAndKeyFile(t *testing.T) {
	pki := newTestPKI(t, 'l')
	legacy := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY",
		Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-256-CBC,00112233445566778899AABBCCDDEEFF"},
		Bytes:   []byte(strings.Repeat("\x42", 48))})
	pkcs8 := pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte(strings.Repeat("\x42", 64))})
	openssh := pem.EncodeToMemory(&pem.Block{Type: "OPENSSH PRIVATE KEY", Bytes: []byte("openssh-key-v1\x00")})
	broken := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("not a key")})
	leafSPKI := sha256Hex(pki.leaf.RawSubjectPublicKeyInfo)
	for _, tc := range []struct {
		name  string
		files map[string][]byte
		tlsa  string
		want  string // a record's data, or an error's text
	}{
		{"cert and a legacy encrypted key", map[string][]byte{"combined.pem": slicesConcat(pki.chain, legacy)}, "{cert: ../certs/combined.pem}", leafSPKI},
		{"key first, then cert, PKCS#8 encrypted", map[string][]byte{"combined.pem": slicesConcat(pkcs8, pki.chain)}, "{cert: ../certs/combined.pem}", leafSPKI},
		{"cert and an OpenSSH key", map[string][]byte{"combined.pem": slicesConcat(pki.chain, openssh)}, "{cert: ../certs/combined.pem}", leafSPKI},
		{"cert and a key that does not parse", map[string][]byte{"combined.pem": slicesConcat(pki.chain, broken)}, "{cert: ../certs/combined.pem}", leafSPKI},
		{"next: the next certificate with its encrypted key", map[string][]byte{"next.pem": slicesConcat(pki.chain, legacy)},
			"{cert: ../certs/chain.pem, next: ../certs/next.pem}", leafSPKI},
		{"next: a public key beside an encrypted key", map[string][]byte{"next.pem": slicesConcat(legacy, pki.nextPublic)},
			"{cert: ../certs/chain.pem, next: ../certs/next.pem}", sha256Hex(pemBytes(t, pki.nextPublic))},
		{"next: an encrypted key alone", map[string][]byte{"next.pem": pkcs8}, "{cert: ../certs/chain.pem, next: ../certs/next.pem}",
			"8:61: tlsa: CERTS/next.pem: holds an encrypted private key, which mxdns cannot read without its passphrase"},
		{"next: a legacy encrypted key alone", map[string][]byte{"next.pem": legacy}, "{cert: ../certs/chain.pem, next: ../certs/next.pem}",
			"tlsa: CERTS/next.pem: holds an encrypted private key"},
		{"next: an OpenSSH key", map[string][]byte{"next.pem": openssh}, "{cert: ../certs/chain.pem, next: ../certs/next.pem}",
			"tlsa: CERTS/next.pem: holds no certificate, public key or private key in PEM (found OPENSSH PRIVATE KEY)"},
		{"cert: a key alone", map[string][]byte{"key.pem": pki.nextKey}, "{cert: ../certs/key.pem}",
			"tlsa: CERTS/key.pem: holds no certificate (want a PEM file, leaf first) (found PRIVATE KEY)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, zones := zoneFilesConfig(t)
			certs := filepath.Join(filepath.Dir(cfg), "certs")
			os.Mkdir(certs, 0o755)
			writeFile(t, filepath.Join(certs, "chain.pem"), string(pki.chain), time.Unix(1000, 0))
			for name, b := range tc.files {
				writeFile(t, filepath.Join(certs, name), string(b), time.Unix(1000, 0))
			}
			writeFile(t, filepath.Join(zones, "mail.yaml"), "zones:\n  example.com:\n    dnssec: on\n    ns: [ns1]\n    records:\n      \"@\": {mx: \"10;mx1\"}\n      mx1: {a: 192.0.2.1}\n"+
				"      _25._tcp.mx1: {tlsa: "+tc.tlsa+"}\n", time.Unix(1000, 0))
			snap, diags := Load(cfg, nil)
			want := strings.ReplaceAll(tc.want, "CERTS", certs)
			if strings.Contains(want, "tlsa:") {
				if err := diags.Err(); err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("error %v, want one with %q", err, want)
				}
				return
			}
			if err := diags.Err(); err != nil {
				t.Fatal(err)
			}
			r := snap.Lookup(dns.Question{Name: "_25._tcp.mx1.example.com.", Qtype: dns.TypeTLSA, Qclass: dns.ClassINET}, Client{Link: NoLink})
			var got []string
			for _, rr := range r.Answer {
				got = append(got, rr.(*dns.TLSA).Certificate)
			}
			if !slices.Contains(got, want) {
				t.Errorf("TLSA %v, want one of %s", got, want)
			}
		})
	}
}

func slicesConcat(parts ...[]byte) []byte { return slices.Concat(parts...) }

func pemBytes(t *testing.T, text []byte) []byte {
	t.Helper()
	b, _ := pem.Decode(text)
	if b == nil {
		t.Fatal("no PEM")
	}
	return b.Bytes
}

// The warning of a _25._tcp TLSA at a host no MX names depends on the MX
// records of every zone: an incremental load must come to what a full
// load does when an MX in another file starts or stops naming the host,
// and when the TLSA's own file changes.
func TestDANEWarningFollowsMXOfOtherZones(t *testing.T) {
	pki := newTestPKI(t, 'l')
	cfg, zones := zoneFilesConfig(t)
	certs := filepath.Join(filepath.Dir(cfg), "certs")
	os.Mkdir(certs, 0o755)
	writeFile(t, filepath.Join(certs, "chain.pem"), string(pki.chain), time.Unix(1000, 0))
	hosts := "zones:\n  example.com:\n    dnssec: on\n    ns: [ns1]\n    records:\n      ns1: {a: 192.0.2.53}\n      mx1: {a: 192.0.2.1}\n      mx2: {a: 192.0.2.2}\n" +
		"      _25._tcp.mx1: {tlsa: {cert: ../certs/chain.pem}}\n"
	mail := func(target string) string {
		return "zones:\n  example.org:\n    ns: [ns1.example.com.]\n    records:\n      \"@\": {mx: \"10;" + target + "\"}\n"
	}
	hostsFile, mailFile := filepath.Join(zones, "hosts.yaml"), filepath.Join(zones, "mail.yaml")
	writeFile(t, hostsFile, hosts, time.Unix(1000, 0))
	writeFile(t, mailFile, mail("mx2.example.com."), time.Unix(1000, 0))
	prev, diags := Load(cfg, nil)
	if prev == nil {
		t.Fatal(diags)
	}
	const warning = "no MX of these zones names mx1.example.com"
	for i, step := range []struct {
		file, text string
		warned     bool
	}{
		{mailFile, mail("mx1.example.com."), false},
		{mailFile, mail("mx2.example.com."), true},
		{mailFile, mail("mx1.example.com."), false},
		{hostsFile, hosts + "      www: {a: 192.0.2.80}\n", false},
		{mailFile, mail("mx2.example.com."), true},
		{hostsFile, hosts, true},
	} {
		writeFile(t, step.file, step.text, time.Unix(int64(2000+i), 0))
		inc, incDiags := Reload(cfg, prev, []string{step.file})
		full, fullDiags := Load(cfg, withoutCache(prev))
		if d := diffDiags(incDiags, fullDiags); d != "" {
			t.Fatalf("step %d: findings differ:\n%s", i, d)
		}
		if got := len(findingsWith(incDiags, Warning, warning)) > 0; got != step.warned {
			t.Errorf("step %d: warned %v, want %v: %v", i, got, step.warned, incDiags)
		}
		if inc == nil || full == nil {
			t.Fatalf("step %d: %v", i, incDiags)
		}
		prev = inc
	}
}

// Every usage, selector and matching type a certificate file can be
// published under, and those a next key alone can (selector 1: a key has
// no certificate; usage 3 and 1: it is the host's own key), as golden
// text; each record is also worked out here from the certificates
// themselves, so the golden file cannot pin a wrong choice of certificate.
func TestTLSACombinations(t *testing.T) {
	pki := newTestPKI(t, 'l')
	nextSPKI := pemBytes(t, pki.nextPublic)
	var zone strings.Builder
	zone.WriteString("zones:\n  example.com:\n    dnssec: on\n    ns: [ns1]\n    records:\n      ns1: {a: 192.0.2.53}\n")
	type combo struct {
		owner   string
		u, s, m uint8
		key     bool
	}
	var combos []combo
	for u := range uint8(4) {
		for s := range uint8(2) {
			for m := range uint8(3) {
				c := combo{owner: fmt.Sprintf("_443._tcp.cert-%d%d%d", u, s, m), u: u, s: s, m: m}
				combos = append(combos, c)
				fmt.Fprintf(&zone, "      %s: {tlsa: {cert: ../certs/chain.pem, usage_selector_match: \"%d %d %d\"}}\n", c.owner, u, s, m)
				if s == 1 && (u == 1 || u == 3) {
					k := combo{owner: fmt.Sprintf("_443._tcp.next-%d%d%d", u, s, m), u: u, s: s, m: m, key: true}
					combos = append(combos, k)
					fmt.Fprintf(&zone, "      %s: {tlsa: {cert: ../certs/chain.pem, next: ../certs/next.key, usage_selector_match: \"%d %d %d\"}}\n", k.owner, u, s, m)
				}
			}
		}
	}
	_, _, snap, diags := tlsaSite(t, pki, zone.String())
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	digest := func(b []byte, m uint8) string {
		switch m {
		case 1:
			return sha256Hex(b)
		case 2:
			s := sha512.Sum512(b)
			return hex.EncodeToString(s[:])
		}
		return hex.EncodeToString(b)
	}
	var b strings.Builder
	for _, c := range combos {
		r := snap.Lookup(dns.Question{Name: c.owner + ".example.com.", Qtype: dns.TypeTLSA, Qclass: dns.ClassINET}, Client{Link: NoLink})
		var got []string
		for _, rr := range r.Answer {
			b.WriteString(rr.String() + "\n")
			got = append(got, rr.(*dns.TLSA).Certificate)
		}
		cert := pki.leaf // usage 1 and 3: the end entity
		if c.u == 0 || c.u == 2 {
			cert = pki.ca // usage 0 and 2: the chain's last, its trust anchor's end
		}
		data := cert.Raw
		if c.s == 1 {
			data = cert.RawSubjectPublicKeyInfo
		}
		want := []string{digest(data, c.m)}
		if c.key {
			want = append(want, digest(nextSPKI, c.m))
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s (%d %d %d): TLSA %v, want %v", c.owner, c.u, c.s, c.m, got, want)
		}
	}
	golden(t, filepath.Join("testdata", "tlsa", "combinations.golden"), b.String())
}
