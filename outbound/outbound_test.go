package outbound

import (
	"bytes"
	"context"
	"encoding/json"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/dnslookup"
)

// fake answers from a table of records; names under refused are REFUSED,
// as an authoritative server answers for zones it does not serve. A
// CNAME is answered alone, as by a server whose target is elsewhere.
func fake(records []string, refused string) func(context.Context, *dns.Msg) (*dns.Msg, error) {
	var rrs []dns.RR
	for _, r := range records {
		rrs = append(rrs, must(dns.NewRR(r)))
	}
	return func(_ context.Context, q *dns.Msg) (*dns.Msg, error) {
		m := new(dns.Msg)
		m.SetReply(q)
		name := q.Question[0].Name
		if dns.IsSubDomain(refused, name) {
			m.Rcode = dns.RcodeRefused
			return m, nil
		}
		exists := false
		for _, rr := range rrs {
			if strings.EqualFold(rr.Header().Name, name) {
				exists = true
				if t := rr.Header().Rrtype; t == q.Question[0].Qtype || t == dns.TypeCNAME {
					m.Answer = append(m.Answer, rr)
				}
			}
		}
		if !exists {
			m.Rcode = dns.RcodeNameError
		}
		return m, nil
	}
}

// sender is a link sending as mail.example.test from addrs.
func sender(link string, addrs ...string) Identity {
	id := Identity{Link: link, HELO: "mail.example.test."}
	for _, a := range addrs {
		id.Addrs = append(id.Addrs, netip.MustParseAddr(a))
	}
	return id
}

func mustResolve(t *testing.T, ex dnslookup.Exchange, domain string, ids ...Identity) *Report {
	t.Helper()
	rep, err := Resolve(context.Background(), ex, ids, domain)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func must(rr dns.RR, err error) dns.RR {
	if err != nil {
		panic(err)
	}
	return rr
}

func TestResolve(t *testing.T) {
	ex := fake([]string{
		"mail.example.test. A 192.0.2.25",
		"25.2.0.192.in-addr.arpa. PTR mail.example.test.",
		"26.2.0.192.in-addr.arpa. PTR other.example.test.",
		"example.test. TXT \"v=spf1 ip4:192.0.2.25 -all\"",
	}, "100.51.198.in-addr.arpa.")
	ids := []Identity{
		{Link: "wan1", HELO: "mail.example.test.", Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.25")}},
		{Link: "wan2", HELO: "mail.example.test.", Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.26"), netip.MustParseAddr("198.51.100.25"), netip.MustParseAddr("192.0.2.27")}},
	}
	rep, err := Resolve(context.Background(), ex, ids, "example.test")
	if err != nil {
		t.Fatal(err)
	}
	a := rep.Links[0].Addresses[0]
	if !a.PTRIsHELO || !a.FCrDNS || a.SPF != "pass" || a.DMARC != "none" {
		t.Errorf("wan1: %+v", a)
	}
	w2 := rep.Links[1].Addresses
	if w2[0].PTRIsHELO || w2[0].FCrDNS || w2[0].SPF != "fail" || !w2[1].PTRUnknown || len(w2[2].PTR) != 0 || w2[2].PTRUnknown {
		t.Errorf("wan2: %+v", w2)
	}
	for _, want := range []string{
		"wan2 192.0.2.26: PTR other.example.test is not the HELO name mail.example.test",
		"wan2 192.0.2.26: HELO name mail.example.test does not have this address",
		"wan2 198.51.100.25: this server does not answer for its reverse zone",
		"wan2 192.0.2.27 has no PTR",
		"wan2 192.0.2.26: SPF of example.test gives fail",
	} {
		if !slices.ContainsFunc(rep.Warnings, func(w string) bool { return strings.HasPrefix(w, want) }) {
			t.Errorf("no warning %q in %q", want, rep.Warnings)
		}
	}
}

// A PTR behind a CNAME (RFC 2317 classless reverse delegation) is the
// address's PTR.
func TestResolvePTRBehindCNAME(t *testing.T) {
	ex := fake([]string{
		"mail.example.test. A 192.0.2.25",
		"25.2.0.192.in-addr.arpa. CNAME 25.0-63.2.0.192.in-addr.arpa.",
		"25.0-63.2.0.192.in-addr.arpa. PTR mail.example.test.",
	}, "invalid.")
	rep := mustResolve(t, ex, "", sender("wan1", "192.0.2.25"))
	a := rep.Links[0].Addresses[0]
	if !slices.Equal(a.PTR, []string{"mail.example.test."}) || a.PTRUnknown || !a.PTRIsHELO || !a.FCrDNS || len(rep.Warnings) != 0 {
		t.Errorf("%+v, warnings %q", a, rep.Warnings)
	}
}

// A run asks each question once, however many addresses evaluate SPF.
func TestResolveAsksOnce(t *testing.T) {
	records := fake([]string{
		"mail.example.test. A 192.0.2.25",
		"mail.example.test. A 192.0.2.26",
		"25.2.0.192.in-addr.arpa. PTR mail.example.test.",
		"26.2.0.192.in-addr.arpa. PTR mail.example.test.",
		"example.test. TXT \"v=spf1 include:_spf.example.test -all\"",
		"_spf.example.test. TXT \"v=spf1 a:mail.example.test mx ~all\"",
		"example.test. MX 10 mail.example.test.",
	}, "invalid.")
	asked := map[string]int{}
	ex := func(ctx context.Context, q *dns.Msg) (*dns.Msg, error) {
		asked[q.Question[0].Name+" "+dns.TypeToString[q.Question[0].Qtype]]++
		return records(ctx, q)
	}
	rep := mustResolve(t, ex, "example.test", sender("wan1", "192.0.2.25", "192.0.2.27"), sender("wan2", "192.0.2.26"))
	if a := rep.Links[1].Addresses[0]; a.SPF != "pass" {
		t.Errorf("wan2: %+v", a)
	}
	for q, n := range asked {
		if n != 1 {
			t.Errorf("%s asked %d times", q, n)
		}
	}
	if asked["example.test. TXT"] != 1 || asked["mail.example.test. A"] != 1 {
		t.Errorf("questions asked: %v", asked)
	}
}

// A server that will not say whether the domain publishes DMARC leaves
// it unknown, not "none".
func TestResolveDMARCUnknown(t *testing.T) {
	for _, rcode := range []int{dns.RcodeRefused, dns.RcodeServerFailure} {
		t.Run(dns.RcodeToString[rcode], func(t *testing.T) {
			records := fake([]string{
				"mail.example.test. A 192.0.2.25",
				"25.2.0.192.in-addr.arpa. PTR mail.example.test.",
				"example.test. TXT \"v=spf1 ip4:192.0.2.25 -all\"",
			}, "invalid.")
			ex := func(ctx context.Context, q *dns.Msg) (*dns.Msg, error) {
				if q.Question[0].Name == "_dmarc.example.test." {
					return new(dns.Msg).SetRcode(q, rcode), nil
				}
				return records(ctx, q)
			}
			rep := mustResolve(t, ex, "example.test", sender("wan1", "192.0.2.25"))
			if !rep.DMARCUnknown || rep.DMARC != nil {
				t.Errorf("DMARC %+v, unknown %v", rep.DMARC, rep.DMARCUnknown)
			}
			if a := rep.Links[0].Addresses[0]; a.DMARC != "unknown" || a.SPF != "pass" {
				t.Errorf("wan1: %+v", a)
			}
			want := "DMARC of example.test: this server does not answer for _dmarc.example.test"
			if !slices.ContainsFunc(rep.Warnings, func(w string) bool { return strings.HasPrefix(w, want) }) {
				t.Errorf("no warning %q in %q", want, rep.Warnings)
			}
			var text bytes.Buffer
			if err := WriteText(&text, rep, "SERVER"); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(text.String(), "\nDMARC of example.test: not known to this server\n") ||
				!strings.Contains(text.String(), "pass  unknown\n") {
				t.Errorf("text:\n%s", text.String())
			}
			js, _ := json.Marshal(rep)
			if !bytes.Contains(js, []byte(`"dmarc_unknown":true`)) {
				t.Errorf("JSON: %s", js)
			}
		})
	}
}

// TestResolveDMARCOfTheOrganization: a subdomain without a DMARC record
// of its own takes its organizational domain's, and that record's sp=
// before its p= (RFC 7489 §6.6.3).
func TestResolveDMARCOfTheOrganization(t *testing.T) {
	for _, tc := range []struct{ record, want string }{
		{`"v=DMARC1; p=reject; sp=quarantine"`, "quarantine"},
		{`"v=DMARC1; p=reject"`, "reject"},
	} {
		ex := fake([]string{
			"mail.example.test. A 192.0.2.25",
			"25.2.0.192.in-addr.arpa. PTR mail.example.test.",
			"news.example.test. TXT \"v=spf1 ip4:192.0.2.25 -all\"",
			"_dmarc.example.test. TXT " + tc.record,
		}, "invalid.")
		rep := mustResolve(t, ex, "news.example.test", sender("wan1", "192.0.2.25"))
		if rep.DMARC == nil || rep.DMARC.Policy != tc.want || rep.DMARC.Org != "example.test." {
			t.Errorf("%s: DMARC %+v, want policy %s from example.test.", tc.record, rep.DMARC, tc.want)
			continue
		}
		if a := rep.Links[0].Addresses[0]; a.DMARC != "pass" {
			t.Errorf("%s: wan1 DMARC %q, want pass", tc.record, a.DMARC)
		}
		var text bytes.Buffer
		if err := WriteText(&text, rep, "SERVER"); err != nil {
			t.Fatal(err)
		}
		if want := "DMARC of news.example.test: policy " + tc.want + ", from the record of its organizational domain example.test (its sp=, else p=)"; !strings.Contains(text.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, text.String())
		}
	}
}
