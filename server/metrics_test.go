package server

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func scrape(t *testing.T, s *Server) string {
	t.Helper()
	srv := httptest.NewServer(s.MetricsHandler())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	return string(body)
}

func TestMetrics(t *testing.T) {
	s, path, reloads := startServer(t, xfrConfig(`["127.0.0.1"]`))
	exchange(t, s, "udp", "mx1.example.com.", dns.TypeA)
	exchange(t, s, "udp", "mx1.example.com.", dns.TypeA)
	exchange(t, s, "tcp", "nope.example.com.", dns.TypeMX)
	if _, _, err := axfr(t, s, dns.TypeAXFR, ""); err != nil {
		t.Fatal(err)
	}
	s.Reload()
	<-reloads
	writeFile(t, path, "zones: [broken")
	s.Reload()
	<-reloads
	s.SetLinkUp("wan1", true)
	s.SetLinkUp("wan2", false)
	s.ObserveLinkCheck("wan1", true, 3*time.Millisecond)

	body := scrape(t, s)
	for _, want := range []string{
		`mxdns_queries_total{link="none",qtype="A",rcode="NOERROR",transport="udp"} 2`,
		`mxdns_queries_total{link="none",qtype="MX",rcode="NXDOMAIN",transport="tcp"} 1`,
		`mxdns_answers_total{kind="answer",transport="udp"} 2`, // the general path, then the fast path
		`mxdns_answers_total{kind="nxdomain",transport="tcp"} 1`,
		`mxdns_response_duration_seconds_count{transport="udp"} 2`,
		`mxdns_reloads_total 1`,
		`mxdns_reload_failures_total 1`,
		`mxdns_reload_duration_seconds_count 2`,
		`mxdns_transfers_total{result="ok",type="AXFR"} 1`,
		`mxdns_link_up{link="wan1"} 1`,
		`mxdns_link_up{link="wan2"} 0`,
		`mxdns_link_check_duration_seconds_count{link="wan1",result="ok"} 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if t.Failed() {
		t.Log(body)
	}
}

func TestQueryLog(t *testing.T) {
	for _, on := range []bool{false, true} {
		config := testConfig
		if on {
			config = "query_log: true\n" + config
		}
		path := filepath.Join(t.TempDir(), "config.yaml")
		writeFile(t, path, config)
		var logs syncBuffer
		s, err := New(Options{Logger: slog.New(slog.NewTextHandler(&logs, nil)), ConfigPath: path})
		if err != nil {
			t.Fatal(err)
		}
		exchange(t, s, "udp", "mx1.example.com.", dns.TypeA)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		s.Shutdown(ctx)
		cancel()
		got := strings.Contains(logs.String(), "msg=query client=127.0.0.1:")
		if got != on {
			t.Errorf("query_log %v: logged %v:\n%s", on, got, logs.String())
		}
		if on && !strings.Contains(logs.String(), "link=none qname=mx1.example.com. qtype=A rcode=NOERROR duration=") {
			t.Errorf("query line lacks fields:\n%s", logs.String())
		}
	}
}

// A link removed from the config takes its series with it; the links
// that stay keep theirs.
func TestMetricsForgetRemovedLink(t *testing.T) {
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	target := closed.Addr().String()
	closed.Close() // refused probes are results all the same

	config := func(wan1 string) string {
		return `listen: ["127.0.0.1:0"]
links:
` + wan1 + `  wan2: {}
zones:
  example.com:
    ns: [ns1]
    records:
      ns1: {a: 192.0.2.53}
`
	}
	path := filepath.Join(t.TempDir(), "config.yaml")
	writeFile(t, path, config(`  wan1: {check: {tcp: "`+target+`", interval: 100ms, timeout: 100ms}}
`))
	checked := make(chan struct{}, 1024)
	s, err := New(Options{Logger: testLogger(t), ConfigPath: path,
		onCheck: func(string, bool) { checked <- struct{}{} }})
	if err != nil {
		t.Fatal(err)
	}
	stopAtCleanup(t, s)
	select {
	case <-checked:
	case <-time.After(20 * time.Second):
		t.Fatal("wan1 not checked within 20s")
	}
	body := scrape(t, s)
	for _, want := range []string{`mxdns_link_up{link="wan1"}`, `mxdns_link_check_duration_seconds_count{link="wan1"`, `mxdns_link_up{link="wan2"}`} {
		if !strings.Contains(body, want) {
			t.Errorf("before removal, metrics lack %s", want)
		}
	}

	writeFile(t, path, config(""))
	if res := s.Reload(); res.Err != nil {
		t.Fatal(res.Err)
	}
	body = scrape(t, s)
	if strings.Contains(body, `link="wan1"`) {
		t.Errorf("removed link wan1 still has series:\n%s", body)
	}
	if !strings.Contains(body, `mxdns_link_up{link="wan2"}`) {
		t.Error("wan2, still configured, lost its series")
	}
}
