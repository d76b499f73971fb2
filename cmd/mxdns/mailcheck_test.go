package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/mailcheck"
	"github.com/mxdns/mxdns/zone"
)

// The mail domains of a configuration: names with MX or SPF, and those
// the mail names are for, with their DKIM selectors; not reverse zones,
// wildcards, or underscored names such as an SPF record for include:.
func TestMailDomains(t *testing.T) {
	snap, diags := zone.FromYAML("config.yaml", []byte(`
catalog: {zone: catalog.invalid}
zones:
  example.com:
    ns: [ns1]
    records:
      "@": {mx: "10;mx1", spf: "include:_spf -all", dkim: [{selector: s1, key: "`+dkimTestKey+`"}, {selector: s2, key: "`+dkimTestKey+`"}]}
      _spf: {spf: "ip4:192.0.2.0/24 -all"}
      sends: {spf: "a -all", a: 192.0.2.7}
      _dmarc.dmarconly: {txt: "v=DMARC1; p=reject"}
      s3._domainkey.keyonly: {cname: s3.dkim.example.net.}
      _mta-sts.sts: {txt: "v=STSv1; id=1"}
      brand: {bimi: {logo: "https://example.com/l.svg"}}
      "*.wild": {mx: "10;mx1"}
      mx1: {a: 192.0.2.25}
      ns1: {a: 192.0.2.1}
  example.org:
    ns: [ns1.example.com.]
    records:
      "@": {null_mx: true, spf: "-all"}
  192.0.2.0/24:
    ns: [ns1.example.com.]
`), nil)
	if diags.Err() != nil {
		t.Fatal(diags.Err())
	}
	got := fmt.Sprint(mailDomains(snap))
	want := "[{example.com. [s1 s2] false} {brand.example.com. [] false} {dmarconly.example.com. [] false} {keyonly.example.com. [s3] false} {sends.example.com. [] false} {sts.example.com. [] false} {example.org. [] false}]"
	if got != want {
		t.Errorf("mail domains:\n got %s\nwant %s", got, want)
	}
}

// dkimTestKey is an Ed25519 key's 32 octets.
const dkimTestKey = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="

// A finding about an SPF record is found where the record was written,
// though the server publishes it with the links term expanded and other
// TXT records come first.
func TestLocateExpandedSPF(t *testing.T) {
	snap, diags := zone.FromYAML("config.yaml", []byte(`
links:
  wan1: {outbound: {ipv4: 192.0.2.25, helo: mx1.example.com.}}
zones:
  example.com:
    ns: [ns1]
    records:
      "@":
        txt: "google-site-verification=abc"
        spf: "links mx ?all"
        mx: "10;mx1"
      mx1: {a: 192.0.2.25}
      ns1: {a: 192.0.2.1}
`), nil)
	if diags.Err() != nil {
		t.Fatal(diags.Err())
	}
	served := ""
	for _, rr := range snap.Lookup(dns.Question{Name: "example.com.", Qtype: dns.TypeTXT, Qclass: dns.ClassINET}, zone.Client{Link: zone.NoLink}).Answer {
		if text := recordText(rr); strings.HasPrefix(text, "v=spf1") {
			served = text
		}
	}
	if !strings.Contains(served, "ip4:192.0.2.25") {
		t.Fatalf("the served SPF record is not expanded (test is moot): %q", served)
	}
	w := locate(snap, mailcheck.Finding{Domain: "example.com.", Name: "example.com.", Type: dns.TypeTXT, Text: served})
	if w == nil || w.Line != 10 {
		t.Errorf("located at %+v, want the spf key on line 10", w)
	}
}
