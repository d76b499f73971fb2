package answer

import (
	"testing"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/zone"
)

// frames is a Stream that keeps what is written to it, as a TCP
// connection would send it.
type frames struct {
	out    [][]byte
	closed bool
}

func (f *frames) WriteFrame(b []byte) error {
	f.out = append(f.out, append([]byte(nil), b...))
	return nil
}
func (f *frames) Close() error { f.closed = true; return nil }

// TestHandlerPanicIsServfail serves a TCP connection with a general path
// that always panics. Answer's recovery must answer SERVFAIL with OPT,
// count the panic and keep the connection: it is asked twice on one.
// (TestPanicIsServfail covers a panic over UDP, on a real socket.)
func TestHandlerPanicIsServfail(t *testing.T) {
	snap, diags := zone.FromYAML("t.yaml", []byte(testConfig), nil)
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	srv := testServer(t, snap)
	srv.general = func(*handler, dns.ResponseWriter, *dns.Msg, *State, int, uint32) answered { panic("boom") }

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
	conn := new(frames)
	req := &Request{Listen: "127.0.0.1:0", Peer: fuzzPeer{}, Stream: conn}
	for i := range 2 {
		m := query()
		b, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		req.Query, req.Rotate = b, uint32(i+1)
		if _, keep := srv.Answer(srv.state.Load(), req); !keep {
			t.Fatalf("query %d ended the connection", i+1)
		}
		if len(conn.out) != i+1 {
			t.Fatalf("query %d: %d replies written in all", i+1, len(conn.out))
		}
		r := new(dns.Msg)
		check("tcp", m, r, r.Unpack(conn.out[i]))
	}
	if n := srv.counters.Panics.Load(); n != 2 {
		t.Errorf("%d panics counted, want 2", n)
	}
}
