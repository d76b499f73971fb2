package answer

import (
	"bytes"
	"testing"

	"github.com/miekg/dns"
)

func packQuery(t *testing.T, m *dns.Msg) []byte {
	t.Helper()
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseWireQueryAcceptsCommonShapes(t *testing.T) {
	m := new(dns.Msg)
	m.SetQuestion("MX1.Example.COM.", dns.TypeA)
	m.Id = 0xBEEF
	m.CheckingDisabled = true
	var q wireQuery
	if !parseWireQuery(packQuery(t, m), 1, &q) {
		t.Fatal("plain query rejected")
	}
	if q.id != 0xBEEF || q.qtype != dns.TypeA || q.edns != ednsNone || q.udpSize != 512 || q.rdcd != flagRD|flagCD {
		t.Errorf("parsed %+v", q)
	}
	wantKey := append([]byte("\x03mx1\x07example\x03com\x00"), 0, 1, 2, byte(ednsNone))
	if !bytes.Equal(q.key[:q.keyLen], wantKey) {
		t.Errorf("key %q, want %q", q.key[:q.keyLen], wantKey)
	}

	m.SetEdns0(4096, true)
	m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0102030405060708"})
	// 4096 is capped at the size we advertise, as Knot and NSD cap it.
	if !parseWireQuery(packQuery(t, m), -1, &q) || q.edns != ednsDO || q.udpSize != ednsSize {
		t.Errorf("EDNS query with DO and a cookie: parsed %+v", q)
	}
	m.IsEdns0().SetUDPSize(600)
	if !parseWireQuery(packQuery(t, m), -1, &q) || q.udpSize != 600 {
		t.Errorf("EDNS query for 600 octets: parsed %+v", q)
	}
}

func TestParseWireQueryLeavesTheRestToTheGeneralPath(t *testing.T) {
	base := func() *dns.Msg {
		m := new(dns.Msg)
		m.SetQuestion("example.com.", dns.TypeMX)
		return m
	}
	cases := map[string]func(m *dns.Msg){
		"client subnet option": func(m *dns.Msg) {
			m.SetEdns0(1232, false)
			m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 1, SourceNetmask: 24, Address: []byte{192, 0, 2, 0}})
		},
		"response":      func(m *dns.Msg) { m.Response = true },
		"notify":        func(m *dns.Msg) { m.Opcode = dns.OpcodeNotify },
		"two questions": func(m *dns.Msg) { m.Question = append(m.Question, m.Question[0]) },
		"chaos class":   func(m *dns.Msg) { m.Question[0].Qclass = dns.ClassCHAOS },
		"axfr":          func(m *dns.Msg) { m.Question[0].Qtype = dns.TypeAXFR },
		"edns version":  func(m *dns.Msg) { m.SetEdns0(1232, false); m.IsEdns0().SetVersion(1) },
		"answer record": func(m *dns.Msg) {
			rr, _ := dns.NewRR("example.com. 1 IN A 192.0.2.1")
			m.Answer = append(m.Answer, rr)
		},
		"tsig or two extras": func(m *dns.Msg) {
			m.SetEdns0(1232, false)
			rr, _ := dns.NewRR("example.com. 1 IN A 192.0.2.1")
			m.Extra = append(m.Extra, rr)
		},
	}
	for name, mutate := range cases {
		m := base()
		mutate(m)
		var q wireQuery
		if parseWireQuery(packQuery(t, m), -1, &q) {
			t.Errorf("%s: accepted by the fast path", name)
		}
	}
	var q wireQuery
	good := packQuery(t, base())
	for i := 0; i < len(good); i++ {
		if parseWireQuery(good[:i], -1, &q) {
			t.Errorf("truncated to %d bytes: accepted", i)
		}
	}
	if parseWireQuery(append(good, 0), -1, &q) {
		t.Error("trailing byte: accepted")
	}
}
