package server

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

const (
	testKey    = "xfr-key."
	testSecret = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ="
	badSecret  = "b3RoZXItb3RoZXItb3RoZXItb3RoZXItb3RoZXItMTI="
)

func xfrConfig(allow string) string {
	if allow == "" {
		return "tsig_keys:\n  xfr-key: {algorithm: hmac-sha256, secret: \"" + testSecret + "\"}\n" + testConfig
	}
	return "tsig_keys:\n  xfr-key: {algorithm: hmac-sha256, secret: \"" + testSecret + "\"}\n" +
		"transfer:\n  allow: " + allow + "\n" + testConfig
}

// axfr transfers example.com over TCP, signed with secret when it is not
// empty, and returns the records and how many messages carried them.
func axfr(t *testing.T, s *Server, qtype uint16, secret string) ([]dns.RR, int, error) {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion("example.com.", qtype)
	if qtype == dns.TypeIXFR {
		m.SetIxfr("example.com.", 1, "ns1.example.com.", "hostmaster.example.com.")
	}
	tr := &dns.Transfer{DialTimeout: 10 * time.Second, ReadTimeout: 10 * time.Second}
	if secret != "" {
		tr.TsigSecret = map[string]string{testKey: secret}
		m.SetTsig(testKey, dns.HmacSHA256, 300, time.Now().Unix())
	}
	ch, err := tr.In(m, s.Addrs()[0].TCP.String())
	if err != nil {
		return nil, 0, err
	}
	var rrs []dns.RR
	n := 0
	for env := range ch {
		if env.Error != nil {
			return rrs, n, env.Error
		}
		n++
		rrs = append(rrs, env.RR...)
	}
	return rrs, n, nil
}

// testZoneRecords is example.com of testConfig as a transfer must carry
// it, written out by hand from the config (the SOA's auto serial aside).
var testZoneRecords = []string{
	"example.com. 3600 IN NS ns1.example.com.",
	"example.com. 3600 IN MX 10 mx1.example.com.",
	"example.com. 3600 IN MX 20 mx2.example.com.",
	"example.com. 3600 IN A 203.0.113.80",
	"mx1.example.com. 3600 IN A 203.0.113.25",
	"mx2.example.com. 3600 IN A 198.51.100.25",
	"ns1.example.com. 3600 IN A 203.0.113.53",
	"_submission._tcp.example.com. 3600 IN SRV 0 1 587 mx1.example.com.",
}

// wantZone checks a transfer of example.com (RFC 5936 §2.2): the SOA
// first and last and nowhere else, and between them exactly the zone's
// records, each once; extra lists records the test's config adds to
// testConfig.
func wantZone(t *testing.T, got []dns.RR, extra ...string) {
	t.Helper()
	if len(got) < 2 {
		t.Fatalf("%d records, want the SOA at both ends", len(got))
	}
	first, ok1 := got[0].(*dns.SOA)
	last, ok2 := got[len(got)-1].(*dns.SOA)
	if !ok1 || !ok2 || first.String() != last.String() {
		t.Fatalf("transfer opens with %v and closes with %v, want the same SOA", got[0], got[len(got)-1])
	}
	wantSOA := fmt.Sprintf("example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. %d 3600 900 1209600 300", first.Serial)
	if first.String() != mustRR(t, wantSOA).String() {
		t.Errorf("SOA %v, want %s", first, wantSOA)
	}
	var g, w []string
	for _, rr := range got[1 : len(got)-1] {
		g = append(g, strings.ToLower(rr.String()))
	}
	for _, rr := range append(slices.Clone(testZoneRecords), extra...) {
		w = append(w, strings.ToLower(mustRR(t, rr).String()))
	}
	slices.Sort(g)
	slices.Sort(w)
	if !slices.Equal(g, w) {
		t.Errorf("transferred records:\n  %s\nwant:\n  %s", strings.Join(g, "\n  "), strings.Join(w, "\n  "))
	}
}

func TestAXFRAllowedByPrefix(t *testing.T) {
	s, _, _ := startServer(t, xfrConfig(`["127.0.0.0/8"]`))
	for _, qtype := range []uint16{dns.TypeAXFR, dns.TypeIXFR} {
		rrs, _, err := axfr(t, s, qtype, "")
		if err != nil {
			t.Fatalf("%s: %v", dns.TypeToString[qtype], err)
		}
		wantZone(t, rrs)
	}
}

func TestIXFRUpToDate(t *testing.T) {
	s, _, _ := startServer(t, xfrConfig(`["127.0.0.1"]`))
	serial := s.Snapshot().Zones()[0].Serial
	zoneRRs, _ := s.Snapshot().Records("example.com")
	for _, theirs := range []uint32{serial, serial + 1} {
		m := new(dns.Msg)
		m.SetIxfr("example.com.", theirs, "ns1.example.com.", "hostmaster.example.com.")
		c := &dns.Client{Net: "tcp", Timeout: 10 * time.Second}
		r, _, err := c.Exchange(m, s.Addrs()[0].TCP.String())
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Answer) != 1 || r.Answer[0].(*dns.SOA).Serial != serial {
			t.Errorf("IXFR from serial %d (ours %d): want our SOA alone, got %v", theirs, serial, r.Answer)
		} else if got, want := r.Answer[0].String(), zoneRRs[0].String(); got != want {
			t.Errorf("IXFR from serial %d: SOA %s, want the one AXFR sends, %s", theirs, got, want)
		}
	}
}

func TestAXFRRefused(t *testing.T) {
	for name, allow := range map[string]string{
		"other prefix":  `["192.0.2.0/24"]`,
		"key, unsigned": `["key:xfr-key"]`,
		"no transfer":   ``,
	} {
		t.Run(name, func(t *testing.T) {
			s, _, _ := startServer(t, xfrConfig(allow))
			_, _, err := axfr(t, s, dns.TypeAXFR, "")
			if err == nil || !strings.Contains(err.Error(), fmt.Sprint(dns.RcodeRefused)) {
				t.Fatalf("AXFR: got %v, want REFUSED", err)
			}
			r := exchange(t, s, "tcp", "example.com.", dns.TypeAXFR)
			wantRcode(t, r, dns.RcodeRefused)
			if len(r.Answer) != 0 {
				t.Errorf("refused transfer carries %v", r.Answer)
			}
		})
	}
}

func TestAXFRWithTSIG(t *testing.T) {
	s, _, _ := startServer(t, xfrConfig(`["key:xfr-key"]`))
	rrs, _, err := axfr(t, s, dns.TypeAXFR, testSecret)
	if err != nil {
		t.Fatalf("signed AXFR: %v", err)
	}
	wantZone(t, rrs)

	// A wrong secret: NOTAUTH, nothing else.
	m, r := signedAXFR(t, s.Addrs()[0].TCP.String(), testKey, badSecret)
	wantRcode(t, r, dns.RcodeNotAuth)
	if len(r.Answer) != 0 {
		t.Errorf("NOTAUTH carries %v", r.Answer)
	}
	if ts := r.IsTsig(); ts == nil || ts.Error != dns.RcodeBadSig || ts.MAC != "" || ts.OrigId != m.Id {
		t.Errorf("want an unsigned TSIG with BADSIG and the request's id %d, got %v", m.Id, ts)
	}

	// An unknown key is NOTAUTH too, even from an address that would do.
	s2, _, _ := startServer(t, xfrConfig(`["127.0.0.1", "key:xfr-key"]`))
	_, r = signedAXFR(t, s2.Addrs()[0].TCP.String(), "other.", testSecret)
	wantRcode(t, r, dns.RcodeNotAuth)
	if ts := r.IsTsig(); ts == nil || ts.Error != dns.RcodeBadKey {
		t.Errorf("want a TSIG with BADKEY, got %v", ts)
	}
}

func TestSignedQueryGetsSignedReply(t *testing.T) {
	s, _, _ := startServer(t, xfrConfig(``))
	c := &dns.Client{Net: "udp", Timeout: 10 * time.Second, TsigSecret: map[string]string{testKey: testSecret}}
	m := query("mx1.example.com.", dns.TypeA)
	m.SetTsig(testKey, dns.HmacSHA256, 300, time.Now().Unix())
	r, _, err := c.Exchange(m, s.Addrs()[0].UDP.String())
	if err != nil {
		t.Fatal(err)
	}
	if r.IsTsig() == nil || len(r.Answer) != 1 {
		t.Fatalf("reply not signed or no answer:\n%v", r)
	}

	c.TsigSecret = map[string]string{testKey: badSecret}
	m.SetTsig(testKey, dns.HmacSHA256, 300, time.Now().Unix())
	r, _, _ = c.Exchange(m, s.Addrs()[0].UDP.String())
	if r == nil || r.Rcode != dns.RcodeNotAuth || len(r.Answer) != 0 {
		t.Fatalf("bad signature: want NOTAUTH and no answer, got:\n%v", r)
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

func TestTransferOverUDP(t *testing.T) {
	s, _, _ := startServer(t, xfrConfig(`["127.0.0.1"]`))
	wantRcode(t, exchange(t, s, "udp", "example.com.", dns.TypeAXFR), dns.RcodeFormatError)

	m := new(dns.Msg)
	m.SetIxfr("example.com.", 1, "ns1.example.com.", "hostmaster.example.com.")
	c := &dns.Client{Net: "udp", Timeout: 10 * time.Second}
	r, _, err := c.Exchange(m, s.Addrs()[0].UDP.String())
	if err != nil {
		t.Fatal(err)
	}
	wantRcode(t, r, dns.RcodeSuccess)
	if len(r.Answer) != 1 || r.Answer[0].Header().Rrtype != dns.TypeSOA || !r.Authoritative {
		t.Errorf("IXFR over UDP: want the SOA alone, got %v", r.Answer)
	}
}

func TestAXFRStreamsLargeZones(t *testing.T) {
	var b strings.Builder
	b.WriteString(xfrConfig(`["127.0.0.1"]`))
	var hosts []string
	for i := range 3000 {
		fmt.Fprintf(&b, "      host%d: {a: 192.0.2.%d, txt: \"some text to make the zone big %d\"}\n", i, i%250+1, i)
		hosts = append(hosts, fmt.Sprintf("host%d.example.com. 3600 IN A 192.0.2.%d", i, i%250+1),
			fmt.Sprintf("host%d.example.com. 3600 IN TXT \"some text to make the zone big %d\"", i, i))
	}
	s, _, _ := startServer(t, b.String())
	rrs, n, err := axfr(t, s, dns.TypeAXFR, "")
	if err != nil {
		t.Fatal(err)
	}
	wantZone(t, rrs, hosts...)
	if n < 2 {
		t.Errorf("%d records in %d message(s), want several", len(rrs), n)
	}
	// Queries are still answered while the server streams.
	if r := exchange(t, s, "udp", "host7.example.com.", dns.TypeA); len(r.Answer) != 1 {
		t.Errorf("query after transfer: %v", r)
	}
}

func TestMayTransfer(t *testing.T) {
	// A bad signature is NOTAUTH even from an address the allow list lets in.
	s, _, _ := startServer(t, xfrConfig(`["127.0.0.1"]`))
	_, r := signedAXFR(t, s.Addrs()[0].TCP.String(), testKey, badSecret)
	if r.Rcode != dns.RcodeNotAuth {
		t.Errorf("bad TSIG from an allowed address: %s, want NOTAUTH", dns.RcodeToString[r.Rcode])
	}
}

// Every transfer request with a bad TSIG gets NOTAUTH, and is logged and
// counted as such, whether or not the zone is served or the transport
// could carry a transfer.
func TestBadTSIGTransferCountedNotAuth(t *testing.T) {
	s, _, _ := startServer(t, xfrConfig(`["127.0.0.1"]`))
	for _, tc := range []struct{ net, zone string }{
		{"tcp", "example.net."}, // not served
		{"udp", "example.com."}, // AXFR over UDP
	} {
		c := &dns.Client{Net: tc.net, Timeout: 10 * time.Second, TsigSecret: map[string]string{testKey: badSecret}}
		m := new(dns.Msg)
		m.SetAxfr(tc.zone)
		m.SetTsig(testKey, dns.HmacSHA256, 300, time.Now().Unix())
		addr := s.Addrs()[0].TCP.String()
		if tc.net == "udp" {
			addr = s.Addrs()[0].UDP.String()
		}
		r, _, _ := c.Exchange(m, addr)
		if r == nil {
			t.Fatalf("%s %s: no reply", tc.net, tc.zone)
		}
		if r.Rcode != dns.RcodeNotAuth {
			t.Errorf("%s %s: %s, want NOTAUTH", tc.net, tc.zone, dns.RcodeToString[r.Rcode])
		}
	}
	body := scrape(t, s)
	if want := `mxdns_transfers_total{result="notauth",type="AXFR"} 2`; !strings.Contains(body, want) {
		t.Errorf("metrics lack %s", want)
	}
	for _, not := range []string{`result="refused"`, `result="formerr"`} {
		if strings.Contains(body, not) {
			t.Errorf("NOTAUTH replies counted as %s", not)
		}
	}
}

// signedAXFR asks addr for example.com's AXFR signed with key and secret,
// and returns the request and the reply. A reply the client cannot verify
// (an unsigned error) comes back with an error, ignored here.
func signedAXFR(t *testing.T, addr, key, secret string) (req, reply *dns.Msg) {
	t.Helper()
	c := &dns.Client{Net: "tcp", Timeout: 10 * time.Second, TsigSecret: map[string]string{key: secret}}
	m := new(dns.Msg)
	m.SetAxfr("example.com.")
	m.SetTsig(key, dns.HmacSHA256, 300, time.Now().Unix())
	r, _, _ := c.Exchange(m, addr)
	if r == nil {
		t.Fatal("no reply")
	}
	return m, r
}
