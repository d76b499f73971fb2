package ops

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// pageProvider stands in for the server with links, mail domains, zones
// and a file in error.
type pageProvider struct {
	status  Status
	mail    []MailDomain
	history *History
}

func (p *pageProvider) Status() Status             { return p.status }
func (p *pageProvider) AdminAllow() []netip.Prefix { return nil }
func (p *pageProvider) History() *History          { return p.history }
func (p *pageProvider) Mail(filter string, limit int) ([]MailDomain, int) {
	var out []MailDomain
	n := 0
	for _, d := range p.mail {
		if strings.Contains(d.Name, filter) {
			if n++; len(out) < limit {
				out = append(out, d)
			}
		}
	}
	return out, n
}

func newPageProvider(zones int) *pageProvider {
	now := time.Now()
	p := &pageProvider{history: NewHistory(nil)}
	p.status = Status{
		Links: []LinkStatus{
			{Name: "wan1", State: "up", Manual: "auto", Why: "tcp 127.0.0.1:2525: connected", Since: now.Add(-time.Hour),
				Checks: []CheckInfo{{Check: "tcp 127.0.0.1:2525", Up: true, LastCheck: &CheckStatus{Time: now, OK: true, Result: "connected", LatencyMS: 0.4}}}},
			{Name: "wan2", State: "down", Manual: "auto", Why: "http 503", Since: now.Add(-3 * time.Minute),
				Checks: []CheckInfo{{Check: "https://xxxxx@health.example/ok", LastCheck: &CheckStatus{Time: now, Result: "http 503", LatencyMS: 12}}}},
			{Name: "wan3", State: "down", Manual: "down", Why: "state: down in config", Since: now.Add(-time.Minute)},
		},
		FilesInError: []FileStatus{{File: "zones/broken.yaml", Error: `zones/broken.yaml:3:7: expected a mapping <b>bold</b>`, Since: now.Add(-time.Minute), Serving: "last good copy"}},
		Reload:       ReloadInfo{Count: 3, Failures: 1, LastTime: now, LastSuccess: now.Add(-time.Hour), LastError: "zones/broken.yaml:3:7: expected a mapping"},
		Warnings:     []WarningStatus{{At: "zones/a.yaml:4:5", Warning: "ttl below 60"}},
	}
	for i := range zones {
		p.status.Zones = append(p.status.Zones, ZoneStatus{Origin: fmt.Sprintf("zone-%05d.example.", i), Serial: uint32(2025010100 + i), File: fmt.Sprintf("zones/zone-%05d.yaml", i)})
		p.mail = append(p.mail, MailDomain{Name: fmt.Sprintf("zone-%05d.example.", i), Publish: "healthy", Withdrawn: 1, MX: []MXStatus{
			{Preference: 10, Host: "mx1.example.", Published: true, Links: []string{"wan1"}, Via: []ViaLink{{Link: "wan1", Addrs: []string{"203.0.113.25"}}, {Link: "wan2", Addrs: []string{"203.0.113.25"}}}},
			{Preference: 20, Host: "mx2.example.", Links: []string{"wan2"}, Why: "its addresses are only on wan2, down"},
		}})
	}
	h := p.history
	h.LinkState("wan1", true, false, now.Add(-10*time.Minute))
	h.LinkState("wan2", true, false, now.Add(-10*time.Minute))
	h.LinkState("wan2", false, false, now.Add(-3*time.Minute))
	h.LinkCheck("wan2", CheckEvent{Time: now, Check: "https://xxxxx@health.example/ok", Result: "http 503", Latency: 12 * time.Millisecond})
	h.Reload(ReloadEvent{Time: now, Duration: 1500 * time.Microsecond, Outcome: "served with files in error", Error: "zones/broken.yaml:3:7: expected a mapping"})
	return p
}

func getPage(t testing.TB, p Provider, remote, target string) (int, string) {
	t.Helper()
	h := newHTTP(p, mux(p, http.NotFoundHandler(), slog.New(slog.DiscardHandler))).Handler
	r := httptest.NewRequest("GET", target, nil)
	r.RemoteAddr = remote
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	b, _ := io.ReadAll(w.Result().Body)
	return w.Code, string(b)
}

func TestStatusPage(t *testing.T) {
	p := newPageProvider(3)
	code, page := getPage(t, p, "127.0.0.1:40000", "/")
	if code != 200 {
		t.Fatalf("GET /: %d\n%s", code, page)
	}
	for _, want := range []string{
		`<meta http-equiv="refresh" content="5">`,
		`<meta name="viewport"`,
		`<h1>mxdns status</h1>`,
		`Attention: 2 of 3 links down; 1 file in error; the last reload did not load every file.`,
		`wan2 <span class="badge down">down</span>`,
		`Why: http 503.`,
		`wan3 <span class="badge forced">forced down</span>`,
		`https://xxxxx@health.example/ok`, // as /status has it, redacted
		`12 ms`,
		`<rect x="295" y="13" width="4" height="7" class="down">`, // wan2 down this minute
		`<th scope="row" rowspan="2" class="mono">zone-00000.example.`,
		`<span class="badge down">withdrawn</span><br>its addresses are only on wan2, down`,
		`any link: 203.0.113.25`,
		`zones/broken.yaml:3:7: expected a mapping &lt;b&gt;bold&lt;/b&gt;`, // escaped, never markup
		`<span class="badge down">last good copy</span>`,
		`served with files in error`,
		`zones/a.yaml:4:5`,
		`3 zones`,
		`<th scope="col">`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	for _, never := range []string{"<script", "<b>bold", "http://", "https://fonts"} {
		if strings.Contains(page, never) {
			t.Errorf("the page has %q", never)
		}
	}
}

// TestStatusPageBounds: with ten thousand zones the page shows a bounded
// number of rows and says how many matched; the filter, a plain GET
// form, narrows zones and mail domains alike.
func TestStatusPageBounds(t *testing.T) {
	p := newPageProvider(10000)
	_, page := getPage(t, p, "127.0.0.1:40000", "/")
	if n := strings.Count(page, `<td class="num">20250`); n != pageZoneRows {
		t.Errorf("%d zone rows, want %d", n, pageZoneRows)
	}
	for _, want := range []string{"10000 zones served", "the first 200 are shown", "10000 matched, the first 100 shown", `<form method="get" action="/" role="search">`} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	_, page = getPage(t, p, "127.0.0.1:40000", "/?zone=ZONE-0004")
	for _, want := range []string{"10 of 10000 zones hold “zone-0004”", `value="zone-0004"`, "zone-00049.example.", "10 matched."} {
		if !strings.Contains(page, want) {
			t.Errorf("filtered page lacks %q", want)
		}
	}
	if strings.Contains(page, "zone-00050.example.") {
		t.Error("the filter let zone-00050 through")
	}
}

// TestStatusPageGuard: the page is behind the admin guard like /status.
func TestStatusPageGuard(t *testing.T) {
	p := newPageProvider(1)
	if code, body := getPage(t, p, "198.51.100.7:40000", "/"); code != http.StatusForbidden || strings.Contains(body, "wan2") {
		t.Errorf("a client not in admin_allow got %d:\n%s", code, body)
	}
	if code, _ := getPage(t, p, "127.0.0.1:40000", "/nothing"); code != http.StatusNotFound {
		t.Errorf("GET /nothing: %d, want 404", code)
	}
}

// TestStatusPageEmpty: a server with no links, no zones in error and no
// history yet renders without holes.
func TestStatusPageEmpty(t *testing.T) {
	p := &pageProvider{status: Status{Reload: ReloadInfo{OK: true}}}
	code, page := getPage(t, p, "127.0.0.1:40000", "/")
	for _, want := range []string{"All links up, every file loaded.", "No links are configured", "No rate yet", "No reload since the start."} {
		if !strings.Contains(page, want) {
			t.Errorf("%d: the empty page lacks %q", code, want)
		}
	}
}

// BenchmarkStatusPageRender is the page of ten thousand zones and mail
// domains from a stand-in provider: the rendering alone.
func BenchmarkStatusPageRender(b *testing.B) {
	p := newPageProvider(10000)
	for b.Loop() {
		if code, _ := getPage(b, p, "127.0.0.1:40000", "/"); code != 200 {
			b.Fatal(code)
		}
	}
}
