package e2e

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/internal/dnstest"
	"github.com/mxdns/mxdns/internal/harness"
)

// The issue #17 site: mail over two links, wan1 health-checked, and a
// signed zone, beside the hundred zones of the catalog.
const (
	scenarioSite = `zones:
  site.test:
    ns: [ns1.example.net.]
    records:
      "@": {mx: ["10;mx1", "20;mx2"], mx_publish: healthy}
      mx1: {a: {wan1: 203.0.113.25}}
      mx2: {a: {wan2: 198.51.100.25}}
      smtp: {a: {wan1: 203.0.113.30, wan2: 198.51.100.30}}
`
	scenarioSigned = `zones:
  signed.test:
    dnssec: on
    ns: [ns1.example.net.]
    records:
      "@": {mx: "10;mx1"}
      mx1: {a: 192.0.2.25}
      www: {a: 192.0.2.80}
`
	// The check's interval × fall, plus the 5 s the issue allows.
	scenarioLinkWithin = 1*time.Second + 5*time.Second
)

// TestFleetScenario: issue #17's promise on three Knot secondaries that
// know only the primary, the key and the catalog: with transfer_view:
// current, a link going down changes the MX and A answers of all three
// within interval × fall + 5 s, and back on recovery; an edit reaches all
// three within 5 s by IXFR, and again after mxdns restarts; a signed
// zone flows the same way and validates at a secondary. Link changes
// reach the secondaries by IXFR too.
func TestFleetScenario(t *testing.T) {
	probe := dnstest.NewTCPTarget(t) // wan1's check target: closed, the link fails
	f := startFleet(t, fleetOptions{
		config: fmt.Sprintf("transfer_view: current\nlinks:\n  wan1: {check: {tcp: %q, interval: 1s, timeout: 500ms, rise: 1, fall: 1}}\n  wan2: {}\n", probe.Addr),
		files:  map[string]string{"zones/site.test.yaml": scenarioSite, "zones/signed.test.yaml": scenarioSigned},
	})
	f.waitAll("the site and the signed zone", []string{"site.test.", "signed.test."}, 60*time.Second, f.served)

	mxOf := func(query func(string, uint16) (*dns.Msg, error)) string {
		r, err := query("site.test.", dns.TypeMX)
		if err != nil {
			return err.Error()
		}
		return mxHosts(r)
	}
	smtpOf := func(query func(string, uint16) (*dns.Msg, error)) string {
		r, err := query("smtp.site.test.", dns.TypeA)
		if err != nil {
			return err.Error()
		}
		var addrs []string
		for _, rr := range r.Answer {
			if a, ok := rr.(*dns.A); ok {
				addrs = append(addrs, a.A.String())
			}
		}
		return strings.Join(addrs, ",")
	}
	f.waitAnswers("both links up", scenarioLinkWithin+30*time.Second, mxOf, "mx1,mx2")

	marks := f.logMarks()
	probe.Down()
	took := f.waitAnswers("wan1 down: MX", 30*time.Second, mxOf, "mx2")
	f.waitAnswers("wan1 down: A", scenarioLinkWithin, smtpOf, "198.51.100.30")
	t.Logf("wan1 down: the three secondaries withdrew mx1 after %v", took.Round(time.Millisecond))
	if took > scenarioLinkWithin {
		t.Errorf("wan1 down: mx1 withdrawn by all three after %v, want within %v", took.Round(time.Millisecond), scenarioLinkWithin)
	}
	f.byIXFR("wan1 down", "site.test.", marks)
	marks = f.logMarks()
	probe.Up()
	took = f.waitAnswers("wan1 back: MX", 30*time.Second, mxOf, "mx1,mx2")
	t.Logf("wan1 back: the three secondaries published mx1 again after %v", took.Round(time.Millisecond))
	if took > scenarioLinkWithin {
		t.Errorf("wan1 back: mx1 back on all three after %v, want within %v", took.Round(time.Millisecond), scenarioLinkWithin)
	}

	f.editReaches("z001.test.", "192.0.2.81", true)
	// A signed zone's first change since its journal began is sent
	// whole: the secondaries may hold its serial with signatures made
	// before (server/xfr/journalpublish.go). The next ones go by IXFR.
	f.editReaches("signed.test.", "192.0.2.82", false)
	if err := f.srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := f.srv.Restart(); err != nil {
		t.Fatal(err)
	}
	f.editReaches("z002.test.", "192.0.2.82", true)
	f.editReaches("signed.test.", "192.0.2.83", true)

	// The signed zone as the secondaries serve it validates, from the
	// DS mxdns gives for it.
	cmd := exec.Command(bin, "dnssec", "ds", "signed.test", "-config", "config.yaml", "-state-dir", "state")
	cmd.Dir = f.dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("mxdns dnssec ds signed.test: %v: %s", err, out)
	}
	u := harness.StartUnbound(t, harness.UnboundConfig{TrustAnchors: []string{strings.TrimSpace(string(out))},
		Stubs: map[string]string{"signed.test": f.knots[0].Addr()}})
	validated(t, u, "www.signed.test", dns.TypeA, dns.RcodeSuccess, "192.0.2.83")
	validated(t, u, "signed.test", dns.TypeMX, dns.RcodeSuccess, "10 mx1.signed.test.")
	validated(t, u, "nope.signed.test", dns.TypeA, dns.RcodeNameError, "")
}

// editReaches saves origin's zone file with www at addr and waits until
// all three secondaries serve it, within the 5 s, by an
// incremental IXFR when incremental.
func (f *fleet) editReaches(origin, addr string, incremental bool) {
	f.t.Helper()
	name := strings.TrimSuffix(origin, ".")
	var text string
	switch origin {
	case "signed.test.":
		text = strings.Replace(scenarioSigned, "192.0.2.80", addr, 1)
	default:
		text = strings.Replace(fleetZoneFile(origin, "", ""), "192.0.2.80", addr, 1)
	}
	marks := f.logMarks()
	f.save(filepath.Join("zones", name+".yaml"), text)
	wwwOf := func(query func(string, uint16) (*dns.Msg, error)) string {
		r, err := query("www."+origin, dns.TypeA)
		if err != nil {
			return err.Error()
		}
		for _, rr := range r.Answer {
			if a, ok := rr.(*dns.A); ok {
				return a.A.String()
			}
		}
		return dns.RcodeToString[r.Rcode]
	}
	// mxdns serves it first: the secondaries are timed from then.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if !harness.Wait(ctx, func() bool { return wwwOf(f.srv.Query) == addr }) {
		f.t.Fatalf("%s: mxdns did not serve the edit: www is %s", name, wwwOf(f.srv.Query))
	}
	took := f.waitAnswers(name+": an edit", 30*time.Second, wwwOf, addr)
	f.t.Logf("%s: an edit reached the three secondaries after %v", name, took.Round(time.Millisecond))
	if took > fleetWithin {
		f.t.Errorf("%s: an edit reached all three secondaries after %v, want within %v", name, took.Round(time.Millisecond), fleetWithin)
	}
	if incremental {
		f.byIXFR(name+": an edit", origin, marks)
	}
}

// logMarks are where each secondary's log stands now.
func (f *fleet) logMarks() []int {
	marks := make([]int, len(f.knots))
	for i, k := range f.knots {
		marks[i] = len(k.Log())
	}
	return marks
}

// byIXFR checks that every secondary took origin by an incremental IXFR
// since marks (Knot logs an AXFR-style one, the whole zone, apart).
func (f *fleet) byIXFR(what, origin string, marks []int) {
	f.t.Helper()
	for i, k := range f.knots {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		ok := harness.Wait(ctx, func() bool {
			for _, m := range finished.FindAllStringSubmatch(k.Log()[marks[i]:], -1) {
				if m[1] == origin && m[2] == "IXFR" {
					return true
				}
			}
			return false
		})
		cancel()
		since := k.Log()[marks[i]:]
		if !ok || strings.Contains(since, "["+origin+"] IXFR, incoming") && strings.Contains(since, "AXFR-style IXFR") {
			f.t.Errorf("%s: secondary %s did not take %s by an incremental IXFR; its log since:\n%s\nbefore:\n%s", what, k.Addr(), origin, tail(since, 30), tail(k.Log()[:marks[i]], 15))
		}
	}
}

// waitAnswers waits until answer gives want at every secondary, and
// returns how long that took.
func (f *fleet) waitAnswers(what string, limit time.Duration, answer func(func(string, uint16) (*dns.Msg, error)) string, want string) time.Duration {
	f.t.Helper()
	start := time.Now()
	got := make([]string, len(f.knots))
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	var wg sync.WaitGroup
	for i, k := range f.knots {
		wg.Go(func() {
			harness.Wait(ctx, func() bool { got[i] = answer(k.Query); return got[i] == want })
		})
	}
	wg.Wait()
	took := time.Since(start)
	for i, g := range got {
		if g != want {
			f.t.Fatalf("%s: after %v secondary %s answers %q, want %q\n%s", what, took.Round(time.Millisecond), f.knots[i].Addr(), g, want, tail(f.knots[i].Log(), 30))
		}
	}
	return took
}
