package server

// End-to-end link tests: the real server with two links on 127.0.0.1 and
// 127.0.0.2 (and a link-less address on 127.0.0.3), a TCP health target
// and an HTTP one that the test opens, fails and restores itself.

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func TestLinksEndToEnd(t *testing.T) {
	e := startLinks(t)

	t.Log("both links up")
	e.expect("wan1", "www.example.com.", dns.TypeA, www1)
	e.expect("wan2", "www.example.com.", dns.TypeA, www2)
	e.expect("none", "www.example.com.", dns.TypeA, wwwAll)
	e.expect("wan1", "vpn.example.com.", dns.TypeA, []string{"30 A 198.51.100.90"})
	e.expect("none", "ns1.example.com.", dns.TypeA, []string{"3600 A 203.0.113.53"})
	e.expect("none", "example.com.", dns.TypeMX,
		[]string{"30 MX 10 mx1.example.com.", "30 MX 20 mx2.example.com.", "30 MX 30 backup.example.net."}, mx1A, mx2A)
	e.expect("none", "primary.example.com.", dns.TypeMX, []string{"30 MX 10 mx1.example.com."}, mx1A)
	e.expect("none", "every.example.com.", dns.TypeMX,
		[]string{"30 MX 10 mx1.example.com.", "30 MX 20 mx2.example.com."}, mx1A, mx2A)
	// The additional section follows the arrival link too.
	e.expect("wan1", "example.com.", dns.TypeMX,
		[]string{"30 MX 10 mx1.example.com.", "30 MX 20 mx2.example.com.", "30 MX 30 backup.example.net."}, mx1A, mx2A)

	t.Log("rotation over every up link")
	firsts := map[string]bool{}
	for range 12 {
		r := e.ask("none", "www.example.com.", dns.TypeA)
		if got := lines(r.Answer); !slices.Equal(got, lines(parseRRs(t, "www.example.com.", wwwAll))) {
			t.Fatalf("www via no link: %q", got)
		}
		firsts[r.Answer[0].(*dns.A).A.String()] = true
	}
	if len(firsts) != 3 {
		t.Errorf("www rotated through first addresses %v, want all 3", firsts)
	}

	t.Log("wan2 fails its http check")
	failed := time.Now()
	e.code.Store(http.StatusServiceUnavailable)
	if why := e.waitLink("wan2", false, failBound); why != "http 503" {
		t.Errorf("wan2 down because %q, want \"http 503\"", why)
	}
	t.Logf("wan2 down after %v", time.Since(failed))
	e.expect("wan2", "www.example.com.", dns.TypeA, www1) // arrival link down: the up links answer
	e.expect("none", "www.example.com.", dns.TypeA, www1)
	e.expect("wan1", "vpn.example.com.", dns.TypeA, []string{"30 A 203.0.113.90"}) // failover to the next link
	e.expect("none", "example.com.", dns.TypeMX,
		[]string{"30 MX 10 mx1.example.com.", "30 MX 30 backup.example.net."}, mx1A) // mx2 withdrawn
	e.expect("none", "primary.example.com.", dns.TypeMX, []string{"30 MX 10 mx1.example.com."}, mx1A)
	e.expect("none", "every.example.com.", dns.TypeMX,
		[]string{"30 MX 10 mx1.example.com.", "30 MX 20 mx2.example.com."}, mx1A, mx2A)

	t.Log("wan1 fails its tcp check too: every link down")
	failed = time.Now()
	e.tcp.Down()
	if why := e.waitLink("wan1", false, failBound); why != "tcp "+e.tcp.Addr+": connection refused" {
		t.Errorf("wan1 down because %q", why)
	}
	t.Logf("wan1 down after %v", time.Since(failed))
	e.expect("wan1", "www.example.com.", dns.TypeA, wwwAll) // the all-down rule
	e.expect("none", "vpn.example.com.", dns.TypeA, []string{"30 A 198.51.100.90", "30 A 203.0.113.90"})
	e.expect("none", "example.com.", dns.TypeMX, []string{"30 MX 30 backup.example.net."}) // only the out-of-zone MX is healthy
	e.expect("none", "primary.example.com.", dns.TypeMX,                                   // none healthy: publish all
		[]string{"30 MX 10 mx1.example.com.", "30 MX 20 mx2.example.com."}, mx1A, mx2A)

	t.Log("wan1 recovers")
	recovered := time.Now()
	e.tcp.Up()
	if why := e.waitLink("wan1", true, recoverBound); why != "tcp "+e.tcp.Addr+": connected" {
		t.Errorf("wan1 up because %q", why)
	}
	t.Logf("wan1 up after %v", time.Since(recovered))
	e.expect("wan2", "www.example.com.", dns.TypeA, www1)
	e.expect("none", "example.com.", dns.TypeMX,
		[]string{"30 MX 10 mx1.example.com.", "30 MX 30 backup.example.net."}, mx1A)

	t.Log("wan2 recovers: primary publishing hides the backup again")
	e.code.Store(http.StatusOK)
	e.waitLink("wan2", true, recoverBound)
	e.expect("wan2", "www.example.com.", dns.TypeA, www2)
	e.expect("none", "primary.example.com.", dns.TypeMX, []string{"30 MX 10 mx1.example.com."}, mx1A)
}

func TestLinksManualOverride(t *testing.T) {
	e := startLinks(t)
	wan2Checker, _ := e.s.checks.Checker("wan2")

	t.Log("state: down on wan1, at a reload")
	e.reload(strings.Replace(e.config, "  wan1:\n", "  wan1:\n    state: down\n", 1))
	if why := e.waitLink("wan1", false, eventWait); why != "state: down in config" {
		t.Errorf("wan1 down because %q", why)
	}
	e.expect("wan1", "www.example.com.", dns.TypeA, www2)
	e.expect("none", "example.com.", dns.TypeMX,
		[]string{"30 MX 20 mx2.example.com.", "30 MX 30 backup.example.net."}, mx2A)
	e.expect("none", "primary.example.com.", dns.TypeMX, []string{"30 MX 20 mx2.example.com."}, mx2A)

	if c, _ := e.s.checks.Checker("wan2"); c != wan2Checker {
		t.Error("a manual state on wan1 restarted wan2's check")
	}
	if _, ok := e.s.checks.Checker("wan1"); !ok {
		t.Error("wan1's check stopped under a manual state")
	}

	t.Log("state: up on wan2 wins over its failing check")
	e.code.Store(http.StatusInternalServerError)
	e.waitLink("wan2", false, failBound)
	e.reload(strings.Replace(e.config, "  wan2:\n", "  wan2:\n    state: up\n", 1))
	e.waitLink("wan1", true, eventWait) // wan1's state: down is gone
	if why := e.waitLink("wan2", true, eventWait); why != "state: up in config" {
		t.Errorf("wan2 up because %q", why)
	}
	e.expect("wan2", "www.example.com.", dns.TypeA, www2)

	t.Log("back to auto: the check's verdict applies at once")
	e.reload(e.config)
	e.waitLink("wan2", false, eventWait)
	e.expect("wan2", "www.example.com.", dns.TypeA, www1)

	t.Log("a changed check restarts that link's checker only")
	wan1Checker, _ := e.s.checks.Checker("wan1")
	wan2Checker, _ = e.s.checks.Checker("wan2")
	i := strings.LastIndex(e.config, "timeout: 100ms")
	e.reload(e.config[:i] + "timeout: 90ms" + e.config[i+len("timeout: 100ms"):])
	if c, _ := e.s.checks.Checker("wan1"); c != wan1Checker {
		t.Error("wan1's unchanged check was restarted")
	}
	if c, _ := e.s.checks.Checker("wan2"); c == wan2Checker || e.s.checks.Checks("wan2")[0].Timeout != 90*time.Millisecond {
		t.Error("wan2's changed check was not restarted with its new spec")
	}
	// The restarted check starts from the verdict it had: still down.
	e.expect("wan2", "www.example.com.", dns.TypeA, www1)
	e.code.Store(http.StatusOK)
	e.waitLink("wan2", true, recoverBound)
}
