package transport

import (
	"log/slog"
	"net"
	"net/netip"
	"testing"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/internal/dnstest"
	"github.com/mxdns/mxdns/server/answer"
	"github.com/mxdns/mxdns/server/xfr"
	"github.com/mxdns/mxdns/zone"
)

const testConfig = dnstest.Config

// testServer is Listeners, none open yet, that answer from snap with
// every link up through the real answer pipeline.
func testServer(t testing.TB, snap *zone.Snapshot) *Listeners {
	t.Helper()
	st := answer.NewState(snap, zone.AllLinks, nil)
	log := slog.New(slog.DiscardHandler)
	counters := new(answer.Counters)
	a := answer.New(answer.Config{Log: log, Keys: xfr.Keyring{Snapshot: func() *zone.Snapshot { return snap }},
		Transfers: xfr.NewServer(xfr.Config{Log: log, Warn: log.Warn, Count: func(string, string) {}}), Counters: counters})
	return New(Config{Log: log, Answers: a, State: func() *answer.State { return st }, Counters: counters})
}

func packQuery(t *testing.T, m *dns.Msg) []byte {
	t.Helper()
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// testPeer is a fixed client.
type testPeer struct{}

func (testPeer) Addr() netip.Addr     { return netip.MustParseAddr("192.0.2.7") }
func (testPeer) RemoteAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4(192, 0, 2, 7), Port: 5300} }
func (testPeer) LocalAddr() net.Addr  { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53} }

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
func handlerReply(t testing.TB, s *Listeners, query []byte, link int, rotate uint32) []byte {
	t.Helper()
	served := s.state()
	st := answer.NewState(served.Snap, served.Up, nil)
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

// answerFunc stands in for the answer pipeline.
type answerFunc func(st *answer.State, r *answer.Request) ([]byte, bool)

func (f answerFunc) Answer(st *answer.State, r *answer.Request) ([]byte, bool) { return f(st, r) }

// syncBuffer collects log output from several goroutines.
type syncBuffer = dnstest.LogBuffer
