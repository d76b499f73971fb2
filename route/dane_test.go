package route

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/dnslookup"
	"github.com/mxdns/mxdns/internal/harness"
	"github.com/mxdns/mxdns/server"
	"github.com/mxdns/mxdns/state"
)

const daneConfig = `listen: ["LISTEN"]
zones:
  example.com:
    dnssec: on
    ns: [ns1]
    records:
      "@": {mx: ["10;mx1", "20;mx2", "30;mx.example.org."]}
      mx1: {a: 192.0.2.25}
      mx2: {a: 192.0.2.26}
      ns1: {a: 192.0.2.1}
      _25._tcp.mx1: {tlsa: "3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}
  example.org:
    ns: [ns1.example.com.]
    records:
      mx: {a: 198.51.100.25}
      _25._tcp.mx: {tlsa: "3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}
`

func startSigned(t *testing.T, listen string) string {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	os.WriteFile(path, []byte(strings.Replace(daneConfig, "LISTEN", listen, 1)), 0o644)
	keeper, err := state.Open(filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := server.New(server.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), ConfigPath: path, Keeper: keeper})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	return s.Addrs()[0].UDP.String()
}

func hostDANE(p *Plan, name string) *DANE {
	for _, g := range p.Groups {
		for _, h := range g.Hosts {
			if h.Name == name {
				return h.DANE
			}
		}
	}
	return nil
}

// Asked directly, an authoritative server's TLSA is checked against the
// zone's own keys: signed, unsigned or bogus; a host without TLSA has none.
func TestRouteDANE(t *testing.T) {
	addr := startSigned(t, "127.0.0.1:0")
	p, err := Resolve(context.Background(), Client(addr, 5*time.Second), "example.com")
	if err != nil {
		t.Fatal(err)
	}
	if d := hostDANE(p, "mx1.example.com."); d == nil || d.Status != "signed" || len(d.TLSA) != 1 {
		t.Errorf("mx1: %+v, want signed", d)
	}
	if d := hostDANE(p, "mx2.example.com."); d != nil {
		t.Errorf("mx2 publishes no TLSA, got %+v", d)
	}
	if d := hostDANE(p, "mx.example.org."); d == nil || d.Status != "unsigned" {
		t.Errorf("mx.example.org: %+v, want unsigned", d)
	}
	if !strings.Contains(strings.Join(p.Warnings, "\n"), "_25._tcp.mx.example.org is not signed") {
		t.Errorf("no warning for the unsigned TLSA: %v", p.Warnings)
	}

	// A signature changed on the way: bogus, with a warning.
	tamper := func(ctx context.Context, q *dns.Msg) (*dns.Msg, error) {
		r, err := Client(addr, 5*time.Second)(ctx, q)
		if err == nil && q.Question[0].Qtype == dns.TypeTLSA {
			for _, rr := range r.Answer {
				if sig, ok := rr.(*dns.RRSIG); ok {
					sig.Signature = "AAAA" + sig.Signature[4:]
				}
			}
		}
		return r, err
	}
	p, err = Resolve(context.Background(), tamper, "example.com")
	if err != nil {
		t.Fatal(err)
	}
	if d := hostDANE(p, "mx1.example.com."); d == nil || d.Status != "bogus" {
		t.Errorf("mx1 with a broken signature: %+v, want bogus", d)
	}
}

// Through a validating resolver the TLSA is validated: AD is set.
func TestRouteDANEThroughAValidator(t *testing.T) {
	port, err := harness.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := startSigned(t, fmt.Sprintf("127.0.0.1:%d", port))
	ds := dsOf(t, addr, "example.com.")
	u := harness.StartUnbound(t, harness.UnboundConfig{TrustAnchors: []string{ds}, Stubs: map[string]string{"example.com": addr, "example.org": addr}})
	p, err := Resolve(context.Background(), Client(u.Addr, 10*time.Second), "example.com")
	if err != nil {
		t.Fatal(err)
	}
	if d := hostDANE(p, "mx1.example.com."); d == nil || d.Status != "validated" {
		t.Errorf("mx1 through unbound: %+v, want validated", d)
	}
}

// dsOf is the DS of the zone's key-signing key, from its DNSKEY set.
func dsOf(t *testing.T, addr, zone string) string {
	t.Helper()
	r, err := Client(addr, 5*time.Second)(context.Background(), dnslookup.Query(zone, dns.TypeDNSKEY))
	if err != nil {
		t.Fatal(err)
	}
	for _, rr := range r.Answer {
		if k, ok := rr.(*dns.DNSKEY); ok && k.Flags&dns.SEP != 0 {
			return k.ToDS(dns.SHA256).String()
		}
	}
	t.Fatal("no key-signing key")
	return ""
}
