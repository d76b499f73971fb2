package e2e

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/internal/harness"
)

// selfSigned is a PEM certificate of a new key, and the TLSA 3 1 1 data
// it gives.
func selfSigned(t *testing.T) ([]byte, string) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mx1.example.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, priv)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	sum := sha256.Sum256(c.RawSubjectPublicKeyInfo)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), hex.EncodeToString(sum[:])
}

// TestRenewedCertificateChangesTheTLSA: the TLSA made from a certificate
// file follows a renewal with no edit of the YAML, whether the file is
// saved over (write and rename) or, as certbot does, a symbolic link in
// live/ is swapped to a new file in archive/.
func TestRenewedCertificateChangesTheTLSA(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"zones", "certs/live", "certs/archive"} {
		os.MkdirAll(filepath.Join(dir, d), 0o755)
	}
	write := func(rel string, b []byte) {
		tmp := filepath.Join(dir, rel+".tmp")
		if err := os.WriteFile(tmp, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, rel)); err != nil {
			t.Fatal(err)
		}
	}
	cert1, want1 := selfSigned(t)
	write("certs/mx1.pem", cert1)
	write("certs/archive/cert1.pem", cert1)
	if err := os.Symlink("../archive/cert1.pem", filepath.Join(dir, "certs/live/cert.pem")); err != nil {
		t.Fatal(err)
	}
	write("zones/mail.yaml", []byte(`zones:
  example.test:
    dnssec: on
    ns: [ns1]
    records:
      "@": {mx: ["10;mx1", "20;mx2"]}
      ns1: {a: 192.0.2.53}
      mx1: {a: 192.0.2.25}
      mx2: {a: 192.0.2.26}
      _25._tcp.mx1: {tlsa: {cert: ../certs/mx1.pem}}
      _25._tcp.mx2: {tlsa: {cert: ../certs/live/cert.pem}}
`))
	srv, err := harness.Start(harness.Options{Bin: bin, Dir: dir, Args: []string{"serve", "-config", "config.yaml", "-state-dir", "state"}, MemLimit: memLimit,
		WriteConfig: func(port, admin int) error {
			return os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(fmt.Sprintf("listen: [\"127.0.0.1:%d\"]\nadmin: \"127.0.0.1:%d\"\nzone_files: [\"zones/*.yaml\"]\n", port, admin)), 0o644)
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	tlsa := func(host string) string {
		r, err := srv.Query("_25._tcp."+host+".example.test.", dns.TypeTLSA)
		if err != nil || len(r.Answer) != 1 {
			return ""
		}
		return r.Answer[0].(*dns.TLSA).Certificate
	}
	if got := tlsa("mx1"); got != want1 {
		t.Fatalf("TLSA of mx1 %q, want %q", got, want1)
	}
	if got := tlsa("mx2"); got != want1 {
		t.Fatalf("TLSA of mx2 %q, want %q", got, want1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()

	cert2, want2 := selfSigned(t)
	write("certs/mx1.pem", cert2)
	if !harness.Wait(ctx, func() bool { return tlsa("mx1") == want2 }) {
		t.Fatalf("the TLSA did not follow the certificate saved over: %q, want %q\n%s", tlsa("mx1"), want2, srv.Log())
	}

	cert3, want3 := selfSigned(t)
	write("certs/archive/cert2.pem", cert3)
	if err := os.Symlink("../archive/cert2.pem", filepath.Join(dir, "certs/live/cert.pem.new")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "certs/live/cert.pem.new"), filepath.Join(dir, "certs/live/cert.pem")); err != nil {
		t.Fatal(err)
	}
	if !harness.Wait(ctx, func() bool { return tlsa("mx2") == want3 }) {
		t.Fatalf("the TLSA did not follow certbot's link swap: %q, want %q\n%s", tlsa("mx2"), want3, srv.Log())
	}

	// A broken certificate keeps the last good TLSA, and says so.
	write("certs/mx1.pem", []byte("-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n"))
	if !harness.Wait(ctx, func() bool {
		st, err := srv.Status()
		_, bad := st.InError("mail.yaml")
		return err == nil && bad
	}) {
		t.Fatalf("a broken certificate was not reported as the zone file in error\n%s", srv.Log())
	}
	if got := tlsa("mx1"); got != want2 {
		t.Errorf("after a broken save of the certificate the TLSA is %q, want the last good %q", got, want2)
	}
}
