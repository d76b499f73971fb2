package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/internal/dnstest"
	"github.com/mxdns/mxdns/internal/harness"
)

// The fleet's view of link state (issue 17): the real binary, two links
// whose TCP checks the test answers or refuses, transfer_view: current
// and NOTIFY to a real Knot secondary. A link going down changes what
// Knot answers for the MX and the addresses within interval × fall + 5 s,
// and a recovery changes it back within interval × rise + 5 s: Knot
// refreshes only on NOTIFY here (its SOA refresh is an hour).
func TestFleetTransferView(t *testing.T) {
	harness.NeedKnot(t)
	const (
		interval = 500 * time.Millisecond
		fall     = 2
		rise     = 2
		slack    = 5 * time.Second
	)
	wan1, wan2 := dnstest.NewTCPTarget(t), dnstest.NewTCPTarget(t)
	// Knot secondaries live on 127.0.0.2, where no other test's servers
	// take ports.
	kport, err := harness.FreePortOn("127.0.0.2")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	config := func(port, admin, kport int) string {
		check := func(target string) string {
			return fmt.Sprintf("{tcp: %q, interval: %v, timeout: %v, rise: %d, fall: %d}", target, interval, interval, rise, fall)
		}
		return fmt.Sprintf(`listen: ["127.0.0.1:%d"]
admin: "127.0.0.1:%d"
rrl: off
link_ttl: 30
transfer_view: current
transfer: {allow: ["127.0.0.1"], notify: ["127.0.0.2:%d"]}
links:
  wan1: {check: %s}
  wan2: {check: %s}
zones:
  fleet.test:
    ttl: 3600
    ns: [ns1]
    soa: {refresh: 3600, retry: 3600}
    records:
      "@": {mx: ["10;mx1", "20;mx2"], txt: "v=spf1 mx -all"}
      mx1: {a: {wan1: 192.0.2.25}}
      mx2: {a: {wan2: 198.51.100.25}}
      www: {a: {wan1: 192.0.2.80, wan2: 198.51.100.80}}
      ns1: {a: 192.0.2.53}
`, port, admin, kport, check(wan1.Addr), check(wan2.Addr))
	}
	srv, err := harness.Start(harness.Options{Bin: bin, Dir: dir, Args: []string{"serve", "-config", "config.yaml", "-state-dir", "state"},
		WriteConfig: func(port, admin int) error {
			return os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(config(port, admin, kport)), 0o644)
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		srv.Stop()
		if t.Failed() {
			t.Logf("mxdns:\n%s", srv.Log())
		}
	})
	k := &fleetKnot{origin: "fleet.test.", KnotSecondary: harness.StartKnotSecondary(t, harness.KnotSecondaryOptions{
		Primary: srv.Addr(), Addr: fmt.Sprintf("127.0.0.2:%d", kport), Zones: []string{"fleet.test."},
	})}

	both := fleetAnswer{mx: []string{"30 10 mx1.fleet.test.", "30 20 mx2.fleet.test."}, www: []string{"30 192.0.2.80", "30 198.51.100.80"}}
	onlyWan2 := fleetAnswer{mx: []string{"30 20 mx2.fleet.test."}, www: []string{"30 198.51.100.80"}}
	first := k.await(t, srv, "both links up", both, deadline)

	t.Log("wan1 goes down")
	wan1.Down()
	second := k.await(t, srv, "wan1 down", onlyWan2, interval*fall+slack)
	if !harness.SerialAfter(second, first) {
		t.Errorf("wan1 down: serial %d, not after %d", second, first)
	}
	if got := fleetAnswerOf(t, k.Addr(), "fleet.test."); !slices.Equal(got.txt, []string{"3600 \"v=spf1 mx -all\""}) {
		t.Errorf("a record on no link, on Knot: %q", got.txt)
	}

	t.Log("wan1 comes back")
	wan1.Up()
	third := k.await(t, srv, "wan1 back", both, interval*rise+slack)
	if !harness.SerialAfter(third, second) {
		t.Errorf("wan1 back: serial %d, not after %d (a secondary would keep the wan1-down zone)", third, second)
	}
	if !strings.Contains(srv.Log(), "notify acknowledged") {
		t.Error("mxdns logged no acknowledged NOTIFY")
	}
}

// fleetAnswer is what a server answers for fleet.test: its MX, www's
// addresses and the apex TXT, each as sorted "TTL RDATA".
type fleetAnswer struct {
	mx, www, txt []string
	serial       uint32
}

func fleetAnswerOf(t *testing.T, addr, origin string) fleetAnswer {
	t.Helper()
	var a fleetAnswer
	ask := func(name string, qtype uint16) []string {
		r, err := harness.Exchange(addr, name, qtype, true, 2*time.Second)
		if err != nil || r.Rcode != dns.RcodeSuccess {
			return nil
		}
		var out []string
		for _, rr := range r.Answer {
			f := strings.Fields(rr.String())
			out = append(out, f[1]+" "+strings.Join(f[4:], " "))
			if soa, ok := rr.(*dns.SOA); ok {
				a.serial = soa.Serial
			}
		}
		slices.Sort(out)
		return out
	}
	a.mx, a.www, a.txt = ask(origin, dns.TypeMX), ask("www."+origin, dns.TypeA), ask(origin, dns.TypeTXT)
	ask(origin, dns.TypeSOA)
	return a
}

func waitFor(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	if !harness.Wait(ctx, cond) {
		t.Fatalf("%s: not within %v", what, limit)
	}
}

// fleetKnot is the test's Knot secondary of one zone.
type fleetKnot struct {
	*harness.KnotSecondary
	origin string
}

// await waits until Knot answers want and serves mxdns's serial, and
// returns that serial.
func (k *fleetKnot) await(t *testing.T, srv *harness.Server, what string, want fleetAnswer, limit time.Duration) uint32 {
	t.Helper()
	start := time.Now()
	var got, primary fleetAnswer
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	ok := harness.Wait(ctx, func() bool {
		got = fleetAnswerOf(t, k.Addr(), k.origin)
		primary = fleetAnswerOf(t, srv.Addr(), k.origin)
		return slices.Equal(got.mx, want.mx) && slices.Equal(got.www, want.www) && got.serial == primary.serial
	})
	if !ok {
		t.Fatalf("%s: Knot answers MX %q, www %q at serial %d (mxdns %d: MX %q, www %q); want MX %q, www %q within %v",
			what, got.mx, got.www, got.serial, primary.serial, primary.mx, primary.www, want.mx, want.www, limit)
	}
	t.Logf("%s: Knot follows after %v, serial %d", what, time.Since(start).Round(10*time.Millisecond), got.serial)
	return got.serial
}
