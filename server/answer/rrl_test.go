package answer

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/zone"
)

// slipConfig limits every answer to one a second and slips every reply
// over that, so the second reply to a question is always a slip.
const slipConfig = "rrl: {responses_per_second: 1, slip: 1, window: 1s}\n" + testConfig

// frozenRRLServer serves config with the rate limiter's clock stopped, so
// no credit is earned between queries.
func frozenRRLServer(t *testing.T, config string) *tsrv {
	t.Helper()
	snap, diags := zone.FromYAML("t.yaml", []byte(config), nil)
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	s := testServer(t, snap)
	now := time.Unix(1000, 0)
	s.rrl.now = func() time.Time { return now }
	return s
}

// TestSlipIsTheSameOnBothPaths: a rate-limited reply is slipped from the
// answer cache (a hit) and from the handler (a miss) alike: TC set, no
// records, and the AA bit and rcode of the answer it stands for.
func TestSlipIsTheSameOnBothPaths(t *testing.T) {
	s := frozenRRLServer(t, slipConfig)
	// Another server (its own limiter and metrics) asks first, so that
	// the first miss counted here is the question's second, which the
	// cache admits.
	warmer := testServer(t, s.state.Load().Snap)
	for _, c := range []struct {
		name  string
		rcode int
	}{{"Example.COM.", dns.RcodeSuccess}, {"Nope.Example.COM.", dns.RcodeNameError}} {
		m := query(c.name, dns.TypeA)
		m.RecursionDesired = true
		m.AuthenticatedData = true // dig's default; a reply never echoes it
		m.SetEdns0(1232, true)
		b := packQuery(t, m)
		ask := func() []byte {
			var q wireQuery
			return s.answerDatagram(s.state.Load(), b, "127.0.0.1:0", new(arrival), 1, fuzzPeer{}, &q, nil)
		}
		var q wireQuery
		warmer.answerDatagram(s.state.Load(), b, "127.0.0.1:0", new(arrival), 1, fuzzPeer{}, &q, nil)
		full := ask() // a second miss: answered in full, and cached
		if _, e := s.state.Load().cache.get(q.key[:q.keyLen], 1); e == nil {
			t.Fatalf("%s: a second miss did not fill the cache", c.name)
		}
		fast := ask() // a hit, over the rate
		// A new state has an empty cache: the handler answers, over the rate.
		s.state.Store(NewState(s.state.Load().Snap, zone.AllLinks, nil))
		general := ask()
		if s.state.Load().cache.slots[hashKey(q.key[:q.keyLen])&s.state.Load().cache.mask].Load() != nil {
			t.Errorf("%s: one miss filled the cache", c.name)
		}

		want := new(dns.Msg)
		if err := want.Unpack(full); err != nil {
			t.Fatal(err)
		}
		if want.Truncated || want.Rcode != c.rcode || !want.Authoritative {
			t.Fatalf("%s: first reply is not the full answer:\n%v", c.name, want)
		}
		for path, b := range map[string][]byte{"answer cache": fast, "handler": general} {
			r := new(dns.Msg)
			if err := r.Unpack(b); err != nil {
				t.Fatalf("%s from the %s: %v", c.name, path, err)
			}
			if !r.Truncated || len(r.Answer)+len(r.Ns) != 0 || r.Rcode != c.rcode || !r.Authoritative ||
				r.AuthenticatedData || r.Id != m.Id || r.IsEdns0() == nil || !r.IsEdns0().Do() ||
				len(r.Question) != 1 || r.Question[0].Name != c.name {
				t.Errorf("%s: slip from the %s is not the answer cut short:\n%v", c.name, path, r)
			}
		}
		if !bytes.Equal(fast, general) {
			t.Errorf("%s: the slips differ:\nanswer cache: %x\nhandler:      %x", c.name, fast, general)
		}
	}
	if n := s.RateLimitStats().RRLSlipped; n != 4 {
		t.Errorf("%d slips counted, want 4", n)
	}
	// A slip is a reply sent, counted by either path with its rcode.
	body := s.scrape(t)
	for _, rcode := range []string{"NOERROR", "NXDOMAIN"} {
		if want := `mxdns_queries_total{link="none",qtype="A",rcode="` + rcode + `",transport="udp"} 3`; !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestSlipKeepsHeaderQuestionAndOPT cuts a packed reply with records in
// every section and its OPT among the additional ones.
func TestSlipKeepsHeaderQuestionAndOPT(t *testing.T) {
	rr := func(s string) dns.RR {
		r, err := dns.NewRR(s)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	m := query("Www.Example.COM.", dns.TypeA)
	m.Response, m.Authoritative, m.Compress = true, true, true
	m.Answer = []dns.RR{rr("www.example.com. 300 IN CNAME host.example.com."), rr("host.example.com. 300 IN A 192.0.2.1")}
	m.Ns = []dns.RR{rr("example.com. 300 IN NS ns1.example.com.")}
	m.SetEdns0(1232, true)
	m.Extra = []dns.RR{rr("ns1.example.com. 300 IN A 192.0.2.53"), m.Extra[0], rr("ns1.example.com. 300 IN AAAA 2001:db8::53")}
	m.Rcode = dns.RcodeBadVers // extended: its upper bits are in the OPT
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	want := m.Copy()
	want.Truncated = true
	want.Answer, want.Ns, want.Extra = nil, nil, []dns.RR{want.IsEdns0()}
	wb, err := want.Pack()
	if err != nil {
		t.Fatal(err)
	}
	if got := slip(b); !bytes.Equal(got, wb) {
		t.Errorf("slip:\ngot  %x\nwant %x", got, wb)
	}

	m.SetTsig("key.", dns.HmacSHA256, 300, 0)
	if b, err = m.Pack(); err != nil {
		t.Fatal(err)
	}
	if got := slip(b); got != nil {
		t.Errorf("a signed reply was cut: %x", got)
	}
}

// TestSignedRequestsAreNotRateLimited: a request whose TSIG verifies
// cannot come from a spoofed address, which is what rate limiting is
// for, so every one gets its full signed reply however many are asked.
func TestSignedRequestsAreNotRateLimited(t *testing.T) {
	config := "tsig_keys:\n  xfr-key: {algorithm: hmac-sha256, secret: \"" + testSecret + "\"}\n" + slipConfig
	s := frozenRRLServer(t, config)
	for i := range 5 {
		m := query("example.com.", dns.TypeMX)
		m.SetEdns0(1232, false)
		m.SetTsig(testKey, dns.HmacSHA256, 300, time.Now().Unix())
		b, _, err := dns.TsigGenerate(m, testSecret, "", false)
		if err != nil {
			t.Fatal(err)
		}
		var q wireQuery
		reply := s.answerDatagram(s.state.Load(), b, "127.0.0.1:0", new(arrival), 1, fuzzPeer{}, &q, nil)
		r := new(dns.Msg)
		if err := r.Unpack(reply); err != nil {
			t.Fatalf("query %d: %v", i, err)
		}
		if r.Truncated || len(r.Answer) == 0 || r.IsTsig() == nil {
			t.Fatalf("query %d: want a full signed answer, got\n%v", i, r)
		}
	}
	if st := s.RateLimitStats(); st.RRLDropped != 0 || st.RRLSlipped != 0 {
		t.Errorf("signed requests limited: %+v", st)
	}
}

// TestBadTSIGIsRateLimitedAsAnError: a request whose TSIG fails gets
// NOTAUTH whatever it asked, and anyone can send one from a spoofed
// address, so rate limiting must charge it to the errors. Charged to the
// answer it named, a flood of them would use up that answer's budget and
// have the replies to real clients slipped.
func TestBadTSIGIsRateLimitedAsAnError(t *testing.T) {
	s := frozenRRLServer(t, "tsig_keys:\n  xfr-key: {algorithm: hmac-sha256, secret: \""+testSecret+"\"}\n"+slipConfig)
	ask := func(b []byte) *dns.Msg {
		t.Helper()
		var q wireQuery
		reply := s.answerDatagram(s.state.Load(), b, "127.0.0.1:0", new(arrival), 1, fuzzPeer{}, &q, nil)
		r := new(dns.Msg)
		if err := r.Unpack(reply); err != nil {
			t.Fatalf("reply %x: %v", reply, err)
		}
		return r
	}
	m := query("example.com.", dns.TypeMX)
	m.SetEdns0(1232, false)
	m.SetTsig(testKey, dns.HmacSHA256, 300, time.Now().Unix())
	bad, _, err := dns.TsigGenerate(m, badSecret, "", false)
	if err != nil {
		t.Fatal(err)
	}
	if r := ask(bad); r.Rcode != dns.RcodeNotAuth || len(r.Answer) != 0 || r.IsTsig() == nil || r.IsTsig().Error != dns.RcodeBadSig {
		t.Fatalf("bad TSIG: want NOTAUTH with BADSIG, got\n%v", r)
	}
	// The same question unsigned is the first of its answer this second.
	if r := ask(packQuery(t, query("example.com.", dns.TypeMX))); r.Truncated || len(r.Answer) == 0 {
		t.Errorf("unsigned after a bad TSIG: want the full answer, got\n%v", r)
	}
	// An error is not: the bad TSIG had the errors' one reply.
	chaos := query("version.bind.", dns.TypeTXT)
	chaos.Question[0].Qclass = dns.ClassCHAOS
	if r := ask(packQuery(t, chaos)); !r.Truncated || r.Rcode != dns.RcodeRefused {
		t.Errorf("error after a bad TSIG: want REFUSED slipped, got\n%v", r)
	}
}
