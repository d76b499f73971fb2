package server

import (
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

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
