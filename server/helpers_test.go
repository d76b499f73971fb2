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
	s.initTransfers()
	s.initAnswers()
	s.initListeners()
	s.state.Store(answer.NewState(snap, zone.AllLinks, nil))
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

// testPeer is a fixed client for the datagram path (answerDatagram).
type testPeer struct{}

func (testPeer) Addr() netip.Addr     { return netip.MustParseAddr("192.0.2.7") }
func (testPeer) RemoteAddr() net.Addr { return &net.UDPAddr{IP: net.IPv4(192, 0, 2, 7), Port: 5300} }
func (testPeer) LocalAddr() net.Addr  { return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53} }

// answerDatagram answers query through the pipeline as a UDP reader does.
func (s *Server) answerDatagram(st *answer.State, query []byte, listen string, rotate uint32) []byte {
	reply, _ := s.answers.Answer(st, &answer.Request{Query: query, Listen: listen, Rotate: rotate, Peer: testPeer{}})
	return reply
}

func wantRcode(t *testing.T, r *dns.Msg, rcode int) {
	t.Helper()
	if r.Rcode != rcode {
		t.Errorf("rcode %s, want %s", dns.RcodeToString[r.Rcode], dns.RcodeToString[rcode])
	}
}
