package server

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mxdns/mxdns/zone"
)

func TestTCPProbe(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	probe := tcpProbe(zone.Check{TCP: addr, Timeout: time.Second})
	if ok, why := probe(context.Background()); !ok || why != "tcp "+addr+": connected" {
		t.Errorf("listening target: %v %q", ok, why)
	}
	ln.Close()
	if ok, why := probe(context.Background()); ok || why != "tcp "+addr+": connection refused" {
		t.Errorf("closed target: %v %q", ok, why)
	}
}

func TestHTTPProbe(t *testing.T) {
	hang := make(chan struct{})
	defer close(hang)
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			w.WriteHeader(http.StatusNoContent)
		case "/moved":
			http.Redirect(w, r, "/ok", http.StatusFound)
		case "/hang":
			select {
			case <-hang:
			case <-r.Context().Done():
			}
		default:
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer web.Close()

	tests := []struct {
		path string
		ok   bool
		why  string
	}{
		{"/ok", true, "http 204"},
		{"/sick", false, "http 503"},
		{"/moved", false, "http 302"}, // a redirect is not a healthy answer
		{"/hang", false, web.URL + "/hang: timeout after 50ms"},
	}
	for _, tc := range tests {
		probe := httpProbe(zone.Check{HTTP: web.URL + tc.path, Timeout: 50 * time.Millisecond})
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		ok, why := probe(ctx)
		cancel()
		if ok != tc.ok || why != tc.why {
			t.Errorf("%s: %v %q, want %v %q", tc.path, ok, why, tc.ok, tc.why)
		}
	}

	web.Close()
	probe := httpProbe(zone.Check{HTTP: web.URL + "/ok", Timeout: time.Second})
	if ok, why := probe(context.Background()); ok || !strings.HasSuffix(why, ": connection refused") {
		t.Errorf("closed server: %v %q", ok, why)
	}
}

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
	case <-time.After(5 * time.Second):
		t.Fatal("no probe")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown with a probe in flight: %v", err)
	}
	s.mu.Lock()
	n := len(s.checkers)
	s.mu.Unlock()
	if n != 0 {
		t.Errorf("%d checkers left after shutdown", n)
	}
}
