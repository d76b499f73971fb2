package server

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// trimConfig is a world whose answers outgrow 512 octets in their
// additional sections only: the apex of p.test has 10 MX targets, each
// with 4 A records and 1 AAAA (the reproduction of the split-RRset bug);
// _imap._tcp has SRV targets with many addresses; "big" is a delegation
// whose 13 name servers all live inside it (in-domain glue), "sib" one
// whose name servers are the MX targets (sibling glue), and "alias" a
// CNAME into "big".
func trimConfig() string {
	var b strings.Builder
	b.WriteString("listen: [\"127.0.0.1:0\"]\nzones:\n  p.test:\n    ns: [ns1]\n    records:\n")
	var mx, srv, sib []string
	for i, h := range strings.Split("abcdefghij", "") {
		mx = append(mx, fmt.Sprintf("%q", fmt.Sprintf("%d;%s", 10*(i+1), h)))
		srv = append(srv, fmt.Sprintf("%q", fmt.Sprintf("%d 1 993 %s", i, h)))
		sib = append(sib, h)
		fmt.Fprintf(&b, "      %s: {a: [192.0.2.%d, 192.0.2.%d, 192.0.2.%d, 192.0.2.%d], aaaa: \"2001:db8::%d\"}\n",
			h, 4*i+1, 4*i+2, 4*i+3, 4*i+4, i+1)
	}
	fmt.Fprintf(&b, "      \"@\": {mx: [%s]}\n", strings.Join(mx, ", "))
	fmt.Fprintf(&b, "      _imap._tcp: {srv: [%s]}\n", strings.Join(srv, ", "))
	b.WriteString("      ns1: {a: 192.0.2.53}\n")
	var big []string
	for i := 1; i <= 13; i++ {
		ns := fmt.Sprintf("name-server-%02d.big", i)
		big = append(big, ns)
		fmt.Fprintf(&b, "      %s: {a: [198.51.100.%d, 198.51.100.%d], aaaa: \"2001:db8:1::%d\"}\n", ns, 2*i, 2*i+1, i)
	}
	fmt.Fprintf(&b, "      big: {ns: [%s]}\n", strings.Join(big, ", "))
	fmt.Fprintf(&b, "      sib: {ns: [%s]}\n", strings.Join(sib, ", "))
	b.WriteString("      alias: {cname: www.big}\n")
	return b.String()
}

// udpShapes are the UDP queries the done-when of issue 22 names: without
// EDNS, and with EDNS at 512, 1232 and 4096, each with the size the reply
// may take (4096 is capped at the 1232 we advertise).
var udpShapes = []struct {
	name  string
	edns  uint16 // 0: no EDNS
	limit int
}{{"noedns", 0, 512}, {"edns512", 512, 512}, {"edns1232", 1232, 1232}, {"edns4096", 4096, 1232}}

// TestTruncateKeepsWholeRRsets asks the real server over UDP for answers
// whose additional data does not all fit, and checks each against the
// complete answer over TCP: the answer and authority are complete, every
// additional RRset is complete, no RRset left out would have fitted, and
// TC is set exactly when in-domain glue of a referral was left out.
func TestTruncateKeepsWholeRRsets(t *testing.T) {
	s, _, _ := startServer(t, trimConfig())
	tests := []struct {
		name  string
		qtype uint16
		tc    bool   // TC when trimmed
		cut   string // the delegation a referral points at
	}{
		{"p.test.", dns.TypeMX, false, ""},
		{"_imap._tcp.p.test.", dns.TypeSRV, false, ""},
		// RFC 9471 §3: in-domain glue left out sets TC ...
		{"www.big.p.test.", dns.TypeA, true, "big.p.test."},
		// ... also after a CNAME, where AA is set.
		{"alias.p.test.", dns.TypeA, true, "big.p.test."},
		// RFC 9471 §3.2: sibling glue left out does not.
		{"www.sib.p.test.", dns.TypeA, false, "sib.p.test."},
	}
	for _, tt := range tests {
		full := ask(t, s, "tcp", withEDNS0(question(tt.name, tt.qtype), 1232))
		if full.Truncated || len(full.Extra) < 20 {
			t.Fatalf("%s over TCP: TC %v, %d additional records: the world is not big enough", tt.name, full.Truncated, len(full.Extra))
		}
		for _, sh := range udpShapes {
			t.Run(tt.name+"/"+sh.name, func(t *testing.T) {
				m := question(tt.name, tt.qtype)
				if sh.edns != 0 {
					withEDNS0(m, sh.edns)
				}
				got := ask(t, s, "udp", m)
				n := packLen(t, got)
				if n > sh.limit {
					t.Fatalf("%d octets, want at most %d", n, sh.limit)
				}
				if !slices.EqualFunc(got.Answer, full.Answer, sameRR) || !slices.EqualFunc(got.Ns, full.Ns, sameRR) {
					t.Errorf("answer or authority differ from the full reply:\n%v\nfull:\n%v", got, full)
				}
				missing := checkWholeSets(t, got, full, sh.limit, tt.cut)
				if tc := missing > 0 && tt.tc && missingInDomain(got, full); got.Truncated != tc {
					t.Errorf("TC %v with %d RRsets left out, want %v", got.Truncated, missing, tc)
				}
				if sh.limit == dns.MinMsgSize && missing == 0 {
					t.Errorf("nothing left out at %d octets: the world is not big enough", sh.limit)
				}
			})
		}
	}
}

// checkWholeSets fails unless every additional RRset of got is that of
// full, whole, and got kept what the rule keeps: full's RRsets in order
// of importance (in-domain glue of a referral to cut first), each kept
// if it fits beside those kept before it, except that a host whose RRset
// did not fit is passed over (RFC 2181 §9 leaves the choice open; this
// is Knot's). It returns how many were left out.
func checkWholeSets(t *testing.T, got, full *dns.Msg, limit int, cut string) int {
	t.Helper()
	gotSets, fullSets := setsOf(got.Extra), setsOf(full.Extra)
	missing, failed := 0, ""
	var before []dns.RR
	for _, key := range setOrder(full.Extra, cut) {
		owner := strings.Fields(key)[0]
		have, ok := gotSets[key]
		if ok && owner == failed {
			t.Errorf("%s kept after its host's earlier RRset was left out", key)
		}
		if ok {
			if !sameSet(have, fullSets[key]) {
				t.Errorf("%s split: %d of %d records\n%v", key, len(have), len(fullSets[key]), got)
			}
			before = append(before, have...)
			continue
		}
		missing++
		if owner == failed {
			continue
		}
		failed = owner
		m := got.Copy()
		m.Extra = append(slices.Clone(before), fullSets[key]...)
		if opt := got.IsEdns0(); opt != nil {
			m.Extra = append(m.Extra, opt)
		}
		if n := packLen(t, m); n <= limit {
			t.Errorf("%s left out, but beside the RRsets kept before it the reply is %d octets, within %d", key, n, limit)
		}
	}
	for key := range gotSets {
		if _, ok := fullSets[key]; !ok {
			t.Errorf("%s is not in the full reply", key)
		}
	}
	return missing
}

// setOrder lists the RRsets of rrs (OPT left out) by owner and type in
// order of importance: where each first appears, those at or below cut
// first when cut is not "".
func setOrder(rrs []dns.RR, cut string) []string {
	var in, out []string
	for _, rr := range rrs {
		if rr.Header().Rrtype == dns.TypeOPT {
			continue
		}
		key := setKey(rr)
		if slices.Contains(in, key) || slices.Contains(out, key) {
			continue
		}
		if cut != "" && dns.IsSubDomain(cut, rr.Header().Name) {
			in = append(in, key)
		} else {
			out = append(out, key)
		}
	}
	return append(in, out...)
}

func setKey(rr dns.RR) string {
	return strings.ToLower(rr.Header().Name) + " " + dns.TypeToString[rr.Header().Rrtype]
}

// missingInDomain reports whether got lacks an address RRset of full
// owned below the delegation full refers to.
func missingInDomain(got, full *dns.Msg) bool {
	cut := full.Ns[0].Header().Name
	gotSets := setsOf(got.Extra)
	for key, set := range setsOf(full.Extra) {
		if _, ok := gotSets[key]; !ok && dns.IsSubDomain(cut, set[0].Header().Name) {
			return true
		}
	}
	return false
}

// setsOf groups rrs (OPT left out) by owner and type.
func setsOf(rrs []dns.RR) map[string][]dns.RR {
	out := make(map[string][]dns.RR)
	for _, rr := range rrs {
		if rr.Header().Rrtype == dns.TypeOPT {
			continue
		}
		out[setKey(rr)] = append(out[setKey(rr)], rr)
	}
	return out
}

func sameRR(a, b dns.RR) bool { return dns.IsDuplicate(a, b) && a.Header().Ttl == b.Header().Ttl }

// sameSet reports whether a and b hold the same records, in any order.
func sameSet(a, b []dns.RR) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.ContainsFunc(b, func(y dns.RR) bool { return sameRR(x, y) }) {
			return false
		}
	}
	return true
}

func question(name string, qtype uint16) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	return m
}

func withEDNS0(m *dns.Msg, size uint16) *dns.Msg {
	m.SetEdns0(size, false)
	return m
}

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
