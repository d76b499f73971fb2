package server

import (
	"testing"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/zone"
)

// packetReply is the packet path as the listeners run it, without sockets:
// what miekg/dns and the UDP gate drop gives no reply, what does not parse
// is left to miekg/dns's FORMERR, everything else is answered by reply and
// cut to the transport by fit.
func packetReply(b []byte, udp bool, lookup func(dns.Question) zone.Result) *dns.Msg {
	if len(b) < headerLen || b[2]&0x80 != 0 {
		return nil
	}
	req := new(dns.Msg)
	if err := req.Unpack(b); err != nil {
		return nil
	}
	resp := reply(req, lookup)
	fit(resp, req, udp)
	return resp
}

// FuzzPacket: any datagram gets no reply or one that packs within the
// client's size, unpacks again and answers the query's id.
func FuzzPacket(f *testing.F) {
	snap, diags := zone.FromYAML("fuzz.yaml", []byte(conformanceConfig()), nil)
	if err := diags.Err(); err != nil {
		f.Fatal(err)
	}
	lookup := func(q dns.Question) zone.Result {
		return snap.Lookup(q, zone.Client{Link: zone.NoLink, Up: zone.AllLinks})
	}
	for _, m := range seedQueries() {
		b, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, true)
	}
	f.Fuzz(func(t *testing.T, b []byte, udp bool) {
		resp := packetReply(b, udp, lookup)
		if resp == nil {
			return
		}
		out, err := resp.Pack()
		if err != nil {
			t.Fatalf("reply does not pack: %v\n%v", err, resp)
		}
		req := new(dns.Msg)
		req.Unpack(b)
		if udp && len(out) > clientSize(req) {
			t.Fatalf("UDP reply of %d bytes, client takes %d", len(out), clientSize(req))
		}
		back := new(dns.Msg)
		if err := back.Unpack(out); err != nil {
			t.Fatalf("reply does not unpack: %v\n%v", err, resp)
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
