package health

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mxdns/mxdns/internal/dnstest"
	"github.com/mxdns/mxdns/zone"
)

func TestTCPProbe(t *testing.T) {
	target := dnstest.NewTCPTarget(t)
	addr := target.Addr
	probe := tcpProbe(zone.Check{TCP: addr, Timeout: time.Second}, dialer{})
	if out := probe(context.Background()); !out.ok || out.result != "tcp "+addr+": connected" {
		t.Errorf("listening target: %+v", out)
	}
	target.Down()
	if out := probe(context.Background()); out.ok || out.result != "tcp "+addr+": connection refused" {
		t.Errorf("closed target: %+v", out)
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
		// Only /hang should ever reach the timeout, even on a loaded machine.
		timeout := 5 * time.Second
		if tc.path == "/hang" {
			timeout = 50 * time.Millisecond
		}
		probe := httpProbe(zone.Check{HTTP: web.URL + tc.path, Timeout: timeout}, dialer{})
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		out := probe(ctx)
		cancel()
		if out.ok != tc.ok || out.result != tc.why {
			t.Errorf("%s: %v %q, want %v %q", tc.path, out.ok, out.result, tc.ok, tc.why)
		}
	}

	web.Close()
	probe := httpProbe(zone.Check{HTTP: web.URL + "/ok", Timeout: time.Second}, dialer{})
	if out := probe(context.Background()); out.ok || !strings.HasSuffix(out.result, ": connection refused") {
		t.Errorf("closed server: %+v", out)
	}
}
