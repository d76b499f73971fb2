package answer

import (
	"bytes"
	"net"
	"net/netip"
	"testing"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/zone"
)

// fuzzPeer is a fixed client for the datagram path.
type fuzzPeer struct{}

func (fuzzPeer) Addr() netip.Addr     { return netip.MustParseAddr("192.0.2.7") }
func (fuzzPeer) RemoteAddr() net.Addr { return &net.UDPAddr{IP: net.IPv4(192, 0, 2, 7), Port: 5300} }
func (fuzzPeer) LocalAddr() net.Addr  { return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53} }

// FuzzPacket sends any datagram through the path the UDP readers run:
// the answer cache, else the handler (which then fills the cache on a
// question's second miss). It asks three times with the same rotation,
// so a plain query is answered twice by the handler and once from the
// cache. Every reply must unpack, fit the client's size and answer the
// query's id, and all answers must be the same bytes.
func FuzzPacket(f *testing.F) {
	snap, diags := zone.FromYAML("fuzz.yaml", []byte("rrl: off\n"+conformanceConfig()), nil)
	if err := diags.Err(); err != nil {
		f.Fatal(err)
	}
	s := testServer(f, snap)
	for _, m := range seedQueries() {
		b, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint8(1))
	}
	f.Fuzz(func(t *testing.T, b []byte, rotate uint8) {
		st := s.state.Load()
		if !s.worthAnswer(b) {
			return
		}
		var q wireQuery
		first := s.answerDatagram(st, b, "fuzz", new(arrival), uint32(rotate)+1, fuzzPeer{}, &q, nil)
		second := s.answerDatagram(st, b, "fuzz", new(arrival), uint32(rotate)+1, fuzzPeer{}, &q, nil)
		third := s.answerDatagram(st, b, "fuzz", new(arrival), uint32(rotate)+1, fuzzPeer{}, &q, nil)
		if !bytes.Equal(first, second) || !bytes.Equal(first, third) {
			t.Fatalf("the cache and the handler disagree:\nfirst:  %x\nsecond: %x\nthird:  %x", first, second, third)
		}
		if first == nil {
			return
		}
		back := new(dns.Msg)
		if err := back.Unpack(first); err != nil {
			t.Fatalf("reply does not unpack: %v\n%x", err, first)
		}
		req := new(dns.Msg)
		if req.Unpack(b) != nil {
			if back.Rcode != dns.RcodeFormatError {
				t.Fatalf("unparsable query answered %s, want FORMERR", dns.RcodeToString[back.Rcode])
			}
			return
		}
		if len(first) > clientSize(req) {
			t.Fatalf("UDP reply of %d bytes, client takes %d", len(first), clientSize(req))
		}
		if back.Id != req.Id || !back.Response || back.Opcode != req.Opcode {
			t.Fatalf("reply header does not match the query:\n%v\n%v", req, back)
		}
	})
}

func seedQueries() []*dns.Msg {
	var out []*dns.Msg
	add := func(name string, qtype uint16, mod func(*dns.Msg)) {
		m := query(name, qtype)
		if mod != nil {
			mod(m)
		}
		out = append(out, m)
	}
	add("example.com.", dns.TypeSOA, nil)
	add("example.com.", dns.TypeMX, func(m *dns.Msg) { m.SetEdns0(4096, true) })
	add("big.example.com.", dns.TypeTXT, func(m *dns.Msg) { m.SetEdns0(512, false) })
	add("nope.example.com.", dns.TypeA, nil)
	add("example.com.", 666, nil)
	add("example.com.", dns.TypeA, func(m *dns.Msg) { m.Opcode = 15 })
	add("example.com.", dns.TypeA, func(m *dns.Msg) { m.SetEdns0(4096, false); m.IsEdns0().SetVersion(1) })
	add("example.com.", dns.TypeA, func(m *dns.Msg) {
		m.SetEdns0(4096, false)
		o := m.IsEdns0()
		o.Option = append(o.Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0102030405060708"}, &dns.EDNS0_NSID{Code: dns.EDNS0NSID})
	})
	add("example.com.", dns.TypeA, func(m *dns.Msg) { m.Question = nil; m.SetEdns0(1232, false) })
	add("_submission._tcp.example.com.", dns.TypeSRV, nil)
	add("version.bind.", dns.TypeTXT, func(m *dns.Msg) { m.Question[0].Qclass = dns.ClassCHAOS })
	add("example.com.", dns.TypeAXFR, nil)
	return out
}
