package route

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/mxdns/mxdns/server"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata")

// mailConfig is served with wan2 in the state the test names.
const mailConfig = `listen: ["127.0.0.1:0"]
links:
  wan1: {state: up}
  wan2: {state: WAN2}
zones:
  example.com:
    ns: [ns1]
    records:
      "@":
        mx: ["10;mx1", "10;mx2", "20;backup"]
        spf: "mx -all"
      mx1: {a: {wan1: 192.0.2.25, wan2: 198.51.100.25}}
      mx2: {a: 203.0.113.26, aaaa: "2001:db8::26"}
      backup: {a: {wan2: 198.51.100.30}}
      nomail: {null_mx: true, spf: "-all"}
      web: {a: 192.0.2.80}
      alias: {cname: "@"}
      ns1: {a: 192.0.2.1}
  192.0.2.0/24:
    ns: [ns1.example.com.]
  198.51.100.0/24:
    ns: [ns1.example.com.]
  203.0.113.0/24:
    ns: [ns1.example.com.]
    auto_ptr: false
`

var domains = []string{"example.com", "alias.example.com", "nomail.example.com", "web.example.com", "nope.example.com"}

func startServer(t *testing.T, config string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := server.New(server.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), ConfigPath: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return s.Addrs()[0].UDP.String()
}

// TestRouteGolden asks a real mxdns server, with the second link up and
// down, and compares the plans (text and JSON) with testdata.
func TestRouteGolden(t *testing.T) {
	for _, state := range []string{"up", "down"} {
		t.Run("wan2_"+state, func(t *testing.T) {
			addr := startServer(t, strings.Replace(mailConfig, "WAN2", state, 1))
			ex := Client(addr, 10*time.Second)
			var b bytes.Buffer
			for _, d := range domains {
				p, err := Resolve(context.Background(), ex, d)
				if err != nil {
					t.Fatalf("%s: %v", d, err)
				}
				b.WriteString("$ mxdns route " + d + "\n")
				if err := WriteText(&b, p); err != nil {
					t.Fatal(err)
				}
				b.WriteString("\n")
			}
			p, err := Resolve(context.Background(), ex, "example.com")
			if err != nil {
				t.Fatal(err)
			}
			b.WriteString("$ mxdns route example.com -json\n")
			enc := json.NewEncoder(&b)
			enc.SetIndent("", "  ")
			if err := enc.Encode(p); err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata", "wan2_"+state+".golden"), b.String())
		})
	}
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./route -update)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s:\n got:\n%s\nwant:\n%s", path, got, want)
	}
}

// fakeServer answers from a list of records the way an authoritative
// server that does not check its data would: CNAMEs chased within the
// data, NXDOMAIN for names it does not have.
func fakeServer(records ...string) Exchange {
	var rrs []dns.RR
	for _, s := range records {
		rr, err := dns.NewRR(s)
		if err != nil {
			panic(err)
		}
		rrs = append(rrs, rr)
	}
	return func(_ context.Context, q *dns.Msg) (*dns.Msg, error) {
		r := new(dns.Msg)
		r.SetReply(q)
		name, qtype := dns.CanonicalName(q.Question[0].Name), q.Question[0].Qtype
		if dns.IsSubDomain("other.test.", name) {
			r.Rcode = dns.RcodeRefused // a zone this server does not serve
			return r, nil
		}
		for range 8 {
			exists, next := false, ""
			for _, rr := range rrs {
				if dns.CanonicalName(rr.Header().Name) != name {
					continue
				}
				exists = true
				switch {
				case rr.Header().Rrtype == qtype:
					r.Answer = append(r.Answer, rr)
				case rr.Header().Rrtype == dns.TypeCNAME:
					r.Answer = append(r.Answer, rr)
					next = dns.CanonicalName(rr.(*dns.CNAME).Target)
				}
			}
			if !exists && len(r.Answer) == 0 {
				r.Rcode = dns.RcodeNameError
			}
			if next == "" {
				break
			}
			name = next
		}
		return r, nil
	}
}

func TestRouteWarnings(t *testing.T) {
	tests := []struct {
		name    string
		records []string
		status  Status
		warn    []string
	}{
		{name: "mx target is a CNAME", status: StatusMX, records: []string{
			"d.test. MX 10 mail.d.test.", "mail.d.test. CNAME host.d.test.", "host.d.test. A 192.0.2.1",
			"1.2.0.192.in-addr.arpa. PTR host.d.test.",
		}, warn: []string{"MX target mail.d.test is a CNAME (to host.d.test)"}},
		{name: "mx target without address", status: StatusMX, records: []string{
			"d.test. MX 10 mail.d.test.", "mail.d.test. TXT x",
		}, warn: []string{"MX target mail.d.test has no address", "no MX host of d.test has an address"}},
		{name: "mx target missing", status: StatusMX, records: []string{"d.test. MX 10 gone.d.test."},
			warn: []string{"MX target gone.d.test does not exist", "no MX host"}},
		{name: "no ptr and ptr not confirmed", status: StatusMX, records: []string{
			"d.test. MX 10 a.d.test.", "d.test. MX 10 b.d.test.", "a.d.test. A 192.0.2.1", "b.d.test. AAAA 2001:db8::2",
			"2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa. PTR other.d.test.",
		}, warn: []string{"192.0.2.1 (a.d.test) has no PTR", "2001:db8::2 (b.d.test): PTR other.d.test does not resolve back"}},
		{name: "null mx mixed", status: StatusMX, records: []string{
			"d.test. MX 0 .", "d.test. MX 10 a.d.test.", "a.d.test. A 192.0.2.1", "1.2.0.192.in-addr.arpa. PTR a.d.test.",
		}, warn: []string{"null MX next to other MX"}},
		{name: "backup in a zone the server does not serve", status: StatusMX, records: []string{
			"d.test. MX 10 a.d.test.", "d.test. MX 20 mx.other.test.", "a.d.test. A 192.0.2.1", "1.2.0.192.in-addr.arpa. PTR a.d.test.",
		}, warn: []string{"this server does not answer for mx.other.test (REFUSED)"}},
		{name: "null mx", status: StatusNullMX, records: []string{"d.test. MX 0 ."}},
		{name: "no route", status: StatusNoRoute, records: []string{"d.test. TXT x"}},
		{name: "implicit mx through a CNAME", status: StatusImplicit, records: []string{
			"d.test. CNAME e.test.", "e.test. A 192.0.2.1", "1.2.0.192.in-addr.arpa. PTR e.test.",
		}},
		{name: "ip literal", status: StatusMX, records: []string{"d.test. MX 10 192.0.2.1."},
			warn: []string{"MX 192.0.2.1 of d.test is an IP address"}},
		// Records without data, as in a dynamic update, reach the client as
		// an A or AAAA with no address; they are none of the host's.
		{name: "address records without data", status: StatusMX, records: []string{
			"d.test. MX 10 a.d.test.", "d.test. MX 20 b.d.test.", "a.d.test. A", "b.d.test. AAAA",
		}, warn: []string{"MX target a.d.test has no address", "MX target b.d.test has no address", "no MX host"}},
		{name: "ptr names a host whose address has no data", status: StatusMX, records: []string{
			"d.test. MX 10 a.d.test.", "a.d.test. A 192.0.2.1", "1.2.0.192.in-addr.arpa. PTR b.d.test.", "b.d.test. A",
		}, warn: []string{"192.0.2.1 (a.d.test): PTR b.d.test does not resolve back"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Resolve(context.Background(), fakeServer(tc.records...), "d.test")
			if err != nil {
				t.Fatal(err)
			}
			if p.Status != tc.status {
				t.Errorf("status %s, want %s", p.Status, tc.status)
			}
			all := strings.Join(p.Warnings, "\n")
			for _, w := range tc.warn {
				if !strings.Contains(all, w) {
					t.Errorf("warnings %q lack %q", p.Warnings, w)
				}
			}
			if len(tc.warn) == 0 && len(p.Warnings) > 0 {
				t.Errorf("unexpected warnings %q", p.Warnings)
			}
		})
	}
}

// A PTR may name a CNAME into another zone, which an authoritative server
// leaves the client to follow: forward-confirmed reverse DNS follows it as
// receivers' resolvers do, rather than warning that it fails.
func TestConfirmFollowsCNAME(t *testing.T) {
	addr := startServer(t, `listen: ["127.0.0.1:0"]
zones:
  example.com:
    ns: [ns1]
    records:
      "@": {mx: "10;mx1"}
      mx1: {a: 192.0.2.25}
      alias: {cname: mail.example.net.}
      ns1: {a: 192.0.2.1}
  example.net:
    ns: [ns1.example.com.]
    records:
      mail: {a: 192.0.2.25}
  192.0.2.0/24:
    ns: [ns1.example.com.]
    auto_ptr: false
    records:
      "25": {ptr: alias.example.com.}
`)
	p, err := Resolve(context.Background(), Client(addr, 10*time.Second), "example.com")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Warnings) > 0 {
		t.Errorf("warnings %q, want none", p.Warnings)
	}
}

// TestPTRBehindACNAME: an MX host's address whose PTR a classless reverse
// delegation (RFC 2317) puts behind a CNAME into another zone has that
// PTR: the server stops at the CNAME, and the target is asked for.
func TestPTRBehindACNAME(t *testing.T) {
	addr := startServer(t, `listen: ["127.0.0.1:0"]
zones:
  example.com:
    ns: [ns1]
    records:
      "@": {mx: "10;mx1"}
      mx1: {a: 192.0.2.25}
      ns1: {a: 192.0.2.1}
  192.0.2.0/24:
    ns: [ns1.example.com.]
    auto_ptr: false
    records:
      "25": {cname: 25.0-63.2.0.192.in-addr.arpa.}
      "0-63": {ns: [ns1.example.com.]}
  0-63.2.0.192.in-addr.arpa:
    ns: [ns1.example.com.]
    auto_ptr: false
    records:
      "25": {ptr: mx1.example.com.}
`)
	p, err := Resolve(context.Background(), Client(addr, 10*time.Second), "example.com")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Warnings) > 0 {
		t.Errorf("warnings %q, want none", p.Warnings)
	}
	if got := p.Groups[0].Hosts[0].Addresses[0].PTR; len(got) != 1 || got[0] != "mx1.example.com." {
		t.Errorf("PTR %v, want mx1.example.com.", got)
	}
}
