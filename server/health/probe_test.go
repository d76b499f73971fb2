package health

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
	target := newTCPTarget(t)
	addr := target.addr
	probe := tcpProbe(zone.Check{TCP: addr, Timeout: time.Second}, dialer{})
	if out := probe(context.Background()); !out.ok || out.result != "tcp "+addr+": connected" {
		t.Errorf("listening target: %+v", out)
	}
	target.down()
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

// tcpTarget accepts connections and closes them at once, until down.
type tcpTarget struct {
	addr string
	ln   net.Listener
}

func newTCPTarget(t *testing.T) *tcpTarget {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tt := &tcpTarget{addr: ln.Addr().String(), ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	t.Cleanup(tt.down)
	return tt
}

func (tt *tcpTarget) down() { tt.ln.Close() }
