package server

import (
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestHandlerPanicIsServfail serves TCP with a handler that always panics.
// The connection's own recovery must answer SERVFAIL with OPT, count the
// panic and keep serving: it is asked twice on one connection. (The UDP
// readers call the handler's serve directly; TestPanicIsServfail covers
// their recovery.)
func TestHandlerPanicIsServfail(t *testing.T) {
	srv := testConfigServer(t)
	boom := func(dns.ResponseWriter, *dns.Msg, *state, int, uint32) answered { panic("boom") }
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serveTCP(t, srv, ln, boom)

	query := func() *dns.Msg {
		m := new(dns.Msg)
		m.SetQuestion("example.com.", dns.TypeMX)
		m.SetEdns0(1232, false)
		return m
	}
	check := func(network string, m, r *dns.Msg, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", network, err)
		}
		if r.Id != m.Id || r.Rcode != dns.RcodeServerFailure || r.IsEdns0() == nil {
			t.Fatalf("%s: want SERVFAIL with OPT, got\n%v", network, r)
		}
	}
	conn, err := net.DialTimeout("tcp", ln.Addr().String(), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	dc := &dns.Conn{Conn: conn}
	for range 2 {
		m := query()
		if err := dc.WriteMsg(m); err != nil {
			t.Fatal(err)
		}
		r, err := dc.ReadMsg()
		check("tcp", m, r, err)
	}
	if n := srv.counters.panics.Load(); n != 2 {
		t.Errorf("%d panics counted, want 2", n)
	}
}
