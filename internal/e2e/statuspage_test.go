package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/mxdns/mxdns/internal/dnstest"
	"github.com/mxdns/mxdns/internal/harness"
)

// TestStatusPageInChromium runs the binary with two links, each checked
// by TCP against a target of the test, closes wan2's target and breaks a
// zone file, then reads GET / of the admin address in headless Chromium:
// the page shows wan2 down, the MX withdrawn with it and why, and the
// broken file's error at file:line:col. With MXDNS_SCREENSHOT=path it
// also saves the page as the PNG docs/status-page.png is made from.
func TestStatusPageInChromium(t *testing.T) {
	chromium := harness.NeedChromium(t)
	wan1, wan2 := dnstest.NewTCPTarget(t), dnstest.NewTCPTarget(t)
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "zones"), 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("zones/example.yaml", `zones:
  example.test:
    ns: [ns1]
    records:
      "@": {mx: ["10;mx1", "20;mx2"]}
      shop: {mx: ["10;mx1", "20;mx2"], mx_publish: primary}
      mx1: {a: {wan1: 192.0.2.25}}
      mx2: {a: {wan2: 198.51.100.25}}
      ns1: {a: 192.0.2.53}
`)
	const good = `zones:
  other.test:
    ns: [ns1.example.test.]
    records:
      "@": {mx: ["10;mx1.example.test."]}
`
	write("zones/other.yaml", good)
	srv, err := harness.Start(harness.Options{Bin: bin, Dir: dir, Args: []string{"serve", "-config", "config.yaml", "-state-dir", "state"}, MemLimit: memLimit,
		WriteConfig: func(port, admin int) error {
			write("config.yaml", fmt.Sprintf(`listen: ["127.0.0.1:%d"]
admin: "127.0.0.1:%d"
zone_files: ["zones/*.yaml"]
links:
  wan1:
    check: {tcp: "%s", interval: 500ms, timeout: 400ms, rise: 1, fall: 2}
  wan2:
    check: {tcp: "%s", interval: 500ms, timeout: 400ms, rise: 1, fall: 2}
`, port, admin, wan1.Addr, wan2.Addr))
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Stop(); err != nil {
			t.Log(err)
		}
		if t.Failed() {
			t.Logf("server output:\n%s", tail(srv.Log(), 40))
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	status := func() harness.Status {
		st, _ := srv.Status()
		return st
	}
	if !harness.Wait(ctx, func() bool {
		l1, _ := status().Link("wan1")
		l2, _ := status().Link("wan2")
		return l1.State == "up" && l2.State == "up" && len(l2.Checks) == 1 && l2.Checks[0].LastCheck != nil
	}) {
		t.Fatalf("the links did not come up: %+v", status().Links)
	}

	t.Log("wan2's target closes; other.yaml gets a YAML error")
	wan2.Down()
	write("zones/other.yaml", good+"  broken: [\n")
	if !harness.Wait(ctx, func() bool {
		l, _ := status().Link("wan2")
		_, broken := status().InError("zones/other.yaml")
		return l.State == "down" && broken
	}) {
		t.Fatalf("wan2 not down or other.yaml not in error: %+v", status())
	}
	fault, _ := status().InError("zones/other.yaml")
	at := regexp.MustCompile(`other\.yaml:\d+:\d+: \S.*`).FindString(fault.Error)
	if at == "" {
		t.Fatalf("the error of other.yaml has no file:line:col: %q", fault.Error)
	}

	url := fmt.Sprintf("http://127.0.0.1:%d/", srv.AdminPort)
	// Chromium gets its own time: it starts slowly on a busy machine.
	dom, err := chromium.DumpDOM(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`<h1>mxdns status</h1>`,
		`wan2 <span class="badge down">down</span>`,
		`Why: tcp ` + wan2.Addr + `: connection refused.`,
		`wan1 <span class="badge up">up</span>`,
		`mx2.example.test.</td><td><span class="badge down">withdrawn</span><br>its addresses are only on wan2, down`,
		`any link: 192.0.2.25`,
		// As the DOM serializes text: quotes are left as they are.
		strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(at),
		`<span class="badge down">last good copy</span>`,
	} {
		if !strings.Contains(dom, want) {
			t.Errorf("the page in Chromium lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("the page's DOM:\n%s", dom)
	}
	if path := os.Getenv("MXDNS_SCREENSHOT"); path != "" {
		// Some queries first, for the chart: rates are sampled every 10 s.
		names := []string{"example.test.", "shop.example.test.", "nope.example.test.", "example.org."}
		for end := time.Now().Add(35 * time.Second); time.Now().Before(end); {
			for i, name := range names {
				for range 1 + 3*(3-i) {
					srv.Query(name, dns.TypeMX)
				}
			}
		}
		if path, err = filepath.Abs(path); err == nil {
			err = chromium.Screenshot(context.Background(), url, path, 1200, 1600)
		}
		if err != nil {
			t.Error(err)
		}
	}
}
