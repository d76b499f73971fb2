package harness

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// Unbound is a validating resolver for a test: Debian's unbound, run in
// the foreground, trusting only the anchors it was given and asking only
// the stub servers it was given. Every other name is refused, and it
// sends nothing off loopback.
type Unbound struct {
	Addr string // host:port

	conf string
	dir  string
}

// UnboundConfig says what an Unbound trusts and whom it asks.
type UnboundConfig struct {
	// TrustAnchors are DS or DNSKEY records in presentation form, as
	// "example.com. 3600 IN DS 12345 13 2 ABCD..." (TTL and class may be
	// left out).
	TrustAnchors []string
	// Stubs maps each zone to the authoritative server asked for it,
	// "127.0.0.1@PORT" or "127.0.0.1:PORT".
	Stubs map[string]string
	// Insecure zones are treated as unsigned whatever their parent's DS
	// says (domain-insecure); a trust anchor for the zone itself wins.
	Insecure []string
	// AuthZones maps each zone unbound serves itself to its RFC 1035
	// zone file (auth-zone, for its own lookups only): a world of other
	// people's domains without a server for each.
	AuthZones map[string]string
}

// StartUnbound starts unbound for the test, waits until it answers, and
// stops it at cleanup, logging the tail of its log when the test failed.
// A machine without unbound skips the test, unless MXDNS_REQUIRE_UNBOUND
// is set (CI sets it), when that is a failure.
func StartUnbound(t testing.TB, cfg UnboundConfig) *Unbound {
	t.Helper()
	bin := unboundBinary(t, "unbound")
	dir := t.TempDir()
	conf, err := cfg.settings(dir, filepath.Join(SocketDir(t, dir), "control.sock"))
	if err != nil {
		t.Fatal(err)
	}
	// The port was free a moment ago; another process may take it first,
	// and then unbound exits (so-reuseport is off: it cannot share).
	for try := 1; ; try++ {
		port, err := FreePort()
		if err != nil {
			t.Fatal(err)
		}
		u := &Unbound{Addr: fmt.Sprintf("127.0.0.1:%d", port), conf: filepath.Join(dir, "unbound.conf"), dir: dir}
		err = u.start(t, bin, conf, port)
		if err == nil {
			return u
		}
		if !errors.Is(err, ErrBind) || try == 5 {
			t.Fatal(err)
		}
	}
}

// unboundBinary finds name (unbound or unbound-control), also in /usr/sbin
// when PATH lacks it, or skips or fails the test.
func unboundBinary(t testing.TB, name string) string {
	t.Helper()
	if bin, err := exec.LookPath(name); err == nil {
		return bin
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/local/sbin"} {
		if bin := filepath.Join(dir, name); isExecutable(bin) {
			return bin
		}
	}
	if os.Getenv("MXDNS_REQUIRE_UNBOUND") != "" {
		t.Fatalf("%s is not installed (apt-get install unbound), and MXDNS_REQUIRE_UNBOUND is set", name)
	}
	t.Skipf("%s is not installed (apt-get install unbound)", name)
	return ""
}

func isExecutable(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0
}

// start runs unbound once on u.Addr and waits until this very process
// answers: its identity, random per start, is asked for.
func (u *Unbound) start(t testing.TB, bin string, s *unboundSettings, port int) error {
	t.Helper()
	id := make([]byte, 8)
	rand.Read(id)
	identity := "harness-" + hex.EncodeToString(id)
	if err := os.WriteFile(u.conf, []byte(s.text(port, identity)), 0o644); err != nil {
		return err
	}
	logPath := filepath.Join(u.dir, "unbound.log")
	os.Remove(logPath) // a failed try's log would say "already in use" again
	out, err := os.Create(filepath.Join(u.dir, "unbound.out"))
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, "-d", "-c", u.conf)
	cmd.Dir = u.dir
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = ChildAttr()
	if err := cmd.Start(); err != nil {
		out.Close()
		return fmt.Errorf("start unbound: %w", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	exited := func() bool {
		select {
		case <-done:
			return true
		default:
			return false
		}
	}
	logs := func() string {
		var b strings.Builder
		for _, f := range []string{"unbound.out", "unbound.log"} {
			if text, err := os.ReadFile(filepath.Join(u.dir, f)); err == nil && len(text) > 0 {
				fmt.Fprintf(&b, "%s:\n%s\n", f, tail(string(text), 60))
			}
		}
		return b.String()
	}
	stop := func() {
		if !exited() {
			cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				<-done
			}
		}
		out.Close()
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	up := Wait(ctx, func() bool { return exited() || u.identity() == identity })
	switch {
	case exited():
		stop()
		text := logs()
		if strings.Contains(text, "already in use") {
			return fmt.Errorf("unbound on %s: %w", u.Addr, ErrBind)
		}
		return fmt.Errorf("unbound exited at start:\n%s", text)
	case !up:
		stop()
		return fmt.Errorf("unbound did not answer on %s within 30 s:\n%s", u.Addr, logs())
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("unbound on %s, config %s\n%s", u.Addr, u.conf, logs())
		}
	})
	return nil
}

// identity is the resolver's answer to id.server CH TXT, or "".
func (u *Unbound) identity() string {
	m := new(dns.Msg)
	m.SetQuestion("id.server.", dns.TypeTXT)
	m.Question[0].Qclass = dns.ClassCHAOS
	c := &dns.Client{Timeout: time.Second}
	r, _, err := c.Exchange(m, u.Addr)
	if err != nil || len(r.Answer) == 0 {
		return ""
	}
	if txt, ok := r.Answer[0].(*dns.TXT); ok {
		return strings.Join(txt.Txt, "")
	}
	return ""
}

// unboundSettings is an UnboundConfig checked and put in unbound's terms.
type unboundSettings struct {
	dir      string
	control  string   // unix socket of unbound-control
	anchors  []string // one line each, normalised
	zones    []string // stub zones, sorted, fully qualified
	addrs    map[string]string
	insecure []string
	ip6      bool
	auth     []string          // auth zones, sorted, fully qualified
	files    map[string]string // auth zone → its file
}

// SocketDir is dir, or when dir is too long to hold a unix socket (its
// path must fit in 108 bytes) a short directory removed at cleanup.
func SocketDir(t testing.TB, dir string) string {
	t.Helper()
	if len(dir) < 80 {
		return dir
	}
	short, err := os.MkdirTemp("", "sock")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(short) })
	return short
}

// settings checks cfg: every anchor must parse as a DS or DNSKEY, every
// stub address as an IP and port. control is unbound-control's socket.
func (cfg UnboundConfig) settings(dir, control string) (*unboundSettings, error) {
	s := &unboundSettings{dir: dir, control: control, addrs: map[string]string{}}
	for _, a := range cfg.TrustAnchors {
		rr, err := dns.NewRR(a)
		if err != nil || rr == nil {
			return nil, fmt.Errorf("unbound trust anchor %q: %v", a, err)
		}
		switch rr := rr.(type) {
		case *dns.DS:
			if _, err := hex.DecodeString(rr.Digest); err != nil || rr.Digest == "" {
				return nil, fmt.Errorf("unbound trust anchor %q: no digest", a)
			}
		case *dns.DNSKEY:
			if rr.PublicKey == "" {
				return nil, fmt.Errorf("unbound trust anchor %q: no key", a)
			}
		default:
			return nil, fmt.Errorf("unbound trust anchor %q: a %s, want DS or DNSKEY", a, dns.TypeToString[rr.Header().Rrtype])
		}
		s.anchors = append(s.anchors, strings.Join(strings.Fields(rr.String()), " "))
	}
	for zone, addr := range cfg.Stubs {
		ap, err := stubAddr(addr)
		if err != nil {
			return nil, fmt.Errorf("unbound stub %s: %v", zone, err)
		}
		z := dns.CanonicalName(zone)
		s.zones = append(s.zones, z)
		s.addrs[z] = fmt.Sprintf("%s@%d", ap.Addr(), ap.Port())
		s.ip6 = s.ip6 || ap.Addr().Is6()
	}
	slices.Sort(s.zones)
	for _, z := range cfg.Insecure {
		s.insecure = append(s.insecure, dns.CanonicalName(z))
	}
	s.files = map[string]string{}
	for zone, file := range cfg.AuthZones {
		abs, err := filepath.Abs(file)
		if err != nil {
			return nil, fmt.Errorf("unbound auth zone %s: %v", zone, err)
		}
		if _, err := os.Stat(abs); err != nil {
			return nil, fmt.Errorf("unbound auth zone %s: %v", zone, err)
		}
		z := dns.CanonicalName(zone)
		s.auth = append(s.auth, z)
		s.files[z] = abs
	}
	slices.Sort(s.auth)
	return s, nil
}

// stubAddr reads "IP@PORT", "IP:PORT" or "[IP]:PORT".
func stubAddr(addr string) (netip.AddrPort, error) {
	host, port, ok := strings.Cut(addr, "@")
	if !ok {
		var err error
		if host, port, err = net.SplitHostPort(addr); err != nil {
			return netip.AddrPort{}, fmt.Errorf("address %q: want IP@PORT or IP:PORT", addr)
		}
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("address %q: %v", addr, err)
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil || p == 0 {
		return netip.AddrPort{}, fmt.Errorf("address %q: bad port", addr)
	}
	return netip.AddrPortFrom(ip.Unmap(), uint16(p)), nil
}

// unboundDefaultZones are the local zones unbound answers itself unless
// told otherwise (services/localzone.c and util/as112.c, 1.17 to 1.24):
// RFC 6761 and 6303 names and the AS112 reverse zones. Each is static:
// every name below it is NXDOMAIN, with no question sent anywhere.
var unboundDefaultZones = []string{
	"localhost.", "127.in-addr.arpa.",
	"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa.",
	"test.", "invalid.", "onion.", "home.arpa.", "resolver.arpa.", "service.arpa.",
	"10.in-addr.arpa.", "16.172.in-addr.arpa.", "17.172.in-addr.arpa.", "18.172.in-addr.arpa.",
	"19.172.in-addr.arpa.", "20.172.in-addr.arpa.", "21.172.in-addr.arpa.", "22.172.in-addr.arpa.",
	"23.172.in-addr.arpa.", "24.172.in-addr.arpa.", "25.172.in-addr.arpa.", "26.172.in-addr.arpa.",
	"27.172.in-addr.arpa.", "28.172.in-addr.arpa.", "29.172.in-addr.arpa.", "30.172.in-addr.arpa.",
	"31.172.in-addr.arpa.", "168.192.in-addr.arpa.", "0.in-addr.arpa.", "254.169.in-addr.arpa.",
	"2.0.192.in-addr.arpa.", "100.51.198.in-addr.arpa.", "113.0.203.in-addr.arpa.",
	"255.255.255.255.in-addr.arpa.",
	"0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa.",
	"d.f.ip6.arpa.", "8.e.f.ip6.arpa.", "9.e.f.ip6.arpa.", "a.e.f.ip6.arpa.", "b.e.f.ip6.arpa.",
	"8.b.d.0.1.0.0.2.ip6.arpa.",
	// 64.100.in-addr.arpa. to 127.100.in-addr.arpa. (RFC 6598) follow.
}

func init() {
	for i := 64; i <= 127; i++ {
		unboundDefaultZones = append(unboundDefaultZones, fmt.Sprintf("%d.100.in-addr.arpa.", i))
	}
}

// text is unbound.conf for a resolver on 127.0.0.1:port that answers
// id.server CH TXT with identity.
//
// Names: a refusing local zone at the root answers every question outside
// the stubs at once, and a transparent one at each stub lets its names
// through to the iterator. That transparent zone also outranks a default
// zone above the stub (test., 10.in-addr.arpa., d.f.ip6.arpa., ...), and
// a default zone of the stub's own name is not made at all when a local
// zone of that name exists; nodefault says the same explicitly, and is
// what lifts a default zone that lies below a stub.
//
// Traffic: outgoing-interface pins every upstream query to loopback, and
// target-fetch-policy 0 keeps unbound from looking up name server names
// it does not need: the stub addresses are all it asks.
func (s *unboundSettings) text(port int, identity string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `server:
	interface: 127.0.0.1
	port: %d
	so-reuseport: no
	outgoing-interface: 127.0.0.1
	do-ip4: yes
	do-ip6: %s
	do-not-query-localhost: no
	access-control: 127.0.0.0/8 allow
	module-config: "validator iterator"
	username: ""
	chroot: ""
	directory: %q
	pidfile: %q
	use-syslog: no
	logfile: %q
	log-time-ascii: yes
	verbosity: 1
	val-log-level: 2
	log-servfail: yes
	identity: %q
	hide-identity: no
	harden-dnssec-stripped: yes
	qname-minimisation: no
	target-fetch-policy: "0 0 0 0 0"
	aggressive-nsec: no
	prefetch: no
	prefetch-key: no
	serve-expired: no
	infra-keep-probing: yes
	num-threads: 1
`, port, yesNo(s.ip6), s.dir, filepath.Join(s.dir, "unbound.pid"), filepath.Join(s.dir, "unbound.log"), identity)
	if s.ip6 {
		b.WriteString("\toutgoing-interface: ::1\n")
	}
	for _, a := range s.anchors {
		fmt.Fprintf(&b, "\ttrust-anchor: %q\n", a)
	}
	for _, z := range s.insecure {
		fmt.Fprintf(&b, "\tdomain-insecure: %q\n", z)
	}
	b.WriteString("\tlocal-zone: \".\" refuse\n")
	served := slices.Concat(s.zones, s.auth)
	for _, z := range served {
		fmt.Fprintf(&b, "\tlocal-zone: %q transparent\n", z)
	}
	for _, d := range unboundDefaultZones {
		if slices.ContainsFunc(served, func(z string) bool { return dns.IsSubDomain(z, d) }) {
			fmt.Fprintf(&b, "\tlocal-zone: %q nodefault\n", d)
		}
	}
	fmt.Fprintf(&b, "remote-control:\n\tcontrol-enable: yes\n\tcontrol-interface: %q\n\tcontrol-use-cert: no\n", s.control)
	for _, z := range s.zones {
		fmt.Fprintf(&b, "stub-zone:\n\tname: %q\n\tstub-addr: %s\n", z, s.addrs[z])
	}
	for _, z := range s.auth {
		fmt.Fprintf(&b, "auth-zone:\n\tname: %q\n\tzonefile: %q\n\tfor-downstream: no\n\tfor-upstream: yes\n\tfallback-enabled: no\n", z, s.files[z])
	}
	return b.String()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// Query asks the resolver for name and qtype with recursion, DO and an
// EDNS buffer of 1232 bytes, over UDP, and over TCP when the reply is
// truncated or the datagram lost. A network error fails the test.
func (u *Unbound) Query(t testing.TB, name string, qtype uint16) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.RecursionDesired = true
	m.SetEdns0(1232, true)
	c := &dns.Client{Net: "udp", Timeout: 10 * time.Second}
	r, _, err := c.Exchange(m, u.Addr)
	var ne net.Error
	if err == nil && r.Truncated || err != nil && errors.As(err, &ne) && ne.Timeout() {
		c.Net = "tcp"
		r, _, err = c.Exchange(m, u.Addr)
	}
	if err != nil {
		t.Fatalf("unbound %s: %s %s: %v", u.Addr, name, dns.TypeToString[qtype], err)
	}
	return r
}

// Flush empties the resolver's caches of everything at and below zone
// (answers, keys and negative answers), of every bogus answer, and of
// what it knows about the servers, as the passing of every TTL would.
// It uses unbound-control over a unix socket in the test's directory.
func (u *Unbound) Flush(t testing.TB, zone string) {
	t.Helper()
	bin := unboundBinary(t, "unbound-control")
	for _, what := range [][]string{{"flush_zone", dns.Fqdn(zone)}, {"flush_bogus"}, {"flush_negative"}, {"flush_infra", "all"}} {
		out, err := exec.Command(bin, append([]string{"-c", u.conf}, what...)...).CombinedOutput()
		if err != nil || !strings.HasPrefix(string(out), "ok") {
			t.Fatalf("unbound-control %s: %v: %s", strings.Join(what, " "), err, out)
		}
	}
}

func tail(s string, lines int) string {
	parts := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(parts) > lines {
		parts = parts[len(parts)-lines:]
	}
	return strings.Join(parts, "\n")
}
