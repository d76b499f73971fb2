package answer

import (
	"testing"

	"github.com/miekg/dns"
)

// delegationConfig has a delegation with in-domain glue and two CNAMEs
// into it, limited to one reply a second with every reply over it slipped.
const delegationConfig = `rrl: {responses_per_second: 1, slip: 1, window: 1s}
listen: ["127.0.0.1:0"]
zones:
  example.com:
    ns: [ns1]
    records:
      ns1: {a: 203.0.113.53}
      sub: {ns: [ns.sub]}
      ns.sub: {a: 192.0.2.53}
      one: {cname: www.sub}
      two: {cname: mail.sub}
`

// TestCNAMEIntoADelegationIsLimitedAsAReferral: rate limiting counts a
// referral by its delegation, and a CNAME into a delegation is one, AA
// and answer section notwithstanding (the old guess from the message's
// shape counted it as a positive answer for its own name). After one
// reply for the delegation, the next, for another CNAME into it or for a
// name below it, is over the rate and slipped.
func TestCNAMEIntoADelegationIsLimitedAsAReferral(t *testing.T) {
	s := frozenRRLServer(t, delegationConfig)
	ask := func(name string) *dns.Msg {
		t.Helper()
		var q wireQuery
		b := s.answerDatagram(s.state.Load(), packQuery(t, query(name, dns.TypeA)), "127.0.0.1:0", new(arrival), 1, fuzzPeer{}, &q, nil)
		r := new(dns.Msg)
		if err := r.Unpack(b); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return r
	}
	first := ask("one.example.com.")
	if first.Truncated || len(first.Answer) != 1 || len(first.Ns) != 1 || !first.Authoritative {
		t.Fatalf("first reply is not the CNAME with the referral:\n%v", first)
	}
	for _, name := range []string{"two.example.com.", "www.sub.example.com."} {
		if r := ask(name); !r.Truncated || len(r.Answer)+len(r.Ns) != 0 {
			t.Errorf("%s: a second referral to sub.example.com. within the second was sent in full:\n%v", name, r)
		}
	}
}

// TestMetricKind: the kinds mxdns_answers_total counts, REFUSED told
// apart from the other errors.
func TestMetricKind(t *testing.T) {
	for _, tc := range []struct {
		k     answerKind
		rcode uint16
		want  string
	}{
		{answerKind{kind: kindPositive}, dns.RcodeSuccess, "answer"},
		{answerKind{kind: kindNoData}, dns.RcodeSuccess, "nodata"},
		{answerKind{kind: kindNXDomain}, dns.RcodeNameError, "nxdomain"},
		{answerKind{kind: kindReferral}, dns.RcodeSuccess, "referral"},
		{answerKind{kind: kindError}, dns.RcodeRefused, "refused"},
		{answerKind{kind: kindError}, dns.RcodeFormatError, "error"},
		{answerKind{kind: kindError}, dns.RcodeServerFailure, "error"},
	} {
		if got := tc.k.metricKind(tc.rcode).String(); got != tc.want {
			t.Errorf("%+v %s: %q, want %q", tc.k, dns.RcodeToString[int(tc.rcode)], got, tc.want)
		}
	}
}
