package ops

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"
)

// fakeProvider stands in for the server: an empty status and a fixed
// allow list.
type fakeProvider struct{ allow []netip.Prefix }

func (p fakeProvider) Status() Status                       { return Status{Links: []LinkStatus{}, Zones: []ZoneStatus{}} }
func (p fakeProvider) AdminAllow() []netip.Prefix           { return p.allow }
func (p fakeProvider) Mail(string, int) ([]MailDomain, int) { return nil, 0 }
func (p fakeProvider) History() *History                    { return nil }

func TestAdminGuardAllowList(t *testing.T) {
	p := fakeProvider{allow: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("2001:db8::1/128")}}
	h := guard(p, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }))
	for remote, want := range map[string]int{
		"192.0.2.7:40000":          200,
		"[::ffff:192.0.2.7]:40000": 200,
		"[2001:db8::1]:40000":      200,
		"127.0.0.1:40000":          200, // loopback: the machine itself, mxdns status
		"[::1]:40000":              200,
		"198.51.100.7:40000":       403,
		"[2001:db8::2]:40000":      403,
		"garbage":                  403,
	} {
		r := httptest.NewRequest("GET", "/status", nil)
		r.RemoteAddr = remote
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != want {
			t.Errorf("%s: %d, want %d", remote, w.Code, want)
		}
	}
}

// setVar sets a package variable for one test.
func setVar[T any](t *testing.T, v *T, to T) {
	old := *v
	*v = to
	t.Cleanup(func() { *v = old })
}

func adminServerFor(t *testing.T) string {
	t.Helper()
	a, err := Start("127.0.0.1:0", fakeProvider{}, http.NotFoundHandler(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return a.Addr().String()
}

// getOn sends one keep-alive GET /status on c and reads the reply.
func getOn(t *testing.T, c net.Conn, br *bufio.Reader) error {
	t.Helper()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(c, "GET /status HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		return err
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return err
}

// waitClosed waits until the server closes c: a read ends in EOF or
// reset rather than the 20 s deadline.
func waitClosed(t *testing.T, c net.Conn, br *bufio.Reader, what string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	_, err := br.ReadByte()
	if ne, ok := err.(net.Error); err == nil || ok && ne.Timeout() {
		t.Fatalf("%s: connection still open after 20s (%v)", what, err)
	}
}

// TestAdminConnectionCap: connections beyond the cap are closed at once;
// one freed is usable again.
func TestAdminConnectionCap(t *testing.T) {
	setVar(t, &adminMaxConns, 3)
	addr := adminServerFor(t)
	type held struct {
		c  net.Conn
		br *bufio.Reader
	}
	dial := func() held {
		c, err := net.DialTimeout("tcp", addr, 20*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return held{c, bufio.NewReader(c)}
	}
	var conns []held
	for range 3 {
		h := dial()
		if err := getOn(t, h.c, h.br); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, h)
	}
	over := dial()
	if err := getOn(t, over.c, over.br); err == nil {
		t.Fatal("a fourth connection was served with a cap of 3")
	}
	for i, h := range conns {
		if err := getOn(t, h.c, h.br); err != nil {
			t.Fatalf("held connection %d: %v", i, err)
		}
	}
	conns[0].c.Close()
	deadline := time.Now().Add(20 * time.Second)
	for {
		h := dial()
		if getOn(t, h.c, h.br) == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a freed admin slot was never reused")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestAdminTimeouts: a kept-alive connection left idle, and one that
// never finishes its request header, are closed by the server. (The
// timeouts are shortened; the test waits for the close, not a time.)
func TestAdminTimeouts(t *testing.T) {
	setVar(t, &adminIdleTimeout, 200*time.Millisecond)
	setVar(t, &adminReadHeaderTimeout, 200*time.Millisecond)
	addr := adminServerFor(t)

	idle, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	br := bufio.NewReader(idle)
	if err := getOn(t, idle, br); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, idle, br, "an idle kept-alive connection")

	slow, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	io.WriteString(slow, "GET /status HTTP/1.1\r\n")
	waitClosed(t, slow, bufio.NewReader(slow), "a connection that never ends its header")
}
