package server

import (
	"encoding/hex"
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// malformedQueries are queries miekg/dns unpacks that must still get
// FORMERR, each packed by hand from a good query.
func malformedQueries(t *testing.T) map[string][]byte {
	t.Helper()
	good := func() *dns.Msg {
		m := query("example.com.", dns.TypeSOA)
		m.Id = 0xabcd
		return m
	}
	pack := func(m *dns.Msg) []byte {
		b, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tsig := func(macLen int) *dns.TSIG {
		return &dns.TSIG{
			Hdr:       dns.RR_Header{Name: testKey, Rrtype: dns.TypeTSIG, Class: dns.ClassANY},
			Algorithm: dns.HmacSHA256, TimeSigned: uint64(time.Now().Unix()), Fudge: 300,
			MACSize: uint16(macLen), MAC: hex.EncodeToString(make([]byte, macLen)), OrigId: 0xabcd,
		}
	}
	out := map[string][]byte{}

	out["trailing garbage"] = append(pack(good()), 0xde, 0xad, 0xbe, 0xef)

	m := good()
	m.SetEdns0(1232, false)
	m.IsEdns0().Hdr.Name = "example.com."
	out["OPT with a non-root owner"] = pack(m)

	m = good()
	m.Extra = append(m.Extra, tsig(32))
	m.SetEdns0(1232, false) // the OPT after the TSIG
	out["TSIG not last"] = pack(m)

	m = good()
	m.Ns = append(m.Ns, tsig(32))
	out["TSIG in the authority section"] = pack(m)

	m = good()
	m.Extra = append(m.Extra, tsig(1))
	out["TSIG with a 1-byte MAC"] = pack(m)

	m = good()
	m.Extra = append(m.Extra, tsig(15))
	out["TSIG MAC under half of SHA-256"] = pack(m)

	m = good()
	m.Extra = append(m.Extra, tsig(32))
	m.Extra[0].Header().Class = dns.ClassINET
	out["TSIG of class IN"] = pack(m)

	// An empty RDATA, which miekg/dns reads as a TSIG with no algorithm.
	b := pack(good())
	b[11] = 1 // ARCOUNT
	b = append(b, 0, 0, byte(dns.TypeTSIG), 0, byte(dns.ClassANY), 0, 0, 0, 0, 0, 0)
	out["TSIG with no RDATA"] = b
	return out
}

func wantFormErr(t *testing.T, name string, out []byte) {
	t.Helper()
	r := new(dns.Msg)
	if err := r.Unpack(out); err != nil {
		t.Fatalf("%s: reply does not unpack: %v", name, err)
	}
	if r.Id != 0xabcd || !r.Response || r.Rcode != dns.RcodeFormatError || len(r.Answer) != 0 {
		t.Errorf("%s: want FORMERR for id abcd, got\n%v", name, r)
	}
}

func TestMalformedQueriesAreFormErr(t *testing.T) {
	s, _, _ := startServer(t, xfrConfig(""))
	for name, b := range malformedQueries(t) {
		t.Run(name, func(t *testing.T) {
			wantFormErr(t, "over UDP", rawUDP(t, s, b, nil))

			conn, err := net.Dial("tcp", s.Addrs()[0].TCP.String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(20 * time.Second))
			if _, err := conn.Write(append([]byte{byte(len(b) >> 8), byte(len(b))}, b...)); err != nil {
				t.Fatal(err)
			}
			raw, err := (&dns.Conn{Conn: conn}).ReadMsgHeader(nil)
			if err != nil {
				t.Fatalf("over TCP: %v", err)
			}
			wantFormErr(t, "over TCP", raw)
		})
	}
}
