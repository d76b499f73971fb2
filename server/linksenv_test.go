package server

// The environment of the end-to-end link tests (links_e2e_test.go,
// linksadmin_test.go): the server, its links, a TCP health target and
// an HTTP one the tests open, fail and restore.

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/internal/dnstest"
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

// linkEnv is a running server with its health targets and signals.
type linkEnv struct {
	t       *testing.T
	s       *Server
	path    string
	config  string
	tcp     *dnstest.TCPTarget
	code    *atomic.Int32 // what the HTTP target answers
	changes chan LinkChange
	checks  chan string
	reloads chan ReloadResult
	addr    map[string]string // "wan1", "wan2", "none" -> UDP address
}

func startLinks(t *testing.T) *linkEnv {
	t.Helper()
	e := &linkEnv{t: t, tcp: dnstest.NewTCPTarget(t), code: new(atomic.Int32),
		changes: make(chan LinkChange, 256), checks: make(chan string, 1024), reloads: make(chan ReloadResult, 16)}
	e.code.Store(http.StatusOK)
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(int(e.code.Load()))
	}))
	t.Cleanup(web.Close)

	e.config = fmt.Sprintf(linksConfig, e.tcp.Addr, web.URL+"/health")
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
