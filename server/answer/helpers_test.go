package answer

import (
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/internal/dnstest"
	"github.com/mxdns/mxdns/server/ops"
	"github.com/mxdns/mxdns/server/xfr"
	"github.com/mxdns/mxdns/zone"
)

const testConfig = dnstest.Config

const (
	testKey    = "xfr-key."
	testSecret = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ="
	badSecret  = "b3RoZXItb3RoZXItb3RoZXItb3RoZXItb3RoZXItMTI="
)

// tsrv is an Answerer with what a server keeps beside it (the state, the
// rotation, the metrics registry), for tests that drive the answer paths
// without sockets.
type tsrv struct {
	*Answerer
	state   atomic.Pointer[State]
	rotate  atomic.Uint32
	metrics *ops.Metrics
}

// testServer serves snap with every link up.
func testServer(t testing.TB, snap *zone.Snapshot) *tsrv {
	t.Helper()
	s := &tsrv{metrics: ops.NewMetrics()}
	s.state.Store(NewState(snap, zone.AllLinks, nil))
	log := slog.New(slog.DiscardHandler)
	s.Answerer = New(Config{Log: log, Keys: xfr.Keyring{Snapshot: func() *zone.Snapshot { return s.state.Load().Snap }},
		Transfers: xfr.NewServer(xfr.Config{Log: log, Warn: log.Warn, Count: func(string, string) {}}),
		Metrics:   s.metrics})
	return s
}

// answerDatagram answers query as a UDP reader does, through Answer, and
// leaves in q what the fast path read of it.
func (s *tsrv) answerDatagram(st *State, query []byte, listen string, at *Arrival, rotate uint32, from Peer, q *wireQuery, out []byte) []byte {
	r := Request{Query: query, Listen: listen, Rotate: rotate, Peer: from, Out: out, Arrival: *at}
	reply, _ := s.Answer(st, &r)
	*at, *q = r.Arrival, r.wire
	return reply
}

// arrival is the name the tests knew Arrival by.
type arrival = Arrival

// RateLimitStats are the counters as the server reports them.
type RateLimitStats struct{ RRLDropped, RRLSlipped, Panics uint64 }

func (s *tsrv) RateLimitStats() RateLimitStats {
	c := s.counters
	return RateLimitStats{c.RRLDropped.Load(), c.RRLSlipped.Load(), c.Panics.Load()}
}

// scrape is the metrics in their text format, as /metrics shows them.
func (s *tsrv) scrape(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(s.metrics.Handler())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	return string(body)
}

var sameReply = dnstest.SameReply

// conformanceConfig adds a name whose TXT answer is far over 512 bytes.
func conformanceConfig() string {
	var txt []string
	for i := range 20 {
		txt = append(txt, fmt.Sprintf("%q", fmt.Sprintf("record %02d %s", i, strings.Repeat("x", 50))))
	}
	return testConfig + "      big: {txt: [" + strings.Join(txt, ", ") + "]}\n"
}

// askServer serves config with every link up, for ask.
func askServer(t *testing.T, config string) *tsrv {
	t.Helper()
	snap, diags := zone.FromYAML("t.yaml", []byte(config), nil)
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	return testServer(t, snap)
}

// ask answers m through Answer as the transport network ("udp" or "tcp")
// would have it answered, and returns the reply.
func ask(t *testing.T, s *tsrv, network string, m *dns.Msg) *dns.Msg {
	t.Helper()
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	req := &Request{Query: b, Listen: "127.0.0.1:0", Rotate: s.rotate.Add(1), Peer: fuzzPeer{}}
	var conn frames
	if network == "tcp" {
		req.Stream = &conn
	}
	reply, _ := s.Answer(s.state.Load(), req)
	if network == "tcp" {
		if len(conn.out) != 1 {
			t.Fatalf("%d replies over tcp, want 1", len(conn.out))
		}
		reply = conn.out[0]
	}
	r := new(dns.Msg)
	if err := r.Unpack(reply); err != nil {
		t.Fatalf("%s reply: %v", network, err)
	}
	return r
}
