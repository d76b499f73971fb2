package server

import (
	"testing"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/zone"
)

func benchState(b *testing.B) (*state, []byte) {
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
	return newState(snap, zone.AllLinks), query
}

// BenchmarkFastPath is the cost of a cached answer: parse, find, copy, patch.
func BenchmarkFastPath(b *testing.B) {
	st, query := benchState(b)
	var q wireQuery
	st.fastAnswer(query, zone.NoLink, 0, true, &q, nil)
	st.fillCache(&q, zone.NoLink)
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
	s := testServer(b, st.snap)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if handlerReply(b, s, query, zone.NoLink, uint32(i)+1) == nil {
			b.Fatal("no reply")
		}
	}
}
