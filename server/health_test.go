package server

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mxdns/mxdns/internal/dnstest"
)

// A checker stuck in a probe must not hold up Shutdown: its context ends.
func TestShutdownStopsCheckers(t *testing.T) {
	hang := make(chan struct{})
	probed := make(chan struct{}, 1)
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case probed <- struct{}{}:
		default:
		}
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	defer web.Close()
	defer close(hang)

	config := `listen: ["127.0.0.1:0"]
links:
  wan1: {check: {http: "` + web.URL + `", interval: 30s, timeout: 20s}}
zones:
  example.com:
    ns: [ns1]
    records:
      ns1: {a: 192.0.2.53}
`
	s, _, _ := startServer(t, config)
	// The first probe comes within a second; it then hangs for its 20s
	// timeout unless Shutdown cancels it.
	select {
	case <-probed:
	case <-time.After(20 * time.Second):
		t.Fatal("no probe")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown with a probe in flight: %v", err)
	}
	if n := s.checks.Running(); n != 0 {
		t.Errorf("%d checkers left after shutdown", n)
	}
}

// A link that stays down is logged down once, with its reason, however
// many probes fail after that.
func TestLinkDownLoggedOnce(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	target := ln.Addr().String()
	ln.Close() // nothing listens: every probe is refused

	config := `listen: ["127.0.0.1:0"]
links:
  wan1: {check: {tcp: "` + target + `", interval: 100ms, timeout: 100ms, rise: 1, fall: 1}}
zones:
  example.com:
    ns: [ns1]
    records:
      ns1: {a: {wan1: 192.0.2.53}}
`
	path := filepath.Join(t.TempDir(), "config.yaml")
	writeFile(t, path, config)
	var logs syncBuffer
	changes := make(chan LinkChange, 16)
	fails := make(chan struct{}, 1024)
	s, err := New(Options{Logger: slog.New(slog.NewTextHandler(&logs, nil)), ConfigPath: path,
		OnLinkChange: func(c LinkChange) { changes <- c },
		onCheck: func(_ string, ok bool) {
			if !ok {
				fails <- struct{}{}
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background())

	deadline := time.After(20 * time.Second)
	for n := 0; n < 6; {
		select {
		case <-fails:
			n++
		case <-deadline:
			t.Fatal("fewer than 6 probes in 20s")
		}
	}
	if c := <-changes; c.Link != "wan1" || c.Up || c.Why != "tcp "+target+": connection refused" {
		t.Errorf("change %+v", c)
	}
	out := logs.String()
	if n := strings.Count(out, `msg="link down"`); n != 1 {
		t.Errorf("%d \"link down\" lines, want 1:\n%s", n, out)
	}
	if n := strings.Count(out, `answering every address" names="[ns1.example.com. A]"`); n != 1 {
		t.Errorf("%d all-down lines naming ns1, want 1:\n%s", n, out)
	}
}

// A link removed and added again starts afresh: the reason shown is that
// of its new check, not the one it had before the removal.
func TestReaddedLinkFreshReason(t *testing.T) {
	good := dnstest.NewTCPTarget(t).Addr
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	bad := closed.Addr().String()
	closed.Close() // nothing listens: every probe is refused

	config := func(links string) string {
		return `listen: ["127.0.0.1:0"]
` + links + `zones:
  example.com:
    ns: [ns1]
    records:
      ns1: {a: 192.0.2.53}
`
	}
	withCheck := func(target string) string {
		return config("links:\n  wan1: {check: {tcp: \"" + target + "\", interval: 100ms, timeout: 100ms, rise: 1, fall: 1}}\n")
	}
	path := filepath.Join(t.TempDir(), "config.yaml")
	writeFile(t, path, withCheck(bad))
	checks := make(chan bool, 1024)
	s, err := New(Options{Logger: testLogger(t), ConfigPath: path,
		onCheck: func(_ string, ok bool) { checks <- ok }})
	if err != nil {
		t.Fatal(err)
	}
	stopAtCleanup(t, s)
	waitCheck := func(want bool) {
		t.Helper()
		deadline := time.After(20 * time.Second)
		for {
			select {
			case ok := <-checks:
				if ok == want {
					return
				}
			case <-deadline:
				t.Fatalf("no check with ok=%v within 20s", want)
			}
		}
	}
	why := func() string {
		t.Helper()
		for _, l := range s.Status().Links {
			if l.Name == "wan1" {
				return l.Why
			}
		}
		t.Fatal("wan1 not in status")
		return ""
	}

	waitCheck(false)
	// Refused, or on a loaded machine perhaps timed out: a failure either way.
	if got, want := why(), "tcp "+bad+": "; !strings.HasPrefix(got, want) {
		t.Fatalf("why %q, want %q...", got, want)
	}

	writeFile(t, path, config(""))
	if res := s.Reload(); res.Err != nil {
		t.Fatal(res.Err)
	}
	writeFile(t, path, withCheck(good))
	if res := s.Reload(); res.Err != nil {
		t.Fatal(res.Err)
	}
	waitCheck(true)
	if got, want := why(), "tcp "+good+": connected"; got != want {
		t.Errorf("re-added link: why %q, want %q", got, want)
	}
}
