package answer

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// TestTruncate pins the policy on messages made by hand: which RRsets
// stay, in what order of preference, and when TC is set.
func TestTruncate(t *testing.T) {
	rr := func(s string) dns.RR {
		r, err := dns.NewRR(s)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	// mx: 14 MX whose targets' addresses overflow 512 octets; each
	// target has two A records, so a split RRset is visible.
	mx := func() *dns.Msg {
		m := new(dns.Msg)
		m.SetQuestion("bigmx.mail.test.", dns.TypeMX)
		m.Response, m.Authoritative = true, true
		for i := 1; i <= 14; i++ {
			m.Answer = append(m.Answer, rr(fmt.Sprintf("bigmx.mail.test. 300 IN MX 10 m%02d.big.mail.test.", i)))
			m.Extra = append(m.Extra,
				rr(fmt.Sprintf("m%02d.big.mail.test. 300 IN A 192.0.2.%d", i, i)),
				rr(fmt.Sprintf("m%02d.big.mail.test. 300 IN A 192.0.2.%d", i, 100+i)),
				rr(fmt.Sprintf("m%02d.big.mail.test. 300 IN AAAA 2001:db8::%d", i, i)))
		}
		return m
	}
	// referral: 13 name servers, each with glue; inside the child when
	// in is true, beside it (sibling glue) otherwise.
	referral := func(in bool) *dns.Msg {
		m := new(dns.Msg)
		m.SetQuestion("www.big-delegation.parent.test.", dns.TypeA)
		m.Response = true
		for i := 1; i <= 13; i++ {
			ns := fmt.Sprintf("name-server-%02d.big-delegation.parent.test.", i)
			if !in {
				ns = fmt.Sprintf("name-server-%02d.parent.test.", i)
			}
			m.Ns = append(m.Ns, rr("big-delegation.parent.test. 3600 IN NS "+ns))
			m.Extra = append(m.Extra, rr(fmt.Sprintf("%s 3600 IN A 198.51.100.%d", ns, i)), rr(fmt.Sprintf("%s 3600 IN AAAA 2001:db8::%d", ns, i)))
		}
		return m
	}
	tests := []struct {
		name string
		msg  *dns.Msg
		size int
		cut  string
		tc   bool
		sets int // additional RRsets kept
	}{
		{"fits: untouched", mx(), dns.MaxMsgSize, "", false, 28},
		// RFC 2181 §9: additional data left out is no reason for TC.
		{"additional cut without TC", mx(), dns.MinMsgSize, "", false, 6},
		// RFC 9471 §3: in-domain glue that does not fit sets TC.
		{"referral glue cut with TC", referral(true), dns.MinMsgSize, "big-delegation.parent.test.", true, 4},
		// RFC 9471 §3.2: sibling glue is optional.
		{"sibling glue cut without TC", referral(false), dns.MinMsgSize, "big-delegation.parent.test.", false, 4},
		// Not a referral: the same glue is optional.
		{"no cut, no TC", referral(true), dns.MinMsgSize, "", false, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			full := tt.msg.Copy()
			if _, _, err := truncate(tt.msg, tt.size, tt.cut); err != nil {
				t.Fatal(err)
			}
			if n := packLen(t, tt.msg); n > tt.size {
				t.Errorf("%d octets, want at most %d", n, tt.size)
			}
			if tt.msg.Truncated != tt.tc || !slices.EqualFunc(tt.msg.Answer, full.Answer, sameRR) || !slices.EqualFunc(tt.msg.Ns, full.Ns, sameRR) {
				t.Errorf("TC %v, %d answers, %d authority; want TC %v, %d, %d",
					tt.msg.Truncated, len(tt.msg.Answer), len(tt.msg.Ns), tt.tc, len(full.Answer), len(full.Ns))
			}
			if n := len(setsOf(tt.msg.Extra)); n != tt.sets {
				t.Errorf("%d additional RRsets kept, want %d:\n%v", n, tt.sets, tt.msg)
			}
			checkWholeSets(t, tt.msg, full, tt.size, tt.cut)
		})
	}

	t.Run("in-domain glue goes first", func(t *testing.T) {
		// Sibling glue listed first must not crowd out in-domain glue.
		in, sib := referral(true), referral(false)
		m := in.Copy()
		m.Ns = append(sib.Ns[:6:6], in.Ns[:2]...)
		m.Extra = append(sib.Extra[:12:12], in.Extra[:4]...)
		truncate(m, 400, "big-delegation.parent.test.")
		if m.Truncated || !missingNone(setsOf(in.Extra[:4]), setsOf(m.Extra)) {
			t.Errorf("TC %v; want all in-domain glue kept and no TC:\n%v", m.Truncated, m)
		}
	})
	t.Run("answer too large: TC and nothing else", func(t *testing.T) {
		m := mx()
		m.SetEdns0(ednsSize, false)
		truncate(m, 100, "")
		if !m.Truncated || len(m.Answer)+len(m.Ns) != 0 || len(m.Extra) != 1 || m.IsEdns0() == nil {
			t.Errorf("TC %v, %d answers, %d authority, %d additional; want TC, only the OPT", m.Truncated, len(m.Answer), len(m.Ns), len(m.Extra))
		}
	})
	t.Run("later hosts fill the space left", func(t *testing.T) {
		m := mx()
		// A large record first: it does not fit, the addresses after it do.
		m.Extra = append([]dns.RR{rr(`big.mail.test. 300 IN TXT "` + strings.Repeat("x", 250) + `"`)}, m.Extra...)
		full := m.Copy()
		truncate(m, dns.MinMsgSize, "")
		if len(m.Extra) == 0 || m.Extra[0].Header().Rrtype == dns.TypeTXT {
			t.Errorf("additional %v, want addresses after the TXT that did not fit", m.Extra)
		}
		checkWholeSets(t, m, full, dns.MinMsgSize, "")
	})
}

// missingNone reports whether every set of want is in have.
func missingNone(want, have map[string][]dns.RR) bool {
	for k := range want {
		if _, ok := have[k]; !ok {
			return false
		}
	}
	return true
}
