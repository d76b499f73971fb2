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
