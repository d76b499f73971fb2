package answer

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
	s := askServer(t, trimConfig())
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
