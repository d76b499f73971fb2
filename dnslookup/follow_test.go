package dnslookup

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

// reply is one canned response: an rcode and answer records in
// presentation form, or no response at all (err).
type reply struct {
	rcode int
	rrs   []string
	err   error
}

// fake answers "name TYPE" questions from a table, NXDOMAIN for any not
// in it, and counts what it is asked.
type fake struct {
	t       *testing.T
	replies map[string]reply
	mu      sync.Mutex
	asked   map[string]int
}

func newFake(t *testing.T, replies map[string]reply) *fake {
	return &fake{t: t, replies: replies, asked: map[string]int{}}
}

func (f *fake) exchange(_ context.Context, q *dns.Msg) (*dns.Msg, error) {
	qq := q.Question[0]
	key := qq.Name + " " + dns.TypeToString[qq.Qtype]
	f.mu.Lock()
	f.asked[key]++
	f.mu.Unlock()
	if opt := q.IsEdns0(); !q.RecursionDesired || opt == nil || opt.UDPSize() != 1232 {
		f.t.Errorf("%s: asked without RD or EDNS0 1232:\n%v", key, q)
	}
	rep, ok := f.replies[key]
	if !ok {
		rep = reply{rcode: dns.RcodeNameError}
	}
	if rep.err != nil {
		return nil, rep.err
	}
	m := new(dns.Msg)
	m.SetRcode(q, rep.rcode)
	for _, s := range rep.rrs {
		rr, err := dns.NewRR(s)
		if err != nil {
			f.t.Fatalf("%s: %v", s, err)
		}
		m.Answer = append(m.Answer, rr)
	}
	return m, nil
}

var errTimeout = errors.New("i/o timeout")

// chain is n CNAMEs from c0.test to cN.test, all in one answer, and an
// address at the end.
func chain(n int) map[string]reply {
	var rrs []string
	for i := range n {
		rrs = append(rrs, fmt.Sprintf("c%d.test. CNAME c%d.test.", i, i+1))
	}
	rrs = append(rrs, fmt.Sprintf("c%d.test. A 192.0.2.1", n))
	return map[string]reply{"c0.test. A": {rrs: rrs}}
}

func TestFollow(t *testing.T) {
	tests := []struct {
		name    string
		replies map[string]reply
		ask     string
		qtype   uint16
		err     string // the Err's text; "" for none
		rcode   int
		final   string
		chain   []string
		rrs     int
		asked   int // questions sent
	}{
		{name: "records at the name", ask: "A.test", qtype: dns.TypeA, replies: map[string]reply{
			"a.test. A": {rrs: []string{"a.test. A 192.0.2.1", "a.test. A 192.0.2.2"}},
		}, final: "a.test.", rrs: 2, asked: 1},
		{name: "nodata", ask: "a.test.", qtype: dns.TypeMX, replies: map[string]reply{
			"a.test. MX": {},
		}, final: "a.test.", asked: 1},
		{name: "CNAME inside one answer", ask: "www.a.test", qtype: dns.TypeA, replies: map[string]reply{
			"www.a.test. A": {rrs: []string{"host.a.test. A 192.0.2.1", "www.a.test. CNAME host.a.test."}},
		}, final: "host.a.test.", chain: []string{"host.a.test."}, rrs: 1, asked: 1},
		{name: "CNAME needing a second question", ask: "www.a.test", qtype: dns.TypeA, replies: map[string]reply{
			"www.a.test. A":  {rrs: []string{"www.a.test. CNAME mail.b.test."}},
			"mail.b.test. A": {rrs: []string{"mail.b.test. A 192.0.2.1"}},
		}, final: "mail.b.test.", chain: []string{"mail.b.test."}, rrs: 1, asked: 2},
		{name: "chain partly in the first answer", ask: "x.a.test", qtype: dns.TypeTXT, replies: map[string]reply{
			"x.a.test. TXT": {rrs: []string{"x.a.test. CNAME y.a.test.", "y.a.test. CNAME z.b.test."}},
			"z.b.test. TXT": {rrs: []string{"z.b.test. CNAME w.b.test.", `w.b.test. TXT "v=spf1 -all"`}},
		}, final: "w.b.test.", chain: []string{"y.a.test.", "z.b.test.", "w.b.test."}, rrs: 1, asked: 2},
		{name: "a question for the CNAME itself", ask: "www.a.test", qtype: dns.TypeCNAME, replies: map[string]reply{
			"www.a.test. CNAME": {rrs: []string{"www.a.test. CNAME host.a.test."}},
		}, final: "www.a.test.", rrs: 1, asked: 1},
		{name: "chain of eight", ask: "c0.test", qtype: dns.TypeA, replies: chain(8),
			final: "c8.test.", chain: []string{"c1.test.", "c2.test.", "c3.test.", "c4.test.", "c5.test.", "c6.test.", "c7.test.", "c8.test."}, rrs: 1, asked: 1},
		{name: "chain of nine", ask: "c0.test", qtype: dns.TypeA, replies: chain(9),
			err: "c0.test A: CNAME chain longer than 8", asked: 1},
		{name: "loop inside one answer", ask: "a.test", qtype: dns.TypeA, replies: map[string]reply{
			"a.test. A": {rrs: []string{"a.test. CNAME b.test.", "b.test. CNAME a.test."}},
		}, err: "a.test A: CNAME chain longer than 8", asked: 1},
		{name: "loop across questions", ask: "a.test", qtype: dns.TypeA, replies: map[string]reply{
			"a.test. A": {rrs: []string{"a.test. CNAME b.test."}},
			"b.test. A": {rrs: []string{"b.test. CNAME a.test."}},
		}, err: "a.test A: CNAME chain longer than 8", asked: 9},
		{name: "NXDOMAIN at the end of a chain", ask: "www.a.test", qtype: dns.TypeA, replies: map[string]reply{
			"www.a.test. A": {rcode: dns.RcodeNameError, rrs: []string{"www.a.test. CNAME gone.a.test."}},
		}, rcode: dns.RcodeNameError, final: "gone.a.test.", chain: []string{"gone.a.test."}, asked: 1},
		{name: "NXDOMAIN for the target asked again", ask: "www.a.test", qtype: dns.TypeA, replies: map[string]reply{
			"www.a.test. A": {rrs: []string{"www.a.test. CNAME gone.b.test."}},
		}, rcode: dns.RcodeNameError, final: "gone.b.test.", chain: []string{"gone.b.test."}, asked: 2},
		{name: "REFUSED", ask: "a.other", qtype: dns.TypeA, replies: map[string]reply{
			"a.other. A": {rcode: dns.RcodeRefused},
		}, rcode: dns.RcodeRefused, final: "a.other.", asked: 1},
		{name: "SERVFAIL for the target", ask: "www.a.test", qtype: dns.TypeA, replies: map[string]reply{
			"www.a.test. A":  {rrs: []string{"www.a.test. CNAME host.b.test."}},
			"host.b.test. A": {rcode: dns.RcodeServerFailure},
		}, rcode: dns.RcodeServerFailure, final: "host.b.test.", chain: []string{"host.b.test."}, asked: 2},
		{name: "network error", ask: "a.test", qtype: dns.TypeMX, replies: map[string]reply{
			"a.test. MX": {err: errTimeout},
		}, err: "a.test MX: i/o timeout", final: "a.test.", asked: 1},
		{name: "network error for the target", ask: "www.a.test", qtype: dns.TypeA, replies: map[string]reply{
			"www.a.test. A":  {rrs: []string{"www.a.test. CNAME host.b.test."}},
			"host.b.test. A": {err: errTimeout},
		}, err: "host.b.test A: i/o timeout", final: "host.b.test.", chain: []string{"host.b.test."}, asked: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, tc.replies)
			a := Follow(context.Background(), f.exchange, tc.ask, tc.qtype)
			asked := 0
			for _, n := range f.asked {
				asked += n
			}
			if asked != tc.asked {
				t.Errorf("asked %d questions, want %d: %v", asked, tc.asked, f.asked)
			}
			if tc.err != "" {
				if a.Err == nil || a.Err.Error() != tc.err {
					t.Fatalf("Err %v, want %q", a.Err, tc.err)
				}
				if strings.Contains(tc.err, "chain") != errors.Is(a.Err, ErrLongChain) {
					t.Errorf("errors.Is(%v, ErrLongChain) is wrong", a.Err)
				}
				if strings.Contains(tc.err, "timeout") && !errors.Is(a.Err, errTimeout) {
					t.Errorf("Err %v does not wrap the exchange's", a.Err)
				}
				if tc.final != "" && a.Final != tc.final {
					t.Errorf("Final %s, want %s", a.Final, tc.final)
				}
				return
			}
			if a.Err != nil {
				t.Fatal(a.Err)
			}
			if a.Rcode != tc.rcode || a.Final != tc.final || !slices.Equal(a.Chain, tc.chain) || len(a.RRs) != tc.rrs {
				t.Errorf("rcode %s, final %s, chain %v, %d records; want %s, %s, %v, %d",
					dns.RcodeToString[a.Rcode], a.Final, a.Chain, len(a.RRs), dns.RcodeToString[tc.rcode], tc.final, tc.chain, tc.rrs)
			}
			for _, rr := range a.RRs {
				if rr.Header().Rrtype != tc.qtype || dns.CanonicalName(rr.Header().Name) != a.Final {
					t.Errorf("record %v is not a %s at %s", rr, dns.TypeToString[tc.qtype], a.Final)
				}
			}
			if a.Msg == nil || a.Msg.Rcode != a.Rcode {
				t.Errorf("Msg is not the last response: %v", a.Msg)
			}
		})
	}
}

func TestFollowEmptyResponse(t *testing.T) {
	ex := func(context.Context, *dns.Msg) (*dns.Msg, error) { return nil, nil }
	a := Follow(context.Background(), ex, "a.test", dns.TypeA)
	if a.Err == nil || a.Err.Error() != "a.test A: empty response" {
		t.Errorf("Err %v", a.Err)
	}
}
