package acmetest

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/internal/dnstest"
	"github.com/mxdns/mxdns/internal/harness"
)

// tools are Pebble and legorun, built once from the tools module.
var tools struct {
	once sync.Once
	dir  string
	err  error
	out  string
}

// buildTools builds Pebble and legorun from ./tools, a module of their
// own, or skips the test where they cannot be built (offline without a
// module cache) unless MXDNS_REQUIRE_ACME=1.
func buildTools(t *testing.T) (pebble, legorun string) {
	t.Helper()
	tools.once.Do(func() {
		tools.dir, tools.err = os.MkdirTemp("", "mxdns-acme-tools-")
		if tools.err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		for _, pkg := range []string{"github.com/letsencrypt/pebble/v2/cmd/pebble", "./legorun"} {
			cmd := exec.CommandContext(ctx, "go", "build", "-o", tools.dir, pkg)
			cmd.Dir = "tools"
			cmd.Env = append(os.Environ(), "GOWORK=off")
			out, err := cmd.CombinedOutput()
			if err != nil {
				tools.err, tools.out = fmt.Errorf("go build %s: %w", pkg, err), string(out)
				return
			}
		}
	})
	if tools.err != nil {
		if required() {
			t.Fatalf("the ACME tools do not build, and MXDNS_REQUIRE_ACME=1: %v\n%s", tools.err, tools.out)
		}
		t.Skipf("the ACME tools do not build (offline?): %v\n%s", tools.err, tools.out)
	}
	return filepath.Join(tools.dir, "pebble"), filepath.Join(tools.dir, "legorun")
}

// selfSigned writes a certificate for 127.0.0.1 and its key, Pebble's
// HTTPS identity, which legorun is told to trust.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "pebble test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// startPebble runs Pebble on loopback with its resolver pointed at dns,
// validating at once and rejecting no nonce, and returns its directory
// URL and the URL of its management interface.
func startPebble(t *testing.T, bin, dns string) (dir, mgmt, certFile string) {
	t.Helper()
	work := t.TempDir()
	certFile, keyFile := selfSigned(t, work)
	api, err := harness.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	mport, err := harness.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	cfg := map[string]any{"pebble": map[string]any{
		"listenAddress": fmt.Sprintf("127.0.0.1:%d", api), "managementListenAddress": fmt.Sprintf("127.0.0.1:%d", mport),
		"certificate": certFile, "privateKey": keyFile, "httpPort": 5002, "tlsPort": 5001,
		"ocspResponderURL": "", "externalAccountBindingRequired": false,
		"retryAfter": map[string]int{"authz": 1, "order": 1}, "keyAlgorithm": "ecdsa",
	}}
	b, _ := json.Marshal(cfg)
	cfgFile := filepath.Join(work, "pebble.json")
	if err := os.WriteFile(cfgFile, b, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-config", cfgFile, "-dnsserver", dns)
	cmd.Env = append(os.Environ(), "PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0")
	cmd.SysProcAttr = harness.ChildAttr()
	log := new(dnstest.LogBuffer)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
		if t.Failed() {
			t.Logf("pebble log:\n%s", log.String())
		}
	})
	dir = fmt.Sprintf("https://127.0.0.1:%d/dir", api)
	mgmt = fmt.Sprintf("https://127.0.0.1:%d", mport)
	client := httpsClient(t, certFile)
	waitFor(t, "pebble answers", func() bool {
		select {
		case <-done:
			t.Fatalf("pebble exited:\n%s", log.String())
		default:
		}
		resp, err := client.Get(dir)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return dir, mgmt, certFile
}

func httpsClient(t *testing.T, certFile string) *http.Client {
	t.Helper()
	b, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(b)
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

// lego obtains a certificate for mx1.example.test from Pebble, whose
// resolver is mxdns, by publishing the DNS-01 challenge through mxdns's
// updates with the key acme. mxdns is restarted between the add and
// Pebble's check: the record is served from its state directory. The
// certificate chains to Pebble's root, and the challenge is gone after.
func TestLegoObtainsACertificateThroughMxdns(t *testing.T) {
	pebbleBin, legoBin := buildTools(t)
	s := startSite(t)
	dir, mgmt, caFile := startPebble(t, pebbleBin, s.Addr())

	// lego writes the certificate where the MTA reads it, and where the
	// zone's TLSA is made from.
	out := filepath.Join(s.dir, "certs", "mx1.pem")
	before := tlsaData(t, s)
	if want := tlsa311(readChain(t, out)[0]); before != want {
		t.Fatalf("TLSA before the renewal: %q, want %q, the placeholder's", before, want)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, legoBin, "-dir", dir, "-ca", caFile, "-dns", s.Addr(), "-zone", "example.test.",
		"-key", acmeKey, "-secret", acmeSecret, "-domain", "mx1.example.test", "-out", out, "-pause")
	cmd.SysProcAttr = harness.ChildAttr()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := new(dnstest.LogBuffer)
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	// next is legorun's next line of its own, lego's log aside.
	next := func() string {
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("legorun ended early: %v\n%s", cmd.Wait(), stderr.String())
				}
				if strings.HasPrefix(l, "presented ") || strings.HasPrefix(l, "certificate ") {
					return l
				}
				t.Logf("legorun: %s", l)
			case <-ctx.Done():
				t.Fatalf("legorun said nothing in time:\n%s", stderr.String())
			}
		}
	}

	l := next()
	name, ok := strings.CutPrefix(l, "presented ")
	if !ok || name != "_acme-challenge.mx1.example.test." {
		t.Fatalf("legorun: %q, want the challenge name presented", l)
	}
	token := txt(t, s, name)
	if len(token) != 1 {
		t.Fatalf("the challenge is not served after the add: %q", token)
	}
	// A restart between the add and the ACME server's check.
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	if got := txt(t, s, name); !slices.Equal(got, token) {
		t.Fatalf("after a restart the challenge is %q, want %q", got, token)
	}
	if _, err := io.WriteString(stdin, "go on\n"); err != nil {
		t.Fatal(err)
	}
	for l := range lines {
		t.Logf("legorun: %s", l)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("legorun: %v\n%s", err, stderr.String())
	}

	chain := readChain(t, out)
	if !slices.Contains(chain[0].DNSNames, "mx1.example.test") {
		t.Errorf("certificate for %v, want mx1.example.test", chain[0].DNSNames)
	}
	verifyWithPebbleRoot(t, httpsClient(t, caFile), mgmt, chain)

	// DANE: the TLSA follows the new certificate, with no edit.
	want := tlsa311(chain[0])
	waitFor(t, "the TLSA of the new certificate", func() bool { return tlsaData(t, s) == want })

	// The client deleted its challenge: nothing is left served or kept.
	waitFor(t, "the challenge deleted", func() bool { return len(txt(t, s, name)) == 0 })
	st, err := s.Status()
	if err != nil {
		t.Fatal(err)
	}
	for _, z := range st.Zones {
		if len(z.Updated) != 0 {
			t.Errorf("zone %s still lists updated records: %v", z.Origin, z.Updated)
		}
	}
	if !strings.Contains(s.Log(), "msg=update zone=example.test. key=acme. added=1") {
		t.Errorf("the log lacks the update:\n%s", s.Log())
	}
}

// tlsaData is the data of the TLSA served for mx1's SMTP, "" for none.
func tlsaData(t *testing.T, s *site) string {
	t.Helper()
	r, err := s.Query("_25._tcp.mx1.example.test.", dns.TypeTLSA)
	if err != nil {
		t.Fatal(err)
	}
	for _, rr := range r.Answer {
		if x, ok := rr.(*dns.TLSA); ok && x.Usage == 3 && x.Selector == 1 && x.MatchingType == 1 {
			return x.Certificate
		}
	}
	return ""
}

func readChain(t *testing.T, file string) []*x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var chain []*x509.Certificate
	for {
		var blk *pem.Block
		if blk, b = pem.Decode(b); blk == nil {
			break
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		chain = append(chain, c)
	}
	if len(chain) == 0 {
		t.Fatalf("%s holds no certificate", file)
	}
	return chain
}

// verifyWithPebbleRoot checks the chain against the root Pebble made at
// its start, which its management interface gives.
func verifyWithPebbleRoot(t *testing.T, c *http.Client, mgmt string, chain []*x509.Certificate) {
	t.Helper()
	resp, err := c.Get(mgmt + "/roots/0")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	if !roots.AppendCertsFromPEM(b) {
		t.Fatalf("pebble's root: %s", b)
	}
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	if _, err := chain[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, DNSName: "mx1.example.test"}); err != nil {
		t.Errorf("the certificate does not chain to pebble's root: %v", err)
	}
}
