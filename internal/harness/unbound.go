package harness

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// Unbound is a validating resolver for a test: Debian's unbound, run in
// the foreground, trusting only the anchors it was given and asking only
// the stub servers it was given.
type Unbound struct {
	Addr string
	conf string
	dir  string
}

// UnboundConfig says what an Unbound trusts and whom it asks.
type UnboundConfig struct {
	// TrustAnchors are DS or DNSKEY records in presentation form.
	TrustAnchors []string
	// Stubs maps each zone to the authoritative server asked for it,
	// as host:port.
	Stubs map[string]string
}

// StartUnbound starts unbound for the test and stops it at cleanup. A
// machine without unbound skips the test, unless MXDNS_REQUIRE_UNBOUND is
// set (CI sets it), when that is a failure.
func StartUnbound(t testing.TB, cfg UnboundConfig) *Unbound {
	t.Helper()
	bin, err := exec.LookPath("unbound")
	if err != nil {
		for _, p := range []string{"/usr/sbin/unbound", "/sbin/unbound"} {
			if _, serr := os.Stat(p); serr == nil {
				bin, err = p, nil
			}
		}
	}
	if err != nil {
		if os.Getenv("MXDNS_REQUIRE_UNBOUND") != "" {
			t.Fatal("unbound is not installed (apt-get install unbound)")
		}
		t.Skip("unbound is not installed")
	}
	dir := t.TempDir()
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	u := &Unbound{Addr: fmt.Sprintf("127.0.0.1:%d", port), conf: filepath.Join(dir, "unbound.conf"), dir: dir}
	if err := os.WriteFile(u.conf, []byte(unboundConf(dir, port, cfg)), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-d", "-c", u.conf)
	cmd.Dir = dir
	out, err := os.Create(filepath.Join(dir, "unbound.out"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		out.Close()
		if t.Failed() {
			for _, f := range []string{"unbound.out", "unbound.log"} {
				if b, err := os.ReadFile(filepath.Join(dir, f)); err == nil {
					t.Logf("%s:\n%s", f, tail(string(b), 60))
				}
			}
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	up := Wait(ctx, func() bool {
		select {
		case <-done:
			return true
		default:
		}
		_, err := Exchange(u.Addr, ".", dns.TypeNS, false, time.Second)
		return err == nil
	})
	select {
	case <-done:
		b, _ := os.ReadFile(filepath.Join(dir, "unbound.out"))
		t.Fatalf("unbound exited: %s", b)
	default:
	}
	if !up {
		t.Fatal("unbound did not answer within 30 s")
	}
	return u
}

// unboundConf validates with the anchors given, asks the stubs, and lets
// the names test. and the documentation and private reverse zones through
// (unbound answers those itself by default, RFC 6761 and RFC 6303).
func unboundConf(dir string, port int, cfg UnboundConfig) string {
	var b strings.Builder
	fmt.Fprintf(&b, `server:
	interface: 127.0.0.1
	port: %d
	do-ip6: no
	do-not-query-localhost: no
	module-config: "validator iterator"
	username: ""
	chroot: ""
	directory: %q
	pidfile: %q
	use-syslog: no
	logfile: %q
	verbosity: 1
	val-log-level: 2
	log-servfail: yes
	harden-dnssec-stripped: yes
	qname-minimisation: no
	aggressive-nsec: no
	prefetch: no
	serve-expired: no
`, port, dir, filepath.Join(dir, "unbound.pid"), filepath.Join(dir, "unbound.log"))
	for _, a := range cfg.TrustAnchors {
		fmt.Fprintf(&b, "\ttrust-anchor: %q\n", strings.Join(strings.Fields(a), " "))
	}
	for zone := range cfg.Stubs {
		fmt.Fprintf(&b, "\tlocal-zone: %q nodefault\n", dns.Fqdn(zone))
	}
	b.WriteString("\tlocal-zone: \"test.\" nodefault\n")
	fmt.Fprintf(&b, "remote-control:\n\tcontrol-enable: yes\n\tcontrol-interface: %q\n\tcontrol-use-cert: no\n", filepath.Join(dir, "control.sock"))
	for zone, addr := range cfg.Stubs {
		host, port, _ := strings.Cut(addr, ":")
		fmt.Fprintf(&b, "stub-zone:\n\tname: %q\n\tstub-addr: %s@%s\n", dns.Fqdn(zone), host, port)
	}
	return b.String()
}

// Query asks the resolver with recursion and DO, over UDP, and over TCP
// when the reply is truncated.
func (u *Unbound) Query(t testing.TB, name string, qtype uint16) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.SetEdns0(1232, true)
	c := &dns.Client{Timeout: 10 * time.Second}
	r, _, err := c.Exchange(m, u.Addr)
	if err == nil && r.Truncated {
		c.Net = "tcp"
		r, _, err = c.Exchange(m, u.Addr)
	}
	if err != nil {
		t.Fatalf("unbound: %s %s: %v", name, dns.TypeToString[qtype], err)
	}
	return r
}

// Flush empties the resolver's caches of everything at and below zone,
// as the passing of every TTL would.
func (u *Unbound) Flush(t testing.TB, zone string) {
	t.Helper()
	bin, err := exec.LookPath("unbound-control")
	if err != nil {
		bin = "/usr/sbin/unbound-control"
	}
	for _, what := range [][]string{{"flush_zone", dns.Fqdn(zone)}, {"flush_bogus"}, {"flush_negative"}} {
		out, err := exec.Command(bin, append([]string{"-c", u.conf}, what...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("unbound-control %s: %v: %s", what[0], err, out)
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
