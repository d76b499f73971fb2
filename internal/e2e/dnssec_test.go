package e2e

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/internal/harness"
)

// signedSite is config.yaml for a signed mail domain with two links, wan1
// health-checked against check, and its reverse zone filled by auto PTR.
func signedSite(check, denial string) func(port, admin int) string {
	return func(port, admin int) string {
		return fmt.Sprintf(`listen: ["127.0.0.1:%d"]
admin: "127.0.0.1:%d"
rrl: off
dnssec: {denial: `+denial+`}
links:
  wan1: {check: {tcp: %q, interval: 1s, timeout: 1s, rise: 1, fall: 1}}
  wan2:
zones:
  example.test:
    ns: [ns1]
    records:
      "@": {mx: ["10;mx1", "20;mx2"], txt: "v=spf1 mx -all"}
      mx1: {a: {wan1: 203.0.113.25}}
      mx2: {a: {wan2: 203.0.113.26}}
      smtp: {a: {wan1: 203.0.113.30, wan2: 203.0.113.31}}
      ns1: {a: 203.0.113.53}
      www: {a: 203.0.113.80, aaaa: "2001:db8::80"}
      deep.below.empty: {txt: "an empty non-terminal above"}
      "*.wild": {txt: "from the wildcard"}
      _25._tcp.mx1: {tlsa: "3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}
      _submission._tcp: {srv: "0 1 587 mx1"}
  203.0.113.0/24:
    ns: [ns1.example.test.]
`, port, admin, check)
	}
}

// TestDNSSECValidatesInUnbound: a real validating resolver, trusting only
// the DS that mxdns dnssec ds prints, returns AD=1 and the right data for
// every type mail needs, a wildcard, NODATA and NXDOMAIN, in a signed
// forward zone and its automatic reverse zone, and for a link-dependent A
// and MX before and after a link fails; with NSEC and with NSEC3 denial.
func TestDNSSECValidatesInUnbound(t *testing.T) {
	for _, denial := range []string{"nsec", "nsec3"} {
		t.Run(denial, func(t *testing.T) { validatesInUnbound(t, denial) })
	}
}

func validatesInUnbound(t *testing.T, denial string) {
	target, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	go func() {
		for {
			c, err := target.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	dir := t.TempDir()
	write := signedSite(target.Addr().String(), denial)
	srv, err := harness.Start(harness.Options{Bin: bin, Dir: dir, Args: []string{"serve", "-config", "config.yaml", "-state-dir", "state"},
		MemLimit: memLimit,
		WriteConfig: func(port, admin int) error {
			return os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(write(port, admin)), 0o644)
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()

	var anchors []string
	for _, z := range []string{"example.test", "113.0.203.in-addr.arpa"} {
		cmd := exec.Command(bin, "dnssec", "ds", z, "-config", "config.yaml", "-state-dir", "state")
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("mxdns dnssec ds %s: %v: %s", z, err, out)
		}
		anchors = append(anchors, strings.TrimSpace(string(out)))
	}
	u := harness.StartUnbound(t, harness.UnboundConfig{TrustAnchors: anchors,
		Stubs: map[string]string{"example.test": srv.Addr(), "113.0.203.in-addr.arpa": srv.Addr()}})

	// The link is up once a probe has passed: then mx1 is published.
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	if !harness.Wait(ctx, func() bool { return mxHosts(direct(t, srv, "example.test.", dns.TypeMX)) == "mx1,mx2" }) {
		t.Fatalf("wan1 never came up: %s", srv.Log())
	}

	for _, tc := range []struct {
		name  string
		qtype uint16
		rcode int
		want  string // in the answer section's text; "" for none
	}{
		{"example.test", dns.TypeMX, dns.RcodeSuccess, "10 mx1.example.test."},
		{"mx1.example.test", dns.TypeA, dns.RcodeSuccess, "203.0.113.25"},
		{"smtp.example.test", dns.TypeA, dns.RcodeSuccess, "203.0.113.30"},
		{"www.example.test", dns.TypeAAAA, dns.RcodeSuccess, "2001:db8::80"},
		{"example.test", dns.TypeTXT, dns.RcodeSuccess, "v=spf1 mx -all"},
		{"_submission._tcp.example.test", dns.TypeSRV, dns.RcodeSuccess, "587 mx1.example.test."},
		{"_25._tcp.mx1.example.test", dns.TypeTLSA, dns.RcodeSuccess, "3 1 1 0123456789"},
		{"25.113.0.203.in-addr.arpa", dns.TypePTR, dns.RcodeSuccess, "mx1.example.test."},
		{"anything.wild.example.test", dns.TypeTXT, dns.RcodeSuccess, "from the wildcard"},
		{"anything.wild.example.test", dns.TypeA, dns.RcodeSuccess, ""},
		{"www.example.test", dns.TypeMX, dns.RcodeSuccess, ""},
		{"nope.example.test", dns.TypeA, dns.RcodeNameError, ""},
		{"a.b.nope.example.test", dns.TypeA, dns.RcodeNameError, ""},
		{"below.empty.example.test", dns.TypeA, dns.RcodeSuccess, ""},
		{"deep.below.empty.example.test", dns.TypeTXT, dns.RcodeSuccess, "an empty non-terminal above"},
		{"7.113.0.203.in-addr.arpa", dns.TypePTR, dns.RcodeNameError, ""},
	} {
		validated(t, u, tc.name, tc.qtype, tc.rcode, tc.want)
	}

	// wan1 goes down: mx1 is withdrawn and smtp answers with wan2's
	// address alone; both answers still validate (the resolver's cache emptied,
	// as the link TTL's passing would).
	target.Close()
	if !harness.Wait(ctx, func() bool { return mxHosts(direct(t, srv, "example.test.", dns.TypeMX)) == "mx2" }) {
		t.Fatalf("mx1 was not withdrawn after wan1 went down: %s", srv.Log())
	}
	u.Flush(t, "example.test")
	validated(t, u, "example.test", dns.TypeMX, dns.RcodeSuccess, "20 mx2.example.test.")
	if r := u.Query(t, "example.test", dns.TypeMX); mxHosts(r) != "mx2" {
		t.Errorf("after wan1 went down unbound gives MX %s, want mx2 alone", mxHosts(r))
	}
	validated(t, u, "smtp.example.test", dns.TypeA, dns.RcodeSuccess, "203.0.113.31")
	if r := u.Query(t, "smtp.example.test", dns.TypeA); strings.Contains(r.String(), "203.0.113.30") {
		t.Errorf("after wan1 went down unbound still gives wan1's address:\n%s", r)
	}
}

// validated asks unbound and checks the rcode, AD and the answer.
func validated(t *testing.T, u *harness.Unbound, name string, qtype uint16, rcode int, want string) {
	t.Helper()
	r := u.Query(t, name, qtype)
	what := name + " " + dns.TypeToString[qtype]
	if r.Rcode != rcode || !r.AuthenticatedData {
		t.Errorf("%s: %s AD=%v, want %s AD=1:\n%s", what, dns.RcodeToString[r.Rcode], r.AuthenticatedData, dns.RcodeToString[rcode], r)
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

// direct asks mxdns itself.
func direct(t *testing.T, srv *harness.Server, name string, qtype uint16) *dns.Msg {
	r, err := srv.Query(name, qtype)
	if err != nil {
		return nil
	}
	return r
}

// mxHosts lists the first labels of the MX targets, sorted.
func mxHosts(r *dns.Msg) string {
	if r == nil {
		return ""
	}
	var hosts []string
	for _, rr := range r.Answer {
		if mx, ok := rr.(*dns.MX); ok {
			hosts = append(hosts, strings.SplitN(mx.Mx, ".", 2)[0])
		}
	}
	slices.Sort(hosts)
	return strings.Join(hosts, ",")
}
