package server

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestDKIMKeyServedIntact serves a 2048-bit DKIM key through the dkim
// helper and reads it back over UDP (with EDNS, as resolvers ask) and TCP:
// the strings of the TXT record, joined, must be the record as published.
func TestDKIMKeyServedIntact(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	p := base64.StdEncoding.EncodeToString(der)
	config := strings.Replace(testConfig, `_submission._tcp:`, `"@": {dkim: {selector: s2048, key: "`+p+`"}}
      _submission._tcp:`, 1)
	config = strings.Replace(config, `"@": {mx: ["10;mx1", "20;mx2"], a: 203.0.113.80}`, `www: {a: 203.0.113.80}`, 1)
	s, _, _ := startServer(t, config)
	want := "v=DKIM1; k=rsa; p=" + p
	a := s.Addrs()[0]
	for _, tc := range []struct{ network, addr string }{{"udp", a.UDP.String()}, {"tcp", a.TCP.String()}} {
		t.Run(tc.network, func(t *testing.T) {
			q := new(dns.Msg)
			q.SetQuestion("s2048._domainkey.example.com.", dns.TypeTXT)
			q.SetEdns0(1232, false)
			c := &dns.Client{Net: tc.network, Timeout: 10 * time.Second}
			r, _, err := c.Exchange(q, tc.addr)
			if err != nil {
				t.Fatal(err)
			}
			if r.Truncated || len(r.Answer) != 1 {
				t.Fatalf("truncated %v, %d answers: %v", r.Truncated, len(r.Answer), r)
			}
			txt := r.Answer[0].(*dns.TXT)
			for _, s := range txt.Txt {
				if len(s) > 255 {
					t.Errorf("string of %d octets", len(s))
				}
			}
			if got := strings.Join(txt.Txt, ""); got != want {
				t.Errorf("served:\n%s\nwant:\n%s", got, want)
			}
			if len(txt.Txt) < 2 {
				t.Errorf("%d strings; a 2048-bit key needs at least 2", len(txt.Txt))
			}
		})
	}
}
