package harness

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// knotZones are served by Knot for the test. Every zone but lab is signed
// (ECDSA P-256, one combined key, NSEC). lab is an unsigned child whose
// parent publishes a DS that matches no key: to a validator it is bogus
// unless declared insecure. 1.0.10.in-addr.arpa. and 0.0.d.f.ip6.arpa.
// lie below zones unbound answers itself by default (AS112).
var knotZones = map[string]string{
	"example.test.": `$TTL 300
@	SOA	ns1 hostmaster 1 3600 600 86400 300
@	NS	ns1
@	MX	10 mx1
@	TXT	"v=spf1 mx -all"
ns1	A	203.0.113.53
mx1	A	203.0.113.25
mx1	AAAA	2001:db8::25
_submission._tcp	SRV	0 1 587 mx1
_25._tcp.mx1	TLSA	3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
*.wild	TXT	"from the wildcard"
lab	NS	ns1
lab	DS	4711 13 2 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
`,
	"lab.example.test.": `$TTL 300
@	SOA	ns1.example.test. hostmaster.example.test. 1 3600 600 86400 300
@	NS	ns1.example.test.
www	A	203.0.113.80
`,
	"113.0.203.in-addr.arpa.": `$TTL 300
@	SOA	ns1.example.test. hostmaster.example.test. 1 3600 600 86400 300
@	NS	ns1.example.test.
25	PTR	mx1.example.test.
`,
	"1.0.10.in-addr.arpa.": `$TTL 300
@	SOA	ns1.example.test. hostmaster.example.test. 1 3600 600 86400 300
@	NS	ns1.example.test.
25	PTR	mx1.example.test.
`,
	"0.0.d.f.ip6.arpa.": `$TTL 300
@	SOA	ns1.example.test. hostmaster.example.test. 1 3600 600 86400 300
@	NS	ns1.example.test.
5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0	PTR	mx1.example.test.
`,
}

// knotUnsigned are the zones Knot serves as they are.
var knotUnsigned = map[string]bool{"lab.example.test.": true}

// TestUnboundValidatesKnot proves the resolver side against a real
// signer: unbound, trusting only the DS that Knot's keymgr prints, sets
// AD on every type mail needs, a wildcard, NODATA and NXDOMAIN, in a
// forward zone and reverse zones (one below a private range that unbound
// would otherwise answer itself); a wrong digest in the anchor makes the
// zone bogus (SERVFAIL), and an Insecure zone below a bogus DS answers
// without AD where it would otherwise fail.
func TestUnboundValidatesKnot(t *testing.T) {
	k := startKnot(t, knotZones)
	var anchors []string
	for zone := range knotZones {
		if !knotUnsigned[zone] {
			anchors = append(anchors, k.ds(t, zone)...)
		}
	}
	stubs := map[string]string{}
	for zone := range knotZones {
		stubs[zone] = k.addr
	}

	t.Run("valid", func(t *testing.T) {
		u := StartUnbound(t, UnboundConfig{TrustAnchors: anchors, Stubs: stubs, Insecure: []string{"lab.example.test"}})
		for _, tc := range []struct {
			name  string
			qtype uint16
			rcode int
			want  string // in the answer's text; "" for none
		}{
			{"example.test", dns.TypeMX, dns.RcodeSuccess, "10 mx1.example.test."},
			{"mx1.example.test", dns.TypeA, dns.RcodeSuccess, "203.0.113.25"},
			{"mx1.example.test", dns.TypeAAAA, dns.RcodeSuccess, "2001:db8::25"},
			{"example.test", dns.TypeTXT, dns.RcodeSuccess, "v=spf1 mx -all"},
			{"_submission._tcp.example.test", dns.TypeSRV, dns.RcodeSuccess, "0 1 587 mx1.example.test."},
			{"_25._tcp.mx1.example.test", dns.TypeTLSA, dns.RcodeSuccess, "3 1 1 0123456789abcdef"},
			{"25.113.0.203.in-addr.arpa", dns.TypePTR, dns.RcodeSuccess, "mx1.example.test."},
			{"25.1.0.10.in-addr.arpa", dns.TypePTR, dns.RcodeSuccess, "mx1.example.test."},
			{reverse(t, "fd00::25"), dns.TypePTR, dns.RcodeSuccess, "mx1.example.test."},
			{"anything.wild.example.test", dns.TypeTXT, dns.RcodeSuccess, "from the wildcard"},
			{"anything.wild.example.test", dns.TypeA, dns.RcodeSuccess, ""},
			{"mx1.example.test", dns.TypeTXT, dns.RcodeSuccess, ""},
			{"nope.example.test", dns.TypeA, dns.RcodeNameError, ""},
			{"a.b.nope.example.test", dns.TypeMX, dns.RcodeNameError, ""},
			{"7.113.0.203.in-addr.arpa", dns.TypePTR, dns.RcodeNameError, ""},
			{"7.1.0.10.in-addr.arpa", dns.TypePTR, dns.RcodeNameError, ""},
		} {
			r := u.Query(t, tc.name, tc.qtype)
			checkAnswer(t, r, tc.name, tc.qtype, tc.rcode, true, tc.want)
		}
		// Declared insecure: answered, without AD.
		r := u.Query(t, "www.lab.example.test", dns.TypeA)
		checkAnswer(t, r, "www.lab.example.test", dns.TypeA, dns.RcodeSuccess, false, "203.0.113.80")
		// Outside every stub: refused at once, never sent anywhere.
		if r := u.Query(t, "example.org", dns.TypeA); r.Rcode != dns.RcodeRefused {
			t.Errorf("example.org A: %s, want REFUSED", dns.RcodeToString[r.Rcode])
		}
	})

	t.Run("wrong anchor", func(t *testing.T) {
		// Every digest for example.test. off by one bit: that zone is bogus,
		// the others, anchored rightly, still validate.
		var wrong []string
		for _, a := range anchors {
			rr, err := dns.NewRR(a)
			if err != nil {
				t.Fatal(err)
			}
			if ds := rr.(*dns.DS); ds.Hdr.Name == "example.test." {
				b, err := hex.DecodeString(ds.Digest)
				if err != nil {
					t.Fatal(err)
				}
				b[len(b)-1] ^= 1
				ds.Digest = strings.ToUpper(hex.EncodeToString(b))
			}
			wrong = append(wrong, rr.String())
		}
		u := StartUnbound(t, UnboundConfig{TrustAnchors: wrong, Stubs: stubs})
		for _, q := range []struct {
			name  string
			qtype uint16
		}{{"example.test", dns.TypeMX}, {"mx1.example.test", dns.TypeA}, {"nope.example.test", dns.TypeA}} {
			if r := u.Query(t, q.name, q.qtype); r.Rcode != dns.RcodeServerFailure || r.AuthenticatedData || len(r.Answer) > 0 {
				t.Errorf("%s %s with a wrong anchor: %s AD=%v, want SERVFAIL and no answer:\n%s",
					q.name, dns.TypeToString[q.qtype], dns.RcodeToString[r.Rcode], r.AuthenticatedData, r)
			}
		}
		r := u.Query(t, "25.113.0.203.in-addr.arpa", dns.TypePTR)
		checkAnswer(t, r, "25.113.0.203.in-addr.arpa", dns.TypePTR, dns.RcodeSuccess, true, "mx1.example.test.")
	})

	t.Run("not insecure", func(t *testing.T) {
		// The same stub, not declared insecure: its parent's DS matches no
		// key, so it is bogus.
		u := StartUnbound(t, UnboundConfig{TrustAnchors: anchors, Stubs: stubs})
		if r := u.Query(t, "www.lab.example.test", dns.TypeA); r.Rcode != dns.RcodeServerFailure {
			t.Errorf("www.lab.example.test A below a DS matching no key: %s, want SERVFAIL:\n%s", dns.RcodeToString[r.Rcode], r)
		}
	})
}

// TestUnboundFlush: after the authoritative data changes, the resolver
// keeps its cached answer until Flush, and then gives the new one,
// validated.
func TestUnboundFlush(t *testing.T) {
	zones := map[string]string{"example.test.": knotZones["example.test."]}
	k := startKnot(t, zones)
	u := StartUnbound(t, UnboundConfig{TrustAnchors: k.ds(t, "example.test."), Stubs: map[string]string{"example.test": k.addr}})
	r := u.Query(t, "example.test", dns.TypeMX)
	checkAnswer(t, r, "example.test", dns.TypeMX, dns.RcodeSuccess, true, "10 mx1.example.test.")

	// The MX changes at the source; Knot reloads and signs it anew.
	k.reload(t, "example.test.", strings.Replace(zones["example.test."], "@	MX	10 mx1", "@	MX	20 mx2", 1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if !Wait(ctx, func() bool {
		r, err := Exchange(k.addr, "example.test.", dns.TypeMX, false, time.Second)
		return err == nil && strings.Contains(r.String(), "20 mx2.example.test.")
	}) {
		t.Fatal("knotd did not serve the new MX within 30 s")
	}
	if r := u.Query(t, "example.test", dns.TypeMX); !strings.Contains(r.String(), "10 mx1.example.test.") {
		t.Fatalf("the resolver did not answer from its cache (test is moot):\n%s", r)
	}
	u.Flush(t, "example.test")
	r = u.Query(t, "example.test", dns.TypeMX)
	checkAnswer(t, r, "example.test", dns.TypeMX, dns.RcodeSuccess, true, "20 mx2.example.test.")
}

// TestUnboundConfig: the stub zones' local zones and addresses.
func TestUnboundConfig(t *testing.T) {
	s, err := UnboundConfig{
		TrustAnchors: []string{"example.test. DS 1 13 2 00ff"},
		Stubs: map[string]string{"example.test": "127.0.0.1@5300", "1.0.10.in-addr.arpa": "127.0.0.1:5301",
			"0.0.d.f.ip6.arpa.": "[::1]:5302", "in-addr.arpa": "127.0.0.1@5303"},
		Insecure: []string{"lab.example.test"},
	}.settings(t.TempDir(), "/control.sock")
	if err != nil {
		t.Fatal(err)
	}
	conf := s.text(53, "x")
	for _, want := range []string{
		`trust-anchor: "example.test. 3600 IN DS 1 13 2 00FF"`,
		`domain-insecure: "lab.example.test."`,
		`local-zone: "." refuse`,
		`local-zone: "example.test." transparent`,
		`local-zone: "1.0.10.in-addr.arpa." transparent`,
		"name: \"0.0.d.f.ip6.arpa.\"\n\tstub-addr: ::1@5302\n",
		"name: \"1.0.10.in-addr.arpa.\"\n\tstub-addr: 127.0.0.1@5301\n",
		"name: \"example.test.\"\n\tstub-addr: 127.0.0.1@5300\n",
		"do-ip6: yes", "outgoing-interface: ::1",
		// Default zones below a stub are lifted; above one they are not
		// needed (the stub's own local zone is closer).
		`local-zone: "10.in-addr.arpa." nodefault`,
		`local-zone: "113.0.203.in-addr.arpa." nodefault`,
		`local-zone: "64.100.in-addr.arpa." nodefault`,
	} {
		if !strings.Contains(conf, want) {
			t.Errorf("config lacks %q:\n%s", want, conf)
		}
	}
	for _, unwanted := range []string{`"test." nodefault`, `"d.f.ip6.arpa." nodefault`} {
		if strings.Contains(conf, unwanted) {
			t.Errorf("config has %q:\n%s", unwanted, conf)
		}
	}
	for _, bad := range []UnboundConfig{
		{TrustAnchors: []string{"example.test. A 192.0.2.1"}},
		{TrustAnchors: []string{"example.test. DS 1 13 2"}},
		{Stubs: map[string]string{"example.test": "localhost@53"}},
		{Stubs: map[string]string{"example.test": "127.0.0.1"}},
		{Stubs: map[string]string{"example.test": "127.0.0.1@0"}},
	} {
		if _, err := bad.settings(t.TempDir(), "/control.sock"); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
}

// checkAnswer checks the rcode, AD, and that the answer's records of
// qtype hold want (or that there are none, for want "").
func checkAnswer(t *testing.T, r *dns.Msg, name string, qtype uint16, rcode int, ad bool, want string) {
	t.Helper()
	what := name + " " + dns.TypeToString[qtype]
	if r.Rcode != rcode || r.AuthenticatedData != ad {
		t.Errorf("%s: %s AD=%v, want %s AD=%v:\n%s", what, dns.RcodeToString[r.Rcode], r.AuthenticatedData, dns.RcodeToString[rcode], ad, r)
		return
	}
	var answer []string
	for _, rr := range r.Answer {
		if rr.Header().Rrtype == qtype {
			answer = append(answer, rr.String())
		}
	}
	text := strings.Join(answer, "\n")
	if want == "" && len(answer) > 0 || want != "" && !strings.Contains(text, want) {
		t.Errorf("%s: answer %q, want %q", what, text, want)
	}
}

func reverse(t *testing.T, ip string) string {
	t.Helper()
	name, err := dns.ReverseAddr(ip)
	if err != nil {
		t.Fatal(err)
	}
	return name
}

// knot is a Knot DNS server signing zones for a test.
type knot struct {
	addr    string // host:port
	dir     string
	conf    string
	control string // knotc's socket
}

// knotBinary finds knotd or keymgr, or skips the test (fails it when
// MXDNS_REQUIRE_UNBOUND is set).
func knotBinary(t *testing.T, name string) string {
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
		t.Fatalf("%s is not installed (apt-get install knot), and MXDNS_REQUIRE_UNBOUND is set", name)
	}
	t.Skipf("%s is not installed (apt-get install knot)", name)
	return ""
}

// startKnot serves zones (name to zone file text) from knotd on a free
// loopback port, signing all but knotUnsigned with ECDSA P-256, a
// single combined key and NSEC, and returns once every zone answers its
// SOA, signed where it should be.
func startKnot(t *testing.T, zones map[string]string) *knot {
	t.Helper()
	bin := knotBinary(t, "knotd")
	knotBinary(t, "keymgr")
	unboundBinary(t, "unbound") // no use signing for a resolver that is not there
	dir := t.TempDir()
	for zone, text := range zones {
		if err := os.WriteFile(filepath.Join(dir, zone+"zone"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for try := 1; ; try++ {
		port, err := FreePort()
		if err != nil {
			t.Fatal(err)
		}
		k := &knot{addr: fmt.Sprintf("127.0.0.1:%d", port), dir: dir, conf: filepath.Join(dir, "knot.conf"),
			control: filepath.Join(SocketDir(t, dir), "knot.sock")}
		err = k.start(t, bin, port, zones)
		if err == nil {
			return k
		}
		if !errors.Is(err, ErrBind) || try == 5 {
			t.Fatal(err)
		}
	}
}

func (k *knot) start(t *testing.T, bin string, port int, zones map[string]string) error {
	id := make([]byte, 8)
	rand.Read(id)
	identity := "knot-" + hex.EncodeToString(id)
	var b strings.Builder
	fmt.Fprintf(&b, `server:
    rundir: %q
    listen: 127.0.0.1@%d
    identity: %q
control:
    listen: %q
log:
  - target: stderr
    any: info
database:
    storage: %q
policy:
  - id: p256
    algorithm: ecdsap256sha256
    single-type-signing: on
    nsec3: off
template:
  - id: default
    storage: %q
    file: "%%s.zone"
    zonefile-sync: -1
    zonefile-load: difference-no-serial
    journal-content: all
    semantic-checks: on
zone:
`, k.dir, port, identity, k.control, k.dir, k.dir)
	for zone := range zones {
		fmt.Fprintf(&b, "  - domain: %q\n", zone)
		if !knotUnsigned[zone] {
			b.WriteString("    dnssec-signing: on\n    dnssec-policy: p256\n")
		}
	}
	if err := os.WriteFile(k.conf, []byte(b.String()), 0o644); err != nil {
		return err
	}
	logPath := filepath.Join(k.dir, "knotd.log")
	out, err := os.Create(logPath)
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, "-c", k.conf)
	cmd.Dir = k.dir
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = ChildAttr()
	if err := cmd.Start(); err != nil {
		out.Close()
		return fmt.Errorf("start knotd: %w", err)
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
	log := func() string { b, _ := os.ReadFile(logPath); return tail(string(b), 60) }

	ready := func() bool {
		if exited() || strings.Contains(log(), "already in use") || chaosID(k.addr) != identity {
			return false
		}
		for zone := range zones {
			m := new(dns.Msg)
			m.SetQuestion(zone, dns.TypeSOA)
			m.SetEdns0(1232, true)
			c := &dns.Client{Timeout: time.Second}
			r, _, err := c.Exchange(m, k.addr)
			if err != nil || r.Rcode != dns.RcodeSuccess || len(r.Answer) == 0 {
				return false
			}
			if signed := r.Answer[len(r.Answer)-1].Header().Rrtype == dns.TypeRRSIG; signed == knotUnsigned[zone] {
				return false
			}
		}
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	up := Wait(ctx, func() bool { return exited() || strings.Contains(log(), "already in use") || ready() })
	if !up || !ready() {
		stop()
		if strings.Contains(log(), "already in use") {
			return fmt.Errorf("knotd on %s: %w", k.addr, ErrBind)
		}
		return fmt.Errorf("knotd did not serve every zone signed within 30 s (exited: %v):\n%s", exited(), log())
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("knotd on %s:\n%s", k.addr, log())
		}
	})
	return nil
}

// ds is what keymgr prints as the zone's DS records, each checked against
// a key-signing key that Knot serves.
func (k *knot) ds(t *testing.T, zone string) []string {
	t.Helper()
	out, err := exec.Command(knotBinary(t, "keymgr"), "-c", k.conf, zone, "ds").CombinedOutput()
	if err != nil {
		t.Fatalf("keymgr %s ds: %v: %s", zone, err, out)
	}
	m := new(dns.Msg)
	m.SetQuestion(zone, dns.TypeDNSKEY)
	r, err := dns.Exchange(m, k.addr)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for line := range strings.Lines(strings.TrimSpace(string(out))) {
		rr, err := dns.NewRR(line)
		ds, ok := rr.(*dns.DS)
		if err != nil || !ok {
			t.Fatalf("keymgr %s ds: %q is no DS record (%v)", zone, line, err)
		}
		served := false
		for _, rr := range r.Answer {
			if key, ok := rr.(*dns.DNSKEY); ok && key.Flags&dns.SEP != 0 {
				served = served || strings.EqualFold(key.ToDS(ds.DigestType).Digest, ds.Digest)
			}
		}
		if !served {
			t.Fatalf("keymgr's %s matches no key-signing key Knot serves:\n%s", ds, r)
		}
		lines = append(lines, ds.String())
	}
	if len(lines) == 0 {
		t.Fatalf("keymgr %s ds printed nothing", zone)
	}
	return lines
}

// reload replaces a zone's file and has Knot load it, whatever its
// modification time; Knot keeps the serials itself (difference-no-serial).
func (k *knot) reload(t *testing.T, zone, text string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(k.dir, zone+"zone"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(knotBinary(t, "knotc"), "-c", k.conf, "zone-reload", zone).CombinedOutput()
	if err != nil {
		t.Fatalf("knotc zone-reload %s: %v: %s", zone, err, out)
	}
}

// chaosID is a server's answer to id.server CH TXT, or "".
func chaosID(addr string) string {
	return (&Unbound{Addr: addr}).identity()
}

// TestUnboundAuthZones: unbound serves zone files itself, answers below
// them NXDOMAIN, and still refuses every other name.
func TestUnboundAuthZones(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "world.zone")
	zoneText := "$ORIGIN world.example.\n$TTL 300\n@ SOA ns h 1 3600 900 86400 300\n@ NS ns\nns A 127.0.0.1\n@ TXT \"v=spf1 +all\"\nalias CNAME @\n"
	if err := os.WriteFile(file, []byte(zoneText), 0o644); err != nil {
		t.Fatal(err)
	}
	u := StartUnbound(t, UnboundConfig{AuthZones: map[string]string{"world.example": file}})
	checkAnswer(t, u.Query(t, "world.example", dns.TypeTXT), "world.example", dns.TypeTXT, dns.RcodeSuccess, false, `"v=spf1 +all"`)
	checkAnswer(t, u.Query(t, "alias.world.example", dns.TypeTXT), "alias.world.example", dns.TypeTXT, dns.RcodeSuccess, false, `"v=spf1 +all"`)
	checkAnswer(t, u.Query(t, "nope.world.example", dns.TypeA), "nope.world.example", dns.TypeA, dns.RcodeNameError, false, "")
	checkAnswer(t, u.Query(t, "example.org", dns.TypeA), "example.org", dns.TypeA, dns.RcodeRefused, false, "")

	if _, err := (UnboundConfig{AuthZones: map[string]string{"x.example": filepath.Join(dir, "missing.zone")}}).settings(dir, "/control.sock"); err == nil {
		t.Error("an auth zone without its file: no error")
	}
}
