package server

import (
	"log/slog"
	"net"
	"net/netip"
	"testing"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/server/answer"
	"github.com/mxdns/mxdns/server/ops"
	"github.com/mxdns/mxdns/zone"
)

// testServer serves snap with every link up, for tests that drive the
// transports and the answer pipeline without New.
func testServer(t testing.TB, snap *zone.Snapshot) *Server {
	t.Helper()
	s := &Server{log: slog.New(slog.DiscardHandler), metrics: ops.NewMetrics()}
	s.initLimits()
	s.initTransfers()
	s.initAnswers()
	s.state.Store(answer.NewState(snap, zone.AllLinks))
	return s
}

func query(name string, qtype uint16) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.RecursionDesired = false
	return m
}

func packQuery(t *testing.T, m *dns.Msg) []byte {
	t.Helper()
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func packLen(t *testing.T, m *dns.Msg) int {
	t.Helper()
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return len(b)
}

// testPeer is a fixed client for the datagram path.
type testPeer struct{}

func (testPeer) Addr() netip.Addr     { return netip.MustParseAddr("192.0.2.7") }
func (testPeer) RemoteAddr() net.Addr { return &net.UDPAddr{IP: net.IPv4(192, 0, 2, 7), Port: 5300} }
func (testPeer) LocalAddr() net.Addr  { return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53} }

// answerDatagram answers query through the pipeline as a UDP reader does.
func (s *Server) answerDatagram(st *answer.State, query []byte, listen string, rotate uint32) []byte {
	reply, _ := s.answers.Answer(st, &answer.Request{Query: query, Listen: listen, Rotate: rotate, Peer: testPeer{}})
	return reply
}

// frames is a stream that keeps what is written to it.
type frames struct{ out [][]byte }

func (f *frames) WriteFrame(b []byte) error {
	f.out = append(f.out, append([]byte(nil), b...))
	return nil
}
func (f *frames) Close() error { return nil }

// handlerReply is the general path's reply to query as over TCP (no rate
// limiting, no truncation), with the given rotation: it is answered from
// a copy of the state with an empty cache, so the handler answers it.
func handlerReply(t testing.TB, s *Server, query []byte, link int, rotate uint32) []byte {
	t.Helper()
	served := s.state.Load()
	st := answer.NewState(served.Snap, served.Up)
	listen := "no-link"
	if link >= 0 {
		listen = st.Snap.Settings().Links[link].Listen[0]
	}
	var conn frames
	s.answers.Answer(st, &answer.Request{Query: query, Listen: listen, Rotate: rotate, Peer: testPeer{}, Stream: &conn})
	if len(conn.out) != 1 {
		t.Fatalf("%d replies, want 1", len(conn.out))
	}
	return conn.out[0]
}

// answerFunc stands in for the answer pipeline in transport tests.
type answerFunc func(st *answer.State, r *answer.Request) ([]byte, bool)

func (f answerFunc) Answer(st *answer.State, r *answer.Request) ([]byte, bool) { return f(st, r) }
func wantRcode(t *testing.T, r *dns.Msg, rcode int) {
	t.Helper()
	if r.Rcode != rcode {
		t.Errorf("rcode %s, want %s", dns.RcodeToString[r.Rcode], dns.RcodeToString[rcode])
	}
}
