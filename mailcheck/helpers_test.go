package mailcheck

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"flag"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata")

// now is the time every test judges certificates at.
var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// world is a fake recursive resolver over records in presentation form:
// it follows CNAMEs, answers NODATA at a name that exists (or has names
// below it) and NXDOMAIN elsewhere, SERVFAIL for the names in servfail
// and no answer at all for those in timeout.
type world struct {
	mu       sync.Mutex
	rrs      map[string][]dns.RR
	servfail map[string]bool
	timeout  map[string]bool
	asked    map[string]int // "name TYPE" → how often
}

func newWorld(t *testing.T, lines ...string) *world {
	t.Helper()
	w := &world{rrs: map[string][]dns.RR{}, servfail: map[string]bool{}, timeout: map[string]bool{}, asked: map[string]int{}}
	for _, block := range lines {
		for _, l := range strings.Split(block, "\n") {
			l = strings.TrimSpace(l)
			if l == "" || strings.HasPrefix(l, ";") {
				continue
			}
			if name, ok := strings.CutPrefix(l, "SERVFAIL "); ok {
				w.servfail[dns.CanonicalName(name)] = true
				continue
			}
			if name, ok := strings.CutPrefix(l, "TIMEOUT "); ok {
				w.timeout[dns.CanonicalName(name)] = true
				continue
			}
			rr, err := dns.NewRR(l)
			if err != nil || rr == nil {
				t.Fatalf("world record %q: %v", l, err)
			}
			name := dns.CanonicalName(rr.Header().Name)
			w.rrs[name] = append(w.rrs[name], rr)
		}
	}
	return w
}

// std is what a domain with nothing wrong publishes: an MX host with both
// addresses, SPF, and DMARC at reject with reports at home.
func std(d string) string {
	return fmt.Sprintf(`%[1]s. MX 10 mx.%[1]s.
mx.%[1]s. A 192.0.2.25
mx.%[1]s. AAAA 2001:db8::25
%[1]s. TXT "v=spf1 mx -all"
_dmarc.%[1]s. TXT "v=DMARC1; p=reject; rua=mailto:dmarc@%[1]s"`, d)
}

// except is std(d) without its lines holding one of the words.
func except(d string, words ...string) string {
	var out []string
	for _, l := range strings.Split(std(d), "\n") {
		keep := true
		for _, w := range words {
			keep = keep && !strings.Contains(l, w)
		}
		if keep {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func (w *world) exchange(ctx context.Context, q *dns.Msg) (*dns.Msg, error) {
	qq := q.Question[0]
	name := dns.CanonicalName(qq.Name)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.asked[bare(name)+" "+dns.TypeToString[qq.Qtype]]++
	if w.timeout[name] {
		return nil, &net.OpError{Op: "read", Net: "udp", Err: os.ErrDeadlineExceeded}
	}
	r := new(dns.Msg)
	r.SetReply(q)
	r.RecursionAvailable = true
	if w.servfail[name] {
		r.Rcode = dns.RcodeServerFailure
		return r, nil
	}
	for range 9 {
		var cname *dns.CNAME
		for _, rr := range w.records(name) {
			if c, ok := rr.(*dns.CNAME); ok && qq.Qtype != dns.TypeCNAME {
				cname = c
			}
		}
		if cname == nil {
			break
		}
		r.Answer = append(r.Answer, dns.Copy(cname))
		name = dns.CanonicalName(cname.Target)
	}
	for _, rr := range w.records(name) {
		if rr.Header().Rrtype == qq.Qtype {
			rr = dns.Copy(rr)
			rr.Header().Name = name
			r.Answer = append(r.Answer, rr)
		}
	}
	if len(r.Answer) == 0 && !w.exists(name) && w.wildcard(name) == nil {
		r.Rcode = dns.RcodeNameError
	}
	return r, nil
}

// records are name's, or those of the wildcard at its closest
// encloser (RFC 4592).
func (w *world) records(name string) []dns.RR {
	if w.exists(name) {
		return w.rrs[name]
	}
	return w.wildcard(name)
}

func (w *world) wildcard(name string) []dns.RR {
	for off, end := dns.NextLabel(name, 0); !end; off, end = dns.NextLabel(name, off) {
		if parent := name[off:]; w.exists(parent) {
			return w.rrs["*."+parent]
		}
	}
	return nil
}

func (w *world) exists(name string) bool {
	if len(w.rrs[name]) > 0 {
		return true
	}
	for n := range w.rrs {
		if strings.HasSuffix(n, "."+name) {
			return true
		}
	}
	return false
}

// report is the findings of a run as the golden files hold them: each
// domain's under its name, in the order found, with the check's name.
func report(domains []Domain, fs []Finding) string {
	var b strings.Builder
	for _, d := range domains {
		fmt.Fprintf(&b, "== %s\n", d.Name)
		for _, f := range fs {
			if f.Domain == dns.CanonicalName(d.Name) {
				fmt.Fprintf(&b, "[%s %s %s] %s\n", f.Check, bare(f.Name), dns.TypeToString[f.Type], f)
			}
		}
	}
	return b.String()
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./mailcheck -update)", err)
	}
	if got != string(want) {
		t.Errorf("findings differ from %s:\n got:\n%s\nwant:\n%s", path, got, want)
	}
}

// domains makes Domains of names.
func domains(names ...string) []Domain {
	out := make([]Domain, len(names))
	for i, n := range names {
		out[i] = Domain{Name: n}
	}
	return out
}

// ca is a test certificate authority.
type ca struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newCA(t *testing.T, name string) *ca {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
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
	return &ca{cert: cert, key: key, pool: pool}
}

// leaf is a server certificate for names, valid from notBefore to notAfter.
func (c *ca) leaf(t *testing.T, notBefore, notAfter time.Time, names ...string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: names[0]},
		DNSNames: names, NotBefore: notBefore, NotAfter: notAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.cert, &key.PublicKey, c.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// valid is a certificate for names valid long before and after now.
func (c *ca) valid(t *testing.T, names ...string) tls.Certificate {
	return c.leaf(t, now.AddDate(0, -6, 0), now.AddDate(0, 6, 0), names...)
}

// site is what an HTTPS host serves: a path's status, type and body.
type page struct {
	status int
	ctype  string
	body   string
	header map[string]string
}

// httpsServer serves pages by host and path over TLS, with the
// certificate of each host chosen by SNI (default when none is given).
type httpsServer struct {
	addr  string
	certs map[string]tls.Certificate
	pages map[string]page // "host/path"
}

func startHTTPS(t *testing.T, def tls.Certificate, certs map[string]tls.Certificate, pages map[string]page) *httpsServer {
	t.Helper()
	s := &httpsServer{certs: certs, pages: pages}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, ok := s.pages[r.Host+r.URL.Path]
			if !ok {
				http.NotFound(w, r)
				return
			}
			for k, v := range p.header {
				w.Header().Set(k, v)
			}
			if p.ctype != "" {
				w.Header().Set("Content-Type", p.ctype)
			}
			if p.status == 0 {
				p.status = 200
			}
			w.WriteHeader(p.status)
			w.Write([]byte(p.body))
		}),
		TLSConfig: &tls.Config{GetCertificate: func(h *tls.ClientHelloInfo) (*tls.Certificate, error) {
			if c, ok := s.certs[h.ServerName]; ok {
				return &c, nil
			}
			return &def, nil
		}},
		ErrorLog: nil,
	}
	srv.ErrorLog = quietLog()
	go srv.ServeTLS(ln, "", "")
	t.Cleanup(func() { srv.Close() })
	return s
}

// dialer sends connections to 192.0.2.x:443 and the like to the test's
// servers: routes maps "IP:PORT" to a listener's address, refused lists
// addresses that refuse, unreachable those with no route.
func dialer(routes map[string]string, refused, unreachable []string) DialFunc {
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		for _, a := range refused {
			if a == address {
				return nil, &net.OpError{Op: "dial", Net: network, Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
			}
		}
		for _, a := range unreachable {
			if a == address {
				return nil, &net.OpError{Op: "dial", Net: network, Err: os.NewSyscallError("connect", syscall.ENETUNREACH)}
			}
		}
		to, ok := routes[address]
		if !ok {
			return nil, &net.OpError{Op: "dial", Net: network, Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
		}
		var d net.Dialer
		return d.DialContext(ctx, network, to)
	}
}

// memPolicies is a PolicyStore in memory.
type memPolicies map[string][2]string

func (m memPolicies) Seen(domain string) (string, string, bool, error) {
	p, ok := m[domain]
	return p[0], p[1], ok, nil
}

func (m memPolicies) Remember(domain, id, digest string) error {
	m[domain] = [2]string{id, digest}
	return nil
}

// smtpBehaviour is how a test SMTP server answers.
type smtpBehaviour struct {
	greeting string          // "" for "220 mx ESMTP"
	noTLS    bool            // no STARTTLS in EHLO
	cert     tls.Certificate // shown after STARTTLS
}

// startSMTP runs an SMTP responder on 127.0.0.1:0 and returns its address.
func startSMTP(t *testing.T, b smtpBehaviour) string {
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
			go serveSMTP(conn, b)
		}
	}()
	return ln.Addr().String()
}

func serveSMTP(conn net.Conn, b smtpBehaviour) {
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	greeting := b.greeting
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
		verb := strings.ToUpper(strings.Fields(line + " x")[0])
		switch verb {
		case "EHLO":
			if b.noTLS || tlsOn {
				fmt.Fprintf(c, "250-mx.test\r\n250 PIPELINING\r\n")
			} else {
				fmt.Fprintf(c, "250-mx.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n")
			}
		case "STARTTLS":
			fmt.Fprintf(c, "220 go ahead\r\n")
			tc := tls.Server(conn, &tls.Config{Certificates: []tls.Certificate{b.cert}})
			if tc.Handshake() != nil {
				return
			}
			c, rd, tlsOn = tc, bufio.NewReader(tc), true
		case "QUIT":
			fmt.Fprintf(c, "221 bye\r\n")
			return
		default:
			fmt.Fprintf(c, "502 no\r\n")
		}
	}
}

func quietLog() *log.Logger { return log.New(io.Discard, "", 0) }

// replace puts records in place of those of the same name and type.
func (w *world) replace(t *testing.T, lines ...string) {
	t.Helper()
	add := newWorld(t, lines...)
	for name, rrs := range add.rrs {
		for _, rr := range rrs {
			var keep []dns.RR
			for _, old := range w.rrs[name] {
				if old.Header().Rrtype != rr.Header().Rrtype {
					keep = append(keep, old)
				}
			}
			w.rrs[name] = keep
		}
	}
	for name, rrs := range add.rrs {
		w.rrs[name] = append(w.rrs[name], rrs...)
	}
}
