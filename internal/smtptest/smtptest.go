// Package smtptest is a small SMTP responder for tests: a 220 banner,
// EHLO, STARTTLS with a certificate from a CA made for the test, QUIT.
// A test can make it stop answering EHLO (while still accepting
// connections), answer EHLO with another code, or serve an expired
// certificate, and can see the address each connection came from.
package smtptest

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server is a running responder.
type Server struct {
	Addr   string // host:port it listens on
	CAFile string // the test CA's certificate, PEM: a check's ca_file

	t     testing.TB
	ln    net.Listener
	ca    *x509.Certificate
	caKey *ecdsa.PrivateKey
	names []string

	mu        sync.Mutex
	cert      *tls.Certificate
	mute      bool   // EHLO goes unanswered
	ehloReply string // "" answers 250
	peers     []netip.Addr
	conns     map[net.Conn]bool
	closed    bool
	seen      chan netip.Addr
	wg        sync.WaitGroup
}

// Start listens on addr (e.g. "127.0.0.1:0") with a certificate for
// names (host names or addresses; the listening address is added), valid
// from an hour ago for a year. It stops when the test ends.
func Start(t testing.TB, addr string, names ...string) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Addr: ln.Addr().String(), t: t, ln: ln, conns: make(map[net.Conn]bool), seen: make(chan netip.Addr, 64)}
	host, _, _ := net.SplitHostPort(s.Addr)
	s.names = append(names, host)
	s.newCA()
	s.SetValidity(time.Now().Add(-time.Hour), time.Now().Add(365*24*time.Hour))
	s.wg.Add(1)
	go s.accept()
	t.Cleanup(s.Close)
	return s
}

func (s *Server) newCA() {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		s.t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mxdns test CA"},
		NotBefore: time.Now().Add(-24 * time.Hour), NotAfter: time.Now().Add(10 * 365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		s.t.Fatal(err)
	}
	s.ca, _ = x509.ParseCertificate(der)
	s.caKey = key
	s.CAFile = filepath.Join(s.t.TempDir(), "ca.pem")
	if err := os.WriteFile(s.CAFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		s.t.Fatal(err)
	}
}

// SetValidity serves, from the next connection on, a new certificate of
// the test CA valid from notBefore to notAfter.
func (s *Server) SetValidity(notBefore, notAfter time.Time) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		s.t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: s.names[0]},
		NotBefore: notBefore, NotAfter: notAfter, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	for _, n := range s.names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, s.ca, &key.PublicKey, s.caKey)
	if err != nil {
		s.t.Fatal(err)
	}
	s.mu.Lock()
	s.cert = &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	s.mu.Unlock()
}

// MuteEHLO makes the responder stop answering EHLO (true) or answer it
// again (false); connections are still accepted and greeted.
func (s *Server) MuteEHLO(mute bool) {
	s.mu.Lock()
	s.mute = mute
	s.mu.Unlock()
}

// SetEHLOReply answers EHLO with reply (e.g. "554 5.7.1 no"), or with 250
// again when reply is "".
func (s *Server) SetEHLOReply(reply string) {
	s.mu.Lock()
	s.ehloReply = reply
	s.mu.Unlock()
}

// Peers lists the addresses connections came from, in order.
func (s *Server) Peers() []netip.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]netip.Addr(nil), s.peers...)
}

// Seen receives the address of each new connection (those beyond its
// buffer of 64 are dropped from it, not from Peers).
func (s *Server) Seen() <-chan netip.Addr { return s.seen }

// Close stops listening, closes every connection and waits for them.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.ln.Close()
	s.wg.Wait()
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		peer, _ := netip.ParseAddrPort(c.RemoteAddr().String())
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = true
		s.peers = append(s.peers, peer.Addr().Unmap())
		s.wg.Add(1)
		s.mu.Unlock()
		select {
		case s.seen <- peer.Addr().Unmap():
		default:
		}
		go s.serve(c)
	}
}

func (s *Server) serve(c net.Conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		c.Close()
	}()
	c.SetDeadline(time.Now().Add(time.Minute))
	conn, tlsOn := c, false
	r := bufio.NewReader(conn)
	say := func(format string, args ...any) bool {
		_, err := fmt.Fprintf(conn, format+"\r\n", args...)
		return err == nil
	}
	if !say("220 smtptest ESMTP ready") {
		return
	}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		verb, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		s.mu.Lock()
		mute, reply, cert := s.mute, s.ehloReply, s.cert
		s.mu.Unlock()
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			switch {
			case mute:
				continue // heard, never answered
			case reply != "":
				say("%s", reply)
			case tlsOn:
				say("250-smtptest\r\n250 SIZE 10240000")
			default:
				say("250-smtptest\r\n250-SIZE 10240000\r\n250 STARTTLS")
			}
		case "STARTTLS":
			if tlsOn {
				say("503 5.5.1 TLS already active")
				continue
			}
			say("220 2.0.0 ready to start TLS")
			tc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{*cert}})
			if tc.Handshake() != nil {
				return
			}
			conn, tlsOn = tc, true
			r = bufio.NewReader(conn)
		case "QUIT":
			say("221 2.0.0 bye")
			return
		default:
			say("502 5.5.2 not implemented")
		}
	}
}
