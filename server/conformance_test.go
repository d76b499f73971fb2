package server

// Conformance with RFC 8906 §8 and RFC 6891, one test per case, against
// the real server over real sockets.

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// conformanceConfig adds a name whose TXT answer is far over 512 bytes.
func conformanceConfig() string {
	var txt []string
	for i := range 20 {
		txt = append(txt, fmt.Sprintf("%q", fmt.Sprintf("record %02d %s", i, strings.Repeat("x", 50))))
	}
	return testConfig + "      big: {txt: [" + strings.Join(txt, ", ") + "]}\n"
}

func conformanceServer(t *testing.T) *Server {
	t.Helper()
	s, _, _ := startServer(t, conformanceConfig())
	return s
}

// ask sends m over network and returns the reply.
func ask(t *testing.T, s *Server, network string, m *dns.Msg) *dns.Msg {
	t.Helper()
	a := s.Addrs()[0]
	addr := a.UDP.String()
	if network == "tcp" {
		addr = a.TCP.String()
	}
	c := &dns.Client{Net: network, Timeout: 10 * time.Second, UDPSize: dns.MaxMsgSize}
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("%s %v: %v", network, m.Question, err)
	}
	if r.Id != m.Id {
		t.Fatalf("reply id %d, query id %d", r.Id, m.Id)
	}
	return r
}

func edns(m *dns.Msg, size uint16) *dns.OPT {
	m.SetEdns0(size, false)
	return m.IsEdns0()
}

func wantAnswer(t *testing.T, r *dns.Msg) {
	t.Helper()
	wantRcode(t, r, dns.RcodeSuccess)
	if !r.Authoritative || len(r.Answer) == 0 {
		t.Fatalf("want an authoritative answer, got\n%v", r)
	}
}

func TestConformancePlain(t *testing.T) {
	s := conformanceServer(t)
	r := ask(t, s, "udp", query("example.com.", dns.TypeSOA))
	wantAnswer(t, r)
	if r.IsEdns0() != nil {
		t.Errorf("reply to a query without EDNS has an OPT:\n%v", r)
	}
}

func TestConformanceEDNS0(t *testing.T) {
	s := conformanceServer(t)
	m := query("example.com.", dns.TypeSOA)
	edns(m, 4096)
	r := ask(t, s, "udp", m)
	wantAnswer(t, r)
	opt := r.IsEdns0()
	if opt == nil || opt.Version() != 0 || opt.UDPSize() != 1232 {
		t.Fatalf("want OPT version 0 size %d, got\n%v", 1232, r)
	}
}

func TestConformanceEDNSVersion1(t *testing.T) {
	s := conformanceServer(t)
	m := query("example.com.", dns.TypeSOA)
	edns(m, 4096).SetVersion(1)
	r := ask(t, s, "udp", m)
	wantRcode(t, r, dns.RcodeBadVers)
	opt := r.IsEdns0()
	if opt == nil || opt.Version() != 0 {
		t.Fatalf("BADVERS must carry OPT version 0 (RFC 6891 6.1.3), got\n%v", r)
	}
	if len(r.Answer) != 0 {
		t.Errorf("BADVERS with answers:\n%v", r)
	}
}

func TestConformanceUnknownOption(t *testing.T) {
	s := conformanceServer(t)
	m := query("example.com.", dns.TypeSOA)
	opt := edns(m, 4096)
	opt.Option = append(opt.Option, &dns.EDNS0_LOCAL{Code: 65001, Data: []byte{1, 2, 3}})
	r := ask(t, s, "udp", m)
	wantAnswer(t, r)
	if o := r.IsEdns0(); o == nil || len(o.Option) != 0 {
		t.Fatalf("unknown option must be ignored and not echoed, got\n%v", r)
	}
}

func TestConformanceUnknownFlags(t *testing.T) {
	s := conformanceServer(t)
	m := query("example.com.", dns.TypeSOA)
	opt := edns(m, 4096)
	opt.Hdr.Ttl |= 0x4000 // the first bit after DO: unassigned
	r := ask(t, s, "udp", m)
	wantAnswer(t, r)
	o := r.IsEdns0()
	if o == nil || o.Hdr.Ttl&0xffff != 0 {
		t.Fatalf("unknown EDNS flags must not be echoed, got\n%v", r)
	}
}

func TestConformanceDO(t *testing.T) {
	s := conformanceServer(t)
	m := query("example.com.", dns.TypeSOA)
	edns(m, 4096).SetDo()
	r := ask(t, s, "udp", m)
	wantAnswer(t, r)
	if o := r.IsEdns0(); o == nil || !o.Do() || o.Hdr.Ttl&0x7fff != 0 {
		t.Fatalf("want DO echoed and nothing else, got\n%v", r)
	}
}

func TestConformanceTruncation(t *testing.T) {
	s := conformanceServer(t)
	m := query("big.example.com.", dns.TypeTXT)
	edns(m, 512)
	r := ask(t, s, "udp", m)
	wantRcode(t, r, dns.RcodeSuccess)
	if !r.Truncated {
		t.Fatalf("a 1 KiB answer to a 512-byte buffer must set TC, got\n%v", r)
	}
	if n := packLen(t, r); n > 512 {
		t.Errorf("truncated reply is %d bytes, over the client's 512", n)
	}
	if r.IsEdns0() == nil {
		t.Errorf("truncated reply lost its OPT")
	}
	full := ask(t, s, "tcp", m)
	if full.Truncated || len(full.Answer) != 20 {
		t.Fatalf("over TCP want all 20 records untruncated, got TC=%v and %d", full.Truncated, len(full.Answer))
	}
}

// TestConformanceOpcode15 is genreport's opcode and opcodeflg: a request
// of an unknown opcode, with and without every header flag set, gets
// NOTIMP with none of them copied (RD, CD, AD, AA and RA are defined for
// QUERY only), and no data.
func TestConformanceOpcode15(t *testing.T) {
	s := conformanceServer(t)
	for _, flags := range []bool{false, true} {
		for _, network := range []string{"udp", "tcp"} {
			m := query("example.com.", dns.TypeSOA)
			m.Opcode = 15
			m.RecursionDesired = flags
			m.Truncated = flags
			m.RecursionAvailable = flags
			m.CheckingDisabled = flags
			m.AuthenticatedData = flags
			m.Authoritative = flags
			m.Zero = flags
			r := ask(t, s, network, m)
			wantRcode(t, r, dns.RcodeNotImplemented)
			if r.Opcode != 15 || r.RecursionDesired || r.CheckingDisabled || r.AuthenticatedData ||
				r.Authoritative || r.RecursionAvailable || r.Truncated || r.Zero || len(r.Answer) != 0 {
				t.Errorf("%s, flags %v: want NOTIMP, opcode 15, no flags, no data; got\n%v", network, flags, r)
			}
		}
	}
}

// TestRawOpcode15HeaderOnly is genreport's opcodeflg as sent: a bare
// header with every flag set and no question, which does not unpack past
// miekg/dns's checks the same way a full query does.
func TestRawOpcode15HeaderOnly(t *testing.T) {
	s := conformanceServer(t)
	// id, opcode 15 with AA TC RD, then RA Z AD CD; no sections.
	b := []byte{0x12, 0x34, 15<<3 | 0x07, 0xf0, 0, 0, 0, 0, 0, 0, 0, 0}
	out := rawUDP(t, s, b, nil)
	if len(out) != 12 {
		t.Fatalf("want a bare header, got %x", out)
	}
	if out[0] != 0x12 || out[1] != 0x34 || out[2] != 0x80|15<<3 || out[3] != dns.RcodeNotImplemented {
		t.Fatalf("want id 1234, QR, opcode 15, NOTIMP and no other flag, got %x", out)
	}
}

func TestConformanceUnknownType(t *testing.T) {
	s := conformanceServer(t)
	r := ask(t, s, "udp", query("example.com.", 666))
	wantRcode(t, r, dns.RcodeSuccess)
	if !r.Authoritative || len(r.Answer) != 0 || len(r.Ns) != 1 || r.Ns[0].Header().Rrtype != dns.TypeSOA {
		t.Fatalf("type 666 wants NODATA (AA, SOA in authority), got\n%v", r)
	}
}

// TestConformanceHeaderFlags: AD, CD, RA and Z in a query do not change the
// answer. CD is copied (RFC 4035 3.1.6, as BIND and NSD do); AD is not set
// by a server that does not validate (RFC 6840 5.7 lets it reflect a
// client's AD only for authenticated data, and nothing here is signed);
// RA stays clear (no recursion); Z is zero (RFC 1035 4.1.1).
func TestConformanceHeaderFlags(t *testing.T) {
	s := conformanceServer(t)
	m := query("example.com.", dns.TypeSOA)
	m.AuthenticatedData = true
	m.CheckingDisabled = true
	m.RecursionAvailable = true
	m.Zero = true
	r := ask(t, s, "udp", m)
	wantAnswer(t, r)
	if r.AuthenticatedData || !r.CheckingDisabled || r.RecursionAvailable || r.Zero {
		t.Fatalf("want AD=0 CD=1 RA=0 Z=0, got\n%v", r)
	}
}

// TestConformanceTCP sends several queries on one connection before reading
// any answer: RFC 7766 pipelining, answered in order.
func TestConformanceTCP(t *testing.T) {
	s := conformanceServer(t)
	conn, err := dns.Dial("tcp", s.Addrs()[0].TCP.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	names := []string{"example.com.", "mx1.example.com.", "mx2.example.com.", "nope.example.com."}
	var ids []uint16
	for _, n := range names {
		m := query(n, dns.TypeA)
		ids = append(ids, m.Id)
		if err := conn.WriteMsg(m); err != nil {
			t.Fatal(err)
		}
	}
	for i, n := range names {
		r, err := conn.ReadMsg()
		if err != nil {
			t.Fatalf("reply %d: %v", i, err)
		}
		if r.Id != ids[i] || !strings.EqualFold(r.Question[0].Name, n) {
			t.Fatalf("reply %d is for %v (id %d), want %s (id %d)", i, r.Question, r.Id, n, ids[i])
		}
	}
}

// TestConformanceNSIDAndCookie: mxdns implements neither NSID (RFC 5001)
// nor server cookies (RFC 7873); both options are ignored as the RFCs allow
// (RFC 5001 3, RFC 7873 5.2): answered normally, nothing echoed.
func TestConformanceNSIDAndCookie(t *testing.T) {
	s := conformanceServer(t)
	for _, o := range []dns.EDNS0{
		&dns.EDNS0_NSID{Code: dns.EDNS0NSID},
		&dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0102030405060708"},
		&dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0102030405060708" + "1112131415161718"},
	} {
		for _, network := range []string{"udp", "tcp"} {
			m := query("example.com.", dns.TypeSOA)
			opt := edns(m, 4096)
			opt.Option = append(opt.Option, o)
			r := ask(t, s, network, m)
			wantAnswer(t, r)
			if ro := r.IsEdns0(); ro == nil || len(ro.Option) != 0 {
				t.Fatalf("%s %v: want an OPT without options, got\n%v", network, o, r)
			}
		}
	}
}
