package zone

import (
	"testing"

	"github.com/miekg/dns"
)

// bimi and dmarc_reports_for publish their records at the names their
// protocols read, with the zone's TTL or the name's.
func TestBIMIAndReportAuthorisation(t *testing.T) {
	snap := mustSnapshot(t, `
zones:
  example.net:
    ns: [ns1]
    ttl: 600
    dmarc_reports_for: [example.com, Example.ORG., "*"]
    records:
      "@":
        mx: "10;mx1"
        bimi: {logo: "https://example.net/logo.svg", evidence: "https://example.net/vmc.pem"}
      brand: {ttl: 60, bimi: {logo: "https://cdn.example.net/b.svg"}}
      _report._dmarc: {txt: "not an authorisation"}
      mx1: {a: 192.0.2.25}
      ns1: {a: 192.0.2.1}
`)
	runLookups(t, snap, []lookupCase{
		{name: "bimi with evidence", qname: "default._bimi.example.net.", qtype: dns.TypeTXT,
			answer: []string{`default._bimi.example.net. 600 IN TXT "v=BIMI1; l=https://example.net/logo.svg; a=https://example.net/vmc.pem"`}},
		{name: "bimi without evidence, the name's ttl", qname: "default._bimi.brand.example.net.", qtype: dns.TypeTXT,
			answer: []string{`default._bimi.brand.example.net. 60 IN TXT "v=BIMI1; l=https://cdn.example.net/b.svg"`}},
		{name: "report authorisation", qname: "example.com._report._dmarc.example.net.", qtype: dns.TypeTXT,
			answer: []string{`example.com._report._dmarc.example.net. 600 IN TXT "v=DMARC1"`}},
		{name: "report authorisation, name folded", qname: "example.org._report._dmarc.example.net.", qtype: dns.TypeTXT,
			answer: []string{`example.org._report._dmarc.example.net. 600 IN TXT "v=DMARC1"`}},
		{name: "every domain through the wildcard", qname: "example.info._report._dmarc.example.net.", qtype: dns.TypeTXT,
			answer: []string{`example.info._report._dmarc.example.net. 600 IN TXT "v=DMARC1"`}},
		{name: "a txt written beside them stays", qname: "_report._dmarc.example.net.", qtype: dns.TypeTXT,
			answer: []string{`_report._dmarc.example.net. 600 IN TXT "not an authorisation"`}},
	})
}
