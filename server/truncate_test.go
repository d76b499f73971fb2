package server

import (
	"fmt"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// TestTruncate pins the size policy found by comparing with Knot and NSD
// (cmd/mxdns-compare): what may be cut, and when TC is set.
func TestTruncate(t *testing.T) {
	rr := func(s string) dns.RR {
		r, err := dns.NewRR(s)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	// mx: 14 MX whose targets' addresses overflow 512 octets.
	mx := func() *dns.Msg {
		m := new(dns.Msg)
		m.SetQuestion("bigmx.mail.test.", dns.TypeMX)
		m.Response, m.Authoritative = true, true
		for i := 1; i <= 14; i++ {
			m.Answer = append(m.Answer, rr(fmt.Sprintf("bigmx.mail.test. 300 IN MX 10 m%02d.big.mail.test.", i)))
			m.Extra = append(m.Extra,
				rr(fmt.Sprintf("m%02d.big.mail.test. 300 IN A 192.0.2.%d", i, i)),
				rr(fmt.Sprintf("m%02d.big.mail.test. 300 IN AAAA 2001:db8::%d", i, i)))
		}
		return m
	}
	// referral: 13 name servers inside the child, each with glue.
	referral := func(qname string) *dns.Msg {
		m := new(dns.Msg)
		m.SetQuestion(qname, dns.TypeA)
		m.Response = true
		for i := 1; i <= 13; i++ {
			ns := fmt.Sprintf("name-server-%02d.big-delegation.parent.test.", i)
			m.Ns = append(m.Ns, rr("big-delegation.parent.test. 3600 IN NS "+ns))
			m.Extra = append(m.Extra, rr(fmt.Sprintf("%s 3600 IN A 198.51.100.%d", ns, i)), rr(fmt.Sprintf("%s 3600 IN AAAA 2001:db8::%d", ns, i)))
		}
		return m
	}
	tests := []struct {
		name      string
		msg       *dns.Msg
		size      int
		tc        bool
		answers   int
		authority int
	}{
		{"fits: untouched", mx(), dns.MaxMsgSize, false, 14, 0},
		// RFC 2181 §9: additional data left out is no reason for TC.
		{"additional cut without TC", mx(), dns.MinMsgSize, false, 14, 0},
		// RFC 9471 §3: in-domain glue that does not fit sets TC.
		{"referral glue cut with TC", referral("www.big-delegation.parent.test."), dns.MinMsgSize, true, 0, 13},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			full := len(tt.msg.Extra)
			truncate(tt.msg, tt.size)
			if n := packLen(t, tt.msg); n > tt.size {
				t.Errorf("%d octets, want at most %d", n, tt.size)
			}
			if tt.msg.Truncated != tt.tc || len(tt.msg.Answer) != tt.answers || len(tt.msg.Ns) != tt.authority {
				t.Errorf("TC %v, %d answers, %d authority; want TC %v, %d, %d",
					tt.msg.Truncated, len(tt.msg.Answer), len(tt.msg.Ns), tt.tc, tt.answers, tt.authority)
			}
			if tt.size < dns.MaxMsgSize && (len(tt.msg.Extra) == 0 || len(tt.msg.Extra) == full) {
				t.Errorf("%d of %d additional records kept, want some but not all", len(tt.msg.Extra), full)
			}
		})
	}

	t.Run("answer too large: TC and nothing else", func(t *testing.T) {
		m := mx()
		m.SetEdns0(ednsSize, false)
		truncate(m, 100)
		if !m.Truncated || len(m.Answer)+len(m.Ns) != 0 || len(m.Extra) != 1 || m.IsEdns0() == nil {
			t.Errorf("TC %v, %d answers, %d authority, %d additional; want TC, only the OPT", m.Truncated, len(m.Answer), len(m.Ns), len(m.Extra))
		}
	})
	t.Run("later small records fill the space left", func(t *testing.T) {
		m := mx()
		// A large record first: it does not fit, the A records after it do.
		m.Extra = append([]dns.RR{rr(`big.mail.test. 300 IN TXT "` + strings.Repeat("x", 250) + `"`)}, m.Extra...)
		truncate(m, dns.MinMsgSize)
		if len(m.Extra) == 0 || m.Extra[0].Header().Rrtype == dns.TypeTXT {
			t.Errorf("additional %v, want addresses after the TXT that did not fit", m.Extra)
		}
	})
}
