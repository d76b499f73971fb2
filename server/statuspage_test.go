package server

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mxdns/mxdns/server/ops"
)

// TestStatusPageFollowsLinks: the page of a running server shows a link
// its check took down, the MX withdrawn with it and why, the addresses
// each arrival link is told, and the link's failed probes.
func TestStatusPageFollowsLinks(t *testing.T) {
	e := startLinks(t)
	for _, d := range func() []ops.MailDomain { d, _ := e.s.Mail("", 10); return d }() {
		if d.Name == "example.com." && d.Withdrawn != 0 {
			t.Fatalf("both links up, example.com. has an MX withdrawn: %+v", d)
		}
	}
	// The table just made is kept for that state; the link change that
	// follows makes a new state, and a new table.
	e.code.Store(http.StatusServiceUnavailable)
	e.waitLink("wan2", false, failBound)

	domains, matched := e.s.Mail("", 10)
	if matched != 3 || len(domains) != 3 || domains[0].Name != "example.com." || domains[0].Withdrawn != 1 {
		t.Fatalf("mail domains, withdrawn first: %d %+v", matched, domains)
	}
	mx2 := domains[0].MX[1]
	if mx2.Host != "mx2.example.com." || mx2.Published || mx2.Why != "its addresses are only on wan2, down" {
		t.Errorf("mx2: %+v", mx2)
	}
	if via := fmt.Sprint(domains[0].MX[0].Via); via != "[{wan1 [203.0.113.25]} {wan2 [203.0.113.25]} { [203.0.113.25]}]" {
		t.Errorf("mx1 by arrival link: %s", via)
	}
	if via := domains[0].MX[2].Via; via != nil {
		t.Errorf("backup.example.net., not ours, has addresses %v", via)
	}
	if d, n := e.s.Mail("every", 10); n != 1 || d[0].Withdrawn != 0 {
		t.Errorf("filtered: %d %+v", n, d)
	}

	page := getStatusPage(t, e.s)
	for _, want := range []string{
		`wan2 <span class="badge down">down</span>`,
		`Why: http 503.`,
		`<span class="badge down">withdrawn</span><br>its addresses are only on wan2, down`,
		`any link: 203.0.113.25`,
		`: http 503"`, // a probe, titled with its result
		`<span class="badge down">failed</span>`,
		`<span class="badge up">ok</span>`, // the start, in the reloads
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
}

func getStatusPage(t testing.TB, s *Server) string {
	t.Helper()
	resp, err := http.Get("http://" + s.AdminAddr().String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /: %d %v\n%s", resp.StatusCode, err, b)
	}
	return string(b)
}

// BenchmarkStatusPage10kZones is GET / of a server of ten thousand
// zones, each a mail domain whose second MX is withdrawn (its link is
// down), over the admin endpoint's HTTP: the page must take under 50 ms
// (docs/performance.md).
func BenchmarkStatusPage10kZones(b *testing.B) {
	s := benchServer(b)
	for b.Loop() {
		getStatusPage(b, s)
	}
}

// benchServer serves ten thousand zones, each a mail domain whose second
// MX is withdrawn.
func benchServer(b testing.TB) *Server {
	dir := b.TempDir()
	var cfg strings.Builder
	cfg.WriteString(`listen: ["127.0.0.1:0"]
admin: "127.0.0.1:0"
links:
  wan1: {}
  wan2: {state: down}
zone_files: ["zones/*.yaml"]
`)
	if err := os.Mkdir(filepath.Join(dir, "zones"), 0o755); err != nil {
		b.Fatal(err)
	}
	for i := range 10000 {
		zone := fmt.Sprintf(`zones:
  z%05d.example:
    ns: [ns1]
    records:
      "@": {mx: ["10;mx1", "20;mx2"]}
      mx1: {a: {wan1: 192.0.2.25}}
      mx2: {a: {wan2: 198.51.100.25}}
      ns1: {a: 192.0.2.53}
`, i)
		if err := os.WriteFile(filepath.Join(dir, "zones", fmt.Sprintf("z%05d.yaml", i)), []byte(zone), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(cfg.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	s, err := New(Options{ConfigPath: path})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Shutdown(context.Background()) })
	if page := getStatusPage(b, s); !strings.Contains(page, "10000 zones served") || !strings.Contains(page, "10000 matched, the first 100 shown") {
		b.Fatalf("the page does not show the 10,000 zones:\n%.2000s", page)
	}
	return s
}
