package server

// End-to-end link tests: the real server with two links on 127.0.0.1 and
// 127.0.0.2 (and a link-less address on 127.0.0.3), a TCP health target
// and an HTTP one that the test opens, fails and restores itself.

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/server/ops"
)

const (
	checkInterval = 100 * time.Millisecond
	checkRise     = 2
	checkFall     = 2
	// How long a test waits for a link to change or be checked: an event
	// expected within interval × fall (or rise) plus a probe, waited for
	// with a deadline no busy machine reaches, never asserted as a time.
	failBound    = 20 * time.Second
	recoverBound = 20 * time.Second
	eventWait    = 20 * time.Second
)

const linksConfig = `listen: ["127.0.0.3:0"]
admin: "127.0.0.1:0"
link_ttl: 30
links:
  wan1:
    listen: ["127.0.0.1:0"]
    check: {tcp: "%s", interval: 100ms, timeout: 100ms, rise: 2, fall: 2}
  wan2:
    listen: ["127.0.0.2:0"]
    check: {http: "%s", interval: 100ms, timeout: 100ms, rise: 2, fall: 2}
zones:
  example.com:
    ttl: 3600
    ns: [ns1]
    records:
      "@": {mx: ["10;mx1", "20;mx2", "30;backup.example.net."]}
      primary: {mx: ["10;mx1", "20;mx2"], mx_publish: primary}
      every: {mx: ["10;mx1", "20;mx2"], mx_publish: all}
      mx1: {a: {wan1: 203.0.113.25}}
      mx2: {a: {wan2: 198.51.100.25}}
      www: {a: {wan1: 203.0.113.80, wan2: [198.51.100.80, 198.51.100.81]}}
      vpn: {a: {wan2: 198.51.100.90, wan1: 203.0.113.90}, link_mode: failover}
      ns1: {a: 203.0.113.53}
`

// tcpTarget is a TCP health-check target that can be taken down and
// brought back on the same port.
type tcpTarget struct {
	t    *testing.T
	addr string
	ln   net.Listener
}

func newTCPTarget(t *testing.T) *tcpTarget {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tt := &tcpTarget{t: t, addr: ln.Addr().String()}
	tt.serve(ln)
	t.Cleanup(tt.down)
	return tt
}

func (tt *tcpTarget) serve(ln net.Listener) {
	tt.ln = ln
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
}

func (tt *tcpTarget) down() {
	if tt.ln != nil {
		tt.ln.Close()
		tt.ln = nil
	}
}

func (tt *tcpTarget) up() {
	ln, err := net.Listen("tcp", tt.addr)
	if err != nil {
		tt.t.Fatalf("reopen health target: %v", err)
	}
	tt.serve(ln)
}

// linkEnv is a running server with its health targets and signals.
type linkEnv struct {
	t       *testing.T
	s       *Server
	path    string
	config  string
	tcp     *tcpTarget
	code    *atomic.Int32 // what the HTTP target answers
	changes chan LinkChange
	checks  chan string
	reloads chan ReloadResult
	addr    map[string]string // "wan1", "wan2", "none" -> UDP address
}

func startLinks(t *testing.T) *linkEnv {
	t.Helper()
	e := &linkEnv{t: t, tcp: newTCPTarget(t), code: new(atomic.Int32),
		changes: make(chan LinkChange, 256), checks: make(chan string, 1024), reloads: make(chan ReloadResult, 16)}
	e.code.Store(http.StatusOK)
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(int(e.code.Load()))
	}))
	t.Cleanup(web.Close)

	e.config = fmt.Sprintf(linksConfig, e.tcp.addr, web.URL+"/health")
	e.path = filepath.Join(t.TempDir(), "config.yaml")
	writeFile(t, e.path, e.config)
	s, err := New(Options{Logger: testLogger(t), ConfigPath: e.path,
		OnReload:     func(r ReloadResult) { e.reloads <- r },
		OnLinkChange: func(c LinkChange) { e.changes <- c },
		onCheck: func(link string, _ bool) {
			select {
			case e.checks <- link:
			default: // only the first few matter
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	stopAtCleanup(t, s)
	e.s = s
	e.addr = map[string]string{}
	for _, a := range s.Addrs() {
		name := map[string]string{"127.0.0.1:0": "wan1", "127.0.0.2:0": "wan2", "127.0.0.3:0": "none"}[a.Listen]
		e.addr[name] = a.UDP.String()
	}
	// Both checks must have run once before the scenarios start, so a
	// target taken down is seen by counting from a known verdict.
	e.waitChecked("wan1", "wan2")
	return e
}

// waitChecked waits until every named link has a probe result.
func (e *linkEnv) waitChecked(links ...string) {
	e.t.Helper()
	deadline := time.After(failBound)
	for len(links) > 0 {
		select {
		case link := <-e.checks:
			links = slices.DeleteFunc(links, func(l string) bool { return l == link })
		case <-deadline:
			e.t.Fatalf("links %v not checked within %v", links, failBound)
		}
	}
}

// waitLink waits for link to go up or down within bound, and returns why.
func (e *linkEnv) waitLink(link string, up bool, bound time.Duration) string {
	e.t.Helper()
	deadline := time.After(bound)
	for {
		select {
		case c := <-e.changes:
			if c.Link == link && c.Up == up {
				return c.Why
			}
		case <-deadline:
			e.t.Fatalf("link %s did not go up=%v within %v", link, up, bound)
		}
	}
}

// reload saves config, reloads and waits for the result.
func (e *linkEnv) reload(config string) {
	e.t.Helper()
	writeFile(e.t, e.path, config)
	e.s.Reload()
	select {
	case r := <-e.reloads:
		if r.Err != nil {
			e.t.Fatalf("reload: %v", r.Err)
		}
	case <-time.After(eventWait):
		e.t.Fatal("no reload result")
	}
}

// ask sends a query to the address of the named link ("none" for the
// link-less address).
func (e *linkEnv) ask(via, name string, qtype uint16) *dns.Msg {
	e.t.Helper()
	c := &dns.Client{Net: "udp", Timeout: 10 * time.Second}
	r, _, err := c.Exchange(query(name, qtype), e.addr[via])
	if err != nil {
		e.t.Fatalf("%s via %s: %v", name, via, err)
	}
	return r
}

// expect checks the answer (and, if given, additional) section as sorted
// "TTL TYPE RDATA" lines.
func (e *linkEnv) expect(via, name string, qtype uint16, answer []string, extra ...string) {
	e.t.Helper()
	r := e.ask(via, name, qtype)
	got, gotExtra := lines(r.Answer), lines(r.Extra)
	slices.Sort(answer)
	slices.Sort(extra)
	if !slices.Equal(got, answer) {
		e.t.Errorf("%s %s via %s:\n got %q\nwant %q", name, dns.TypeToString[qtype], via, got, answer)
	}
	if extra != nil && !slices.Equal(gotExtra, extra) {
		e.t.Errorf("%s %s via %s additional:\n got %q\nwant %q", name, dns.TypeToString[qtype], via, gotExtra, extra)
	}
}

func lines(rrs []dns.RR) []string {
	out := []string{}
	for _, rr := range rrs {
		f := strings.Fields(rr.String())
		out = append(out, f[1]+" "+strings.Join(f[3:], " "))
	}
	slices.Sort(out)
	return out
}

var (
	www1   = []string{"30 A 203.0.113.80"}
	www2   = []string{"30 A 198.51.100.80", "30 A 198.51.100.81"}
	wwwAll = append(slices.Clone(www1), www2...)
	mx1A   = "30 A 203.0.113.25"
	mx2A   = "30 A 198.51.100.25"
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
	e.tcp.down()
	if why := e.waitLink("wan1", false, failBound); why != "tcp "+e.tcp.addr+": connection refused" {
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
	e.tcp.up()
	if why := e.waitLink("wan1", true, recoverBound); why != "tcp "+e.tcp.addr+": connected" {
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
	if c, _ := e.s.checks.Checker("wan2"); c == wan2Checker || c.Spec.Timeout != 90*time.Millisecond {
		t.Error("wan2's changed check was not restarted with its new spec")
	}
	// The restarted check starts from the verdict it had: still down.
	e.expect("wan2", "www.example.com.", dns.TypeA, www1)
	e.code.Store(http.StatusOK)
	e.waitLink("wan2", true, recoverBound)
}

func TestAdminStatus(t *testing.T) {
	e := startLinks(t)
	e.reload(strings.Replace(e.config, "  wan1:\n", "  wan1:\n    state: down\n", 1))
	e.waitLink("wan1", false, eventWait)

	resp, err := http.Get("http://" + e.s.AdminAddr().String() + "/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || ct != "application/json" {
		t.Fatalf("status %d, content type %q", resp.StatusCode, ct)
	}
	var st ops.Status
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	if len(st.Links) != 2 {
		t.Fatalf("links %+v", st.Links)
	}
	w1, w2 := st.Links[0], st.Links[1]
	if w1.Name != "wan1" || w1.State != "down" || w1.Manual != "down" || w1.Why != "state: down in config" || w1.Since.IsZero() {
		t.Errorf("wan1 %+v", w1)
	}
	if w1.Check != "tcp "+e.tcp.addr || w1.LastCheck == nil || !w1.LastCheck.OK {
		t.Errorf("wan1 check %q, last %+v", w1.Check, w1.LastCheck)
	}
	if w2.Name != "wan2" || w2.State != "up" || w2.Manual != "auto" || w2.LastCheck == nil || w2.LastCheck.Result != "http 200" {
		t.Errorf("wan2 %+v %+v", w2, w2.LastCheck)
	}
	if len(st.Zones) != 1 || st.Zones[0].Origin != "example.com." || st.Zones[0].Serial == 0 {
		t.Errorf("zones %+v", st.Zones)
	}
	if !st.Reload.OK || st.Reload.Count != 1 || st.Reload.LastError != "" {
		t.Errorf("reload %+v", st.Reload)
	}

	t.Log("a failed reload shows in the status; the admin server moves with its address")
	writeFile(t, e.path, e.config+"      broken: {a: nope}\n")
	e.s.Reload()
	<-e.reloads
	if st := e.s.Status(); st.Reload.OK || st.Reload.Failures != 1 || !strings.Contains(st.Reload.LastError, "config.yaml:") {
		t.Errorf("reload after failure %+v", st.Reload)
	}
	old := e.s.AdminAddr().String()

	// An admin address that cannot be bound is an error of the reload; the
	// old admin server keeps serving.
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	writeFile(t, e.path, strings.Replace(e.config, `admin: "127.0.0.1:0"`, `admin: "`+taken.Addr().String()+`"`, 1))
	e.s.Reload()
	if r := <-e.reloads; r.Err == nil || !strings.Contains(r.Err.Error(), "admin: listen tcp "+taken.Addr().String()) {
		t.Errorf("reload onto a taken admin address: %v", r.Err)
	}
	if resp, err := http.Get("http://" + old + "/status"); err != nil {
		t.Errorf("old admin server after a failed move: %v", err)
	} else {
		resp.Body.Close()
	}
	e.reload(strings.Replace(e.config, `admin: "127.0.0.1:0"`, `admin: "127.0.0.2:0"`, 1))
	if a := e.s.AdminAddr(); a == nil || !strings.HasPrefix(a.String(), "127.0.0.2:") {
		t.Fatalf("admin at %v after moving", a)
	}
	if _, err := http.Get("http://" + old + "/status"); err == nil {
		t.Error("old admin address still answers")
	}
	e.reload(strings.Replace(e.config, "admin: \"127.0.0.1:0\"\n", "", 1))
	if a := e.s.AdminAddr(); a != nil {
		t.Errorf("admin at %v after removing it", a)
	}
}

func parseRRs(t *testing.T, owner string, short []string) []dns.RR {
	var out []dns.RR
	for _, s := range short {
		f := strings.SplitN(s, " ", 2)
		rr, err := dns.NewRR(owner + " " + f[0] + " IN " + f[1])
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, rr)
	}
	return out
}

// TestAdminMetricsShowLinks scrapes /metrics on the admin address and
// finds each link's state and its health-check latencies.
func TestAdminMetricsShowLinks(t *testing.T) {
	e := startLinks(t)
	e.reload(strings.Replace(e.config, "  wan1:\n", "  wan1:\n    state: down\n", 1))
	e.waitLink("wan1", false, eventWait)

	want := []string{
		`mxdns_link_up{link="wan1"} 0`,
		`mxdns_link_up{link="wan2"} 1`,
		`mxdns_link_check_duration_seconds_count{link="wan1",result="ok"}`,
		`mxdns_link_check_duration_seconds_count{link="wan2",result="ok"}`,
		"mxdns_rrl_dropped_total 0",
		"mxdns_tcp_rejected_total 0",
	}
	// A check is counted when it ends: on a busy machine wan2's first may
	// still be running. Poll until every line is there.
	var missing []string
	for deadline := time.Now().Add(eventWait); ; time.Sleep(20 * time.Millisecond) {
		resp, err := http.Get("http://" + e.s.AdminAddr().String() + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("status %d, %v", resp.StatusCode, err)
		}
		missing = missing[:0]
		for _, w := range want {
			if !strings.Contains(string(body), w) {
				missing = append(missing, w)
			}
		}
		if len(missing) == 0 || time.Now().After(deadline) {
			break
		}
	}
	for _, m := range missing {
		t.Errorf("/metrics lacks %s", m)
	}
}
