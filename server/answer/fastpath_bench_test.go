package answer

import (
	"testing"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/zone"
)

func benchState(b *testing.B) (*State, []byte) {
	snap, diags := zone.FromYAML("t.yaml", []byte(testConfig), nil)
	if err := diags.Err(); err != nil {
		b.Fatal(err)
	}
	m := new(dns.Msg)
	m.SetQuestion("example.com.", dns.TypeMX)
	m.SetEdns0(1232, false)
	query, err := m.Pack()
	if err != nil {
		b.Fatal(err)
	}
	return NewState(snap, zone.AllLinks, nil), query
}

// BenchmarkFastPath is the cost of a cached answer: parse, find, copy, patch.
func BenchmarkFastPath(b *testing.B) {
	st, query := benchState(b)
	s := testServer(b, st.Snap)
	st = s.state.Load()
	var q wireQuery
	for r := range uint32(64) { // every rotation there is
		warm(b, s, query, zone.NoLink, r, true)
	}
	out := make([]byte, 0, 4096)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, e := st.fastAnswer(query, zone.NoLink, uint32(i), true, &q, out); e == nil {
			b.Fatal("miss")
		}
	}
}

// BenchmarkGeneralPath is the same answer made from scratch by the handler.
func BenchmarkGeneralPath(b *testing.B) {
	st, query := benchState(b)
	s := testServer(b, st.Snap)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if handlerReply(b, s, query, zone.NoLink, uint32(i)+1) == nil {
			b.Fatal("no reply")
		}
	}
}

// BenchmarkRandomNameMiss is a random-subdomain flood (rrl: off), as the
// UDP reader answers it: every name is new, so every query misses the
// answer cache and takes the general path.
func BenchmarkRandomNameMiss(b *testing.B) {
	snap, diags := zone.FromYAML("t.yaml", []byte("rrl: off\n"+testConfig), nil)
	if err := diags.Err(); err != nil {
		b.Fatal(err)
	}
	s := testServer(b, snap)
	st := s.state.Load()
	m := new(dns.Msg)
	m.SetQuestion("00000000.example.com.", dns.TypeA)
	m.SetEdns0(1232, false)
	query, err := m.Pack()
	if err != nil {
		b.Fatal(err)
	}
	const hex = "0123456789abcdef"
	req := &Request{Query: query, Listen: "no-link", Peer: fuzzPeer{}, Out: make([]byte, 0, 4096)}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		for j := range 8 { // the label's 8 letters: a name never asked before
			query[headerLen+1+j] = hex[uint32(i)>>(4*j)&15]
		}
		req.Rotate = uint32(i)
		r, _ := s.Answer(st, req)
		if len(r) < headerLen || r[3]&0x0F != dns.RcodeNameError {
			b.Fatal("not NXDOMAIN")
		}
	}
}

// BenchmarkDatagramHit is a cached answer as a UDP reader gives it:
// the fast path, then the metrics (rate limiting off).
func BenchmarkDatagramHit(b *testing.B) {
	snap, diags := zone.FromYAML("t.yaml", []byte("rrl: off\n"+testConfig), nil)
	if err := diags.Err(); err != nil {
		b.Fatal(err)
	}
	s := testServer(b, snap)
	st := s.state.Load()
	m := new(dns.Msg)
	m.SetQuestion("example.com.", dns.TypeMX)
	m.SetEdns0(1232, false)
	query, err := m.Pack()
	if err != nil {
		b.Fatal(err)
	}
	// One request for every query, as a reader keeps one.
	req := &Request{Query: query, Listen: "no-link", Rotate: 1, Peer: fuzzPeer{}, Out: make([]byte, 0, 4096)}
	for range 2 { // a miss, then a second that the cache admits
		s.Answer(st, req)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		req.Rotate = uint32(i)
		if reply, _ := s.Answer(st, req); len(reply) == 0 {
			b.Fatal("no reply")
		}
	}
}
