package acmetest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/internal/harness"
)

// bin is the mxdns binary under test, built once by TestMain.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "mxdns-acmetest-")
	if err == nil {
		bin = filepath.Join(dir, "mxdns")
		var root string
		if root, err = filepath.Abs(filepath.Join("..", "..")); err == nil {
			err = harness.Build(root, bin)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "acmetest:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const (
	acmeKey    = "acme"
	acmeSecret = "YWNtZS1hY21lLWFjbWUtYWNtZS1hY21lLWFjbWUtMTI="
	xfrSecret  = "eGZyLXhmci14ZnIteGZyLXhmci14ZnIteGZyLXhmci0="
	// otherSecret is the right length for hmac-sha256, and wrong.
	otherSecret = "b3RoZXItb3RoZXItb3RoZXItb3RoZXItb3RoZXItMTI="
)

// config is what a mail domain that certifies its hosts through mxdns
// writes: the key its ACME client signs with, and the challenge names of
// the domain and of each host.
const config = `listen: ["127.0.0.1:%d"]
admin: "127.0.0.1:%d"
tsig_keys:
  acme: {algorithm: hmac-sha256, secret_file: acme.key}
  xfr: {algorithm: hmac-sha256, secret: "` + xfrSecret + `"}
updates:
  allow:
    - key: acme
      names: [_acme-challenge.example.test., _acme-challenge.*.example.test.]
      types: [TXT]
zone_files: [zones/*.yaml]
`

// zoneFile is the domain's zone: its MX host's TLSA is made from the
// certificate the ACME client renews (certs/mx1.pem).
const zoneFile = `zones:
  example.test:
    ns: [ns1]
    records:
      "@": {mx: "10;mx1"}
      ns1: {a: 127.0.0.1}
      mx1: {a: 127.0.0.1}
      _25._tcp.mx1: {tlsa: {cert: ../certs/mx1.pem}}
      _acme-challenge.www: {cname: elsewhere.example.net.}
`

// site is mxdns serving the domain, and where its files are.
type site struct {
	*harness.Server
	dir string
}

// startSite serves config from a directory of its own, its state kept in
// state/ there, the MX host's certificate a self-signed one until an
// ACME client replaces it.
func startSite(t *testing.T) *site {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{"zones", "certs"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, text := range map[string][]byte{
		"acme.key":                []byte(acmeSecret + "\n"),
		"zones/example.test.yaml": []byte(zoneFile),
		"certs/mx1.pem":           placeholderCert(t),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), text, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s, err := harness.Start(harness.Options{Bin: bin, Dir: dir,
		Args: []string{"serve", "-config", "config.yaml", "-state-dir", "state"},
		WriteConfig: func(port, admin int) error {
			return os.WriteFile(filepath.Join(dir, "config.yaml"), fmt.Appendf(nil, config, port, admin), 0o644)
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
		if t.Failed() {
			t.Logf("mxdns log:\n%s", s.Log())
		}
	})
	return &site{Server: s, dir: dir}
}

// placeholderCert is a self-signed certificate for mx1.example.test, the
// one the MX host has before its first ACME certificate.
func placeholderCert(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mx1.example.test"},
		DNSNames: []string{"mx1.example.test"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// tlsa311 is the TLSA 3 1 1 data of a certificate: the SHA-256 of its
// public key.
func tlsa311(c *x509.Certificate) string {
	sum := sha256.Sum256(c.RawSubjectPublicKeyInfo)
	return hex.EncodeToString(sum[:])
}

// txt is the TXT data served at name, sorted: none when the name has no
// TXT (or does not exist).
func txt(t *testing.T, s *site, name string) []string {
	t.Helper()
	r, err := s.Query(name, dns.TypeTXT)
	if err != nil {
		t.Fatalf("TXT %s: %v", name, err)
	}
	var out []string
	for _, rr := range r.Answer {
		if x, ok := rr.(*dns.TXT); ok {
			out = append(out, strings.Join(x.Txt, ""))
		}
	}
	return out
}

// required says whether a missing tool fails the test rather than
// skipping it.
func required() bool { return os.Getenv("MXDNS_REQUIRE_ACME") == "1" }

// need returns the path of a program, skipping the test when it is
// missing and not required.
func need(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if required() {
		t.Fatalf("%s not found (Debian package %s), and MXDNS_REQUIRE_ACME=1", name, pkg)
	}
	t.Skipf("%s not found (Debian package %s)", name, pkg)
	return ""
}

// waitFor polls cond until it holds or 10 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10 s", what)
		}
		time.Sleep(20 * time.Millisecond) // polled with a deadline
	}
}
