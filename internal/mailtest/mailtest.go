// Package mailtest holds what the tests of the mail checks share: a
// certificate authority, HTTPS and SMTP servers that present its
// certificates, a dial function that sends connections to them whatever
// address was dialled, and a resolver that serves zone files. Only tests
// import it.
package mailtest

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// CA is a test certificate authority.
type CA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	Pool *x509.CertPool // trusts the CA alone
	now  time.Time
}

var serial atomic.Int64

// NewCA makes a CA valid a year before now and five after.
func NewCA(t testing.TB, name string, now time.Time) *CA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial.Add(1)), Subject: pkix.Name{CommonName: name},
		NotBefore: now.AddDate(-1, 0, 0), NotAfter: now.AddDate(5, 0, 0),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &CA{cert: cert, key: key, Pool: pool, now: now}
}

// Leaf is a server certificate for names, valid from notBefore to notAfter.
func (c *CA) Leaf(t testing.TB, notBefore, notAfter time.Time, names ...string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial.Add(1)), Subject: pkix.Name{CommonName: names[0]},
		DNSNames: names, NotBefore: notBefore, NotAfter: notAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.cert, &key.PublicKey, c.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// Valid is a certificate for names, valid six months either side of the
// CA's now.
func (c *CA) Valid(t testing.TB, names ...string) tls.Certificate {
	return c.Leaf(t, c.now.AddDate(0, -6, 0), c.now.AddDate(0, 6, 0), names...)
}

// Page is what an HTTPS host serves at a path.
type Page struct {
	Status int // 200 when 0
	Type   string
	Body   string
	Header map[string]string
}

// StartHTTPS serves pages, keyed "host/path", over TLS on 127.0.0.1, with
// the certificate certs gives the name the client asks for (SNI), or def.
// It returns the server's address.
func StartHTTPS(t testing.TB, def tls.Certificate, certs map[string]tls.Certificate, pages map[string]Page) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, ok := pages[r.Host+r.URL.Path]
			if !ok {
				http.NotFound(w, r)
				return
			}
			for k, v := range p.Header {
				w.Header().Set(k, v)
			}
			if p.Type != "" {
				w.Header().Set("Content-Type", p.Type)
			}
			if p.Status == 0 {
				p.Status = 200
			}
			w.WriteHeader(p.Status)
			io.WriteString(w, p.Body)
		}),
		TLSConfig: &tls.Config{GetCertificate: func(h *tls.ClientHelloInfo) (*tls.Certificate, error) {
			if c, ok := certs[h.ServerName]; ok {
				return &c, nil
			}
			return &def, nil
		}},
		ErrorLog: log.New(io.Discard, "", 0), // the tests' bad certificates make clients hang up
	}
	go srv.ServeTLS(ln, "", "")
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// Dialer sends a connection to an address routes names (a test server's)
// instead; refused and unreachable list addresses that refuse, or have
// no route; any other is refused.
func Dialer(routes map[string]string, refused, unreachable []string) func(ctx context.Context, network, address string) (net.Conn, error) {
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		fail := func(errno syscall.Errno) error {
			return &net.OpError{Op: "dial", Net: network, Err: os.NewSyscallError("connect", errno)}
		}
		for _, a := range unreachable {
			if a == address {
				return nil, fail(syscall.ENETUNREACH)
			}
		}
		to, ok := routes[address]
		if !ok || containsAddr(refused, address) {
			return nil, fail(syscall.ECONNREFUSED)
		}
		var d net.Dialer
		return d.DialContext(ctx, network, to)
	}
}

func containsAddr(list []string, a string) bool {
	for _, x := range list {
		if x == a {
			return true
		}
	}
	return false
}

// SMTP is how a test SMTP server answers.
type SMTP struct {
	Greeting string          // "" for "220 mx.test ESMTP"
	NoTLS    bool            // no STARTTLS among the EHLO extensions
	Cert     tls.Certificate // shown after STARTTLS
}

// StartSMTP runs an SMTP responder on 127.0.0.1 and returns its address.
func StartSMTP(t testing.TB, b SMTP) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go b.serve(conn)
		}
	}()
	return ln.Addr().String()
}

func (b SMTP) serve(conn net.Conn) {
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	greeting := b.Greeting
	if greeting == "" {
		greeting = "220 mx.test ESMTP"
	}
	fmt.Fprintf(conn, "%s\r\n", greeting)
	if !strings.HasPrefix(greeting, "220") {
		return
	}
	rd := bufio.NewReader(conn)
	var c net.Conn = conn
	tlsOn := false
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			return
		}
		switch verb := strings.ToUpper(strings.Fields(line + " x")[0]); verb {
		case "EHLO":
			if b.NoTLS || tlsOn {
				fmt.Fprintf(c, "250-mx.test\r\n250 PIPELINING\r\n")
			} else {
				fmt.Fprintf(c, "250-mx.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n")
			}
		case "STARTTLS":
			fmt.Fprintf(c, "220 go ahead\r\n")
			tc := tls.Server(conn, &tls.Config{Certificates: []tls.Certificate{b.Cert}})
			if tc.Handshake() != nil {
				return
			}
			c, rd, tlsOn = tc, bufio.NewReader(tc), true
		case "QUIT":
			fmt.Fprintf(c, "221 bye\r\n")
			return
		default:
			fmt.Fprintf(c, "502 not here\r\n")
		}
	}
}
