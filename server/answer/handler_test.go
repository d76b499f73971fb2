package answer

import (
	"fmt"
	"testing"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/zone"
)

// fakeLookup answers every name with one A record, or with n of them for
// names starting with "big", so tests need no zone model.
func fakeLookup(t *testing.T) func(dns.Question) zone.Result {
	return func(q dns.Question) zone.Result {
		t.Helper()
		n := 1
		if len(q.Name) >= 3 && q.Name[:3] == "big" {
			n = 100
		}
		var ans []dns.RR
		for i := range n {
			rr, err := dns.NewRR(fmt.Sprintf("%s 300 IN A 192.0.2.%d", q.Name, i%250+1))
			if err != nil {
				t.Fatal(err)
			}
			// Distinct TXT data keeps every record distinct and large.
			ans = append(ans, rr)
			if n > 1 {
				txt, _ := dns.NewRR(fmt.Sprintf(`%s 300 IN TXT "record %03d padding padding padding"`, q.Name, i))
				ans = append(ans, txt)
			}
		}
		return zone.Result{Rcode: dns.RcodeSuccess, Authoritative: true, Answer: ans}
	}
}

func query(name string, qtype uint16) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.RecursionDesired = false
	return m
}

func TestReply(t *testing.T) {
	tests := []struct {
		name  string
		req   func() *dns.Msg
		udp   bool
		check func(t *testing.T, req, resp *dns.Msg)
	}{
		{"two questions is FORMERR", func() *dns.Msg {
			m := query("example.com.", dns.TypeA)
			m.Question = append(m.Question, dns.Question{Name: "example.org.", Qtype: dns.TypeA, Qclass: dns.ClassINET})
			return m
		}, true, func(t *testing.T, _, r *dns.Msg) {
			wantRcode(t, r, dns.RcodeFormatError)
		}},
		{"no question is FORMERR", func() *dns.Msg {
			m := query("example.com.", dns.TypeA)
			m.Question = nil
			return m
		}, true, func(t *testing.T, _, r *dns.Msg) {
			wantRcode(t, r, dns.RcodeFormatError)
		}},
		{"UPDATE is NOTIMP", func() *dns.Msg {
			m := query("example.com.", dns.TypeSOA)
			m.Opcode = dns.OpcodeUpdate
			return m
		}, true, func(t *testing.T, _, r *dns.Msg) {
			wantRcode(t, r, dns.RcodeNotImplemented)
			if r.Opcode != dns.OpcodeUpdate {
				t.Errorf("opcode %d, want UPDATE echoed", r.Opcode)
			}
		}},
		{"opcode 15 is NOTIMP", func() *dns.Msg {
			m := query("example.com.", dns.TypeA)
			m.Opcode = 15
			return m
		}, true, func(t *testing.T, _, r *dns.Msg) {
			wantRcode(t, r, dns.RcodeNotImplemented)
		}},
		{"EDNS version 1 is BADVERS", func() *dns.Msg {
			m := query("example.com.", dns.TypeA)
			m.SetEdns0(4096, false)
			m.IsEdns0().SetVersion(1)
			return m
		}, true, func(t *testing.T, _, r *dns.Msg) {
			wantRcode(t, r, dns.RcodeBadVers)
			opt := r.IsEdns0()
			if opt == nil || opt.Version() != 0 {
				t.Fatalf("want OPT version 0, got %v", opt)
			}
			if len(r.Answer) != 0 {
				t.Errorf("BADVERS with %d answers", len(r.Answer))
			}
		}},
		{"OPT echoed with 1232 and DO, no options", func() *dns.Msg {
			m := query("example.com.", dns.TypeA)
			m.SetEdns0(4096, true)
			m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_NSID{Code: dns.EDNS0NSID})
			return m
		}, true, func(t *testing.T, _, r *dns.Msg) {
			wantRcode(t, r, dns.RcodeSuccess)
			opt := r.IsEdns0()
			if opt == nil {
				t.Fatal("no OPT in reply")
			}
			if opt.UDPSize() != 1232 || !opt.Do() || opt.Version() != 0 || len(opt.Option) != 0 {
				t.Errorf("OPT size %d do %v version %d options %d", opt.UDPSize(), opt.Do(), opt.Version(), len(opt.Option))
			}
		}},
		{"DO clear stays clear", func() *dns.Msg {
			m := query("example.com.", dns.TypeA)
			m.SetEdns0(1400, false)
			return m
		}, true, func(t *testing.T, _, r *dns.Msg) {
			if opt := r.IsEdns0(); opt == nil || opt.Do() {
				t.Errorf("OPT %v, want DO clear", opt)
			}
		}},
		{"no OPT without EDNS", func() *dns.Msg { return query("example.com.", dns.TypeA) }, true,
			func(t *testing.T, _, r *dns.Msg) {
				if r.IsEdns0() != nil {
					t.Error("OPT in reply to a query without")
				}
			}},
		{"CH class is REFUSED", func() *dns.Msg {
			m := query("version.bind.", dns.TypeTXT)
			m.Question[0].Qclass = dns.ClassCHAOS
			return m
		}, true, func(t *testing.T, _, r *dns.Msg) {
			wantRcode(t, r, dns.RcodeRefused)
			if r.Authoritative {
				t.Error("AA set on REFUSED")
			}
		}},
		{"ANY class is REFUSED", func() *dns.Msg {
			m := query("example.com.", dns.TypeA)
			m.Question[0].Qclass = dns.ClassANY
			return m
		}, true, func(t *testing.T, _, r *dns.Msg) { wantRcode(t, r, dns.RcodeRefused) }},
		{"AXFR is REFUSED", func() *dns.Msg { return query("example.com.", dns.TypeAXFR) }, false,
			func(t *testing.T, _, r *dns.Msg) { wantRcode(t, r, dns.RcodeRefused) }},
		{"IXFR is REFUSED", func() *dns.Msg { return query("example.com.", dns.TypeIXFR) }, false,
			func(t *testing.T, _, r *dns.Msg) { wantRcode(t, r, dns.RcodeRefused) }},
		{"large answer over UDP is truncated to 512", func() *dns.Msg { return query("big.example.com.", dns.TypeA) }, true,
			func(t *testing.T, _, r *dns.Msg) {
				if !r.Truncated {
					t.Error("TC clear")
				}
				if n := packLen(t, r); n > 512 {
					t.Errorf("UDP reply of %d bytes", n)
				}
			}},
		{"large answer within EDNS size", func() *dns.Msg {
			m := query("big.example.com.", dns.TypeA)
			m.SetEdns0(1232, false)
			return m
		}, true, func(t *testing.T, _, r *dns.Msg) {
			// Like Knot and NSD: no partial RRset, TC, the OPT kept.
			if !r.Truncated || len(r.Answer) != 0 {
				t.Errorf("TC %v with %d answers, want TC and none", r.Truncated, len(r.Answer))
			}
			if r.IsEdns0() == nil {
				t.Error("OPT lost in truncation")
			}
		}},
		{"EDNS size below 512 counts as 512", func() *dns.Msg {
			m := query("big.example.com.", dns.TypeA)
			m.SetEdns0(100, false)
			return m
		}, true, func(t *testing.T, _, r *dns.Msg) {
			if n := packLen(t, r); n > 512 || !r.Truncated {
				t.Errorf("UDP reply of %d bytes, TC %v; want at most 512 and TC", n, r.Truncated)
			}
		}},
		{"large answer over TCP is whole", func() *dns.Msg { return query("big.example.com.", dns.TypeA) }, false,
			func(t *testing.T, _, r *dns.Msg) {
				if r.Truncated || len(r.Answer) != 200 {
					t.Errorf("TC %v with %d answers, want 200", r.Truncated, len(r.Answer))
				}
			}},
		{"RA clear, RD echoed", func() *dns.Msg {
			m := query("example.com.", dns.TypeA)
			m.RecursionDesired = true
			return m
		}, true, func(t *testing.T, _, r *dns.Msg) {
			if r.RecursionAvailable || !r.RecursionDesired {
				t.Errorf("RA %v RD %v", r.RecursionAvailable, r.RecursionDesired)
			}
		}},
		{"RD clear stays clear", func() *dns.Msg { return query("example.com.", dns.TypeA) }, true,
			func(t *testing.T, _, r *dns.Msg) {
				if r.RecursionDesired || r.RecursionAvailable {
					t.Errorf("RA %v RD %v", r.RecursionAvailable, r.RecursionDesired)
				}
			}},
		{"question case preserved", func() *dns.Msg { return query("ExAmPlE.CoM.", dns.TypeMX) }, true,
			func(t *testing.T, req, r *dns.Msg) {
				if len(r.Question) != 1 || r.Question[0] != req.Question[0] {
					t.Errorf("question %v, want %v", r.Question, req.Question)
				}
			}},
		{"answer gets AA, id and QR", func() *dns.Msg { return query("example.com.", dns.TypeA) }, true,
			func(t *testing.T, req, r *dns.Msg) {
				wantRcode(t, r, dns.RcodeSuccess)
				if !r.Authoritative || !r.Response || r.Id != req.Id || len(r.Answer) != 1 {
					t.Errorf("AA %v QR %v id %d/%d answers %d", r.Authoritative, r.Response, r.Id, req.Id, len(r.Answer))
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := roundTrip(t, tt.req())
			resp := reply(req, fakeLookup(t))
			fit(resp, req, tt.udp, nil)
			tt.check(t, req, roundTrip(t, resp))
		})
	}
}

// roundTrip packs and unpacks m, as the wire would, so extended rcodes and
// compression are exercised.
func roundTrip(t *testing.T, m *dns.Msg) *dns.Msg {
	t.Helper()
	b, err := m.Pack()
	if err != nil {
		t.Fatalf("pack: %v", err)
	}
	out := new(dns.Msg)
	if err := out.Unpack(b); err != nil {
		t.Fatalf("unpack: %v", err)
	}
	return out
}

func packLen(t *testing.T, m *dns.Msg) int {
	t.Helper()
	// Unpacked messages forget compression; the server always packs with it.
	m.Compress = true
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return len(b)
}

func wantRcode(t *testing.T, r *dns.Msg, rcode int) {
	t.Helper()
	if r.Rcode != rcode {
		t.Errorf("rcode %s, want %s", dns.RcodeToString[r.Rcode], dns.RcodeToString[rcode])
	}
}
