package server

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func selfSignedPEM(t *testing.T) []byte {
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
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// A certificate whose directory does not exist yet when the server starts
// (certbot run for the first time after mxdns, /etc/letsencrypt/live/mx1
// made then) is picked up when it appears: the nearest directory that
// exists is watched until the one named does.
func TestWatchCertificateDirectoryMadeLater(t *testing.T) {
	for _, tc := range []struct{ name, missing string }{
		{"its own directory", "le/live/mx1"},
		{"three levels", "le"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			os.MkdirAll(filepath.Join(dir, "zones"), 0o755)
			if tc.missing != "le" {
				os.MkdirAll(filepath.Join(dir, filepath.Dir(tc.missing)), 0o755)
			}
			writeFile(t, filepath.Join(dir, "zones", "mail.yaml"), `zones:
  example.test:
    ns: [ns1]
    records:
      "@": {mx: "10;mx1"}
      ns1: {a: 192.0.2.53}
      mx1: {a: 192.0.2.25}
      _25._tcp.mx1: {tlsa: {cert: ../le/live/mx1/fullchain.pem}}
`)
			s, _, reloads := startServerIn(t, dir, "listen: [\"127.0.0.1:0\"]\nzone_files: [\"zones/*.yaml\"]\n")
			w, err := s.Watch(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			waitReload(t, reloads, func(ReloadResult) bool { return true }) // the first, checking every file
			tlsa := func() int { return len(exchange(t, s, "udp", "_25._tcp.mx1.example.test.", dns.TypeTLSA).Answer) }
			if n := tlsa(); n != 0 {
				t.Fatalf("%d TLSA records before the certificate exists", n)
			}

			// certbot: the certificate in archive/, a link in live/.
			archive := filepath.Join(dir, "le", "archive", "mx1")
			live := filepath.Join(dir, "le", "live", "mx1")
			if err := os.MkdirAll(archive, 0o755); err != nil {
				t.Fatal(err)
			}
			writeFile(t, filepath.Join(archive, "fullchain1.pem"), string(selfSignedPEM(t)))
			if err := os.MkdirAll(live, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("../../archive/mx1/fullchain1.pem", filepath.Join(live, "fullchain.pem")); err != nil {
				t.Fatal(err)
			}
			waitReload(t, reloads, func(res ReloadResult) bool { return res.Err == nil && tlsa() == 1 })
		})
	}
}
