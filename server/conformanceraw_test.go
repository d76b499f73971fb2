package server

import (
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// rawUDP sends b and returns the reply, or nil when the server dropped
// it, which the drop counter reports (no sleeping on silence).
func rawUDP(t *testing.T, s *Server, b []byte, dropped func(RateLimitStats) uint64) []byte {
	t.Helper()
	conn, err := net.Dial("udp", s.Addrs()[0].UDP.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	before := uint64(0)
	if dropped != nil {
		before = dropped(s.RateLimitStats())
	}
	if _, err := conn.Write(b); err != nil {
		t.Fatal(err)
	}
	if dropped != nil {
		deadline := time.Now().Add(20 * time.Second)
		for dropped(s.RateLimitStats()) == before {
			if time.Now().After(deadline) {
				t.Fatalf("%x: neither dropped nor answered", b)
			}
			time.Sleep(time.Millisecond)
		}
		return nil
	}
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	buf := make([]byte, 65535)
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatalf("%x: no reply: %v", b, err)
	}
	return buf[:n]
}

func TestRawShortDatagramDropped(t *testing.T) {
	s := conformanceServer(t)
	rawUDP(t, s, []byte{0x12, 0x34, 0, 0, 0, 1}, func(st RateLimitStats) uint64 { return st.UDPShort })
}

func TestRawResponseDropped(t *testing.T) {
	s := conformanceServer(t)
	m := query("example.com.", dns.TypeSOA)
	m.Response = true
	b, _ := m.Pack()
	rawUDP(t, s, b, func(st RateLimitStats) uint64 { return st.UDPResponse })
}

func TestRawUnparsableIsFormErr(t *testing.T) {
	s := conformanceServer(t)
	// A header announcing one question, followed by a name that runs off
	// the end of the packet.
	b := []byte{0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 7, 'e', 'x'}
	out := rawUDP(t, s, b, nil)
	r := new(dns.Msg)
	if err := r.Unpack(out); err != nil {
		t.Fatalf("reply does not unpack: %v", err)
	}
	if r.Id != 0xabcd || !r.Response || r.Rcode != dns.RcodeFormatError {
		t.Fatalf("want FORMERR for id abcd, got\n%v", r)
	}
}

func TestRawUpdateIsNotImp(t *testing.T) {
	s := conformanceServer(t)
	m := new(dns.Msg)
	m.SetUpdate("example.com.")
	m.Insert([]dns.RR{mustRR(t, "x.example.com. 60 IN A 192.0.2.1")})
	b, _ := m.Pack()
	r := new(dns.Msg)
	if err := r.Unpack(rawUDP(t, s, b, nil)); err != nil {
		t.Fatal(err)
	}
	if r.Id != m.Id || r.Rcode != dns.RcodeNotImplemented || r.Opcode != dns.OpcodeUpdate {
		t.Fatalf("want NOTIMP for UPDATE, got\n%v", r)
	}
}

func mustRR(t *testing.T, s string) dns.RR {
	t.Helper()
	rr, err := dns.NewRR(s)
	if err != nil {
		t.Fatal(err)
	}
	return rr
}

func TestRawUnparsableOverTCPIsFormErr(t *testing.T) {
	s := conformanceServer(t)
	conn, err := net.Dial("tcp", s.Addrs()[0].TCP.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	b := []byte{0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 7, 'e', 'x'}
	if _, err := conn.Write(append([]byte{0, byte(len(b))}, b...)); err != nil {
		t.Fatal(err)
	}
	r, err := (&dns.Conn{Conn: conn}).ReadMsg()
	if err != nil {
		t.Fatal(err)
	}
	if r.Id != 0xabcd || r.Rcode != dns.RcodeFormatError {
		t.Fatalf("want FORMERR for id abcd, got\n%v", r)
	}
}
