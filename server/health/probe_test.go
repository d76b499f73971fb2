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
	probe := tcpProbe(zone.Check{TCP: addr, Timeout: time.Second})
	if ok, why := probe(context.Background()); !ok || why != "tcp "+addr+": connected" {
		t.Errorf("listening target: %v %q", ok, why)
	}
	target.down()
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
		// Only /hang should ever reach the timeout, even on a loaded machine.
		timeout := 5 * time.Second
		if tc.path == "/hang" {
			timeout = 50 * time.Millisecond
		}
		probe := httpProbe(zone.Check{HTTP: web.URL + tc.path, Timeout: timeout})
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
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
