package zone

import (
	"testing"

	"github.com/miekg/dns"
)

// Corners of the link rules the main table does not reach.
const linkEdgeConfig = `
link_ttl: 60
links:
  wan1: {listen: ["127.0.0.1:5353"]}
  wan2: {listen: ["127.0.0.2:5353"]}
zones:
  example.com:
    ttl: 3600
    ns: [ns1]
    records:
      short: {a: {wan1: 192.0.2.1, wan2: 198.51.100.1}, ttl: 10}
      dual: {a: {wan1: 192.0.2.25}, aaaa: "2001:db8::25"}
      v6: {aaaa: {wan2: "2001:db8:2::25"}}
      mail:
        mx: ["10;dual", "20;v6", "30;out.example.net."]
        mx_publish: primary
      lone: {mx: ["10;v6"]}
      only2: {a: {wan2: 198.51.100.7}}
      ns1: {a: 192.0.2.53}
`

func TestLinkRuleCorners(t *testing.T) {
	snap := mustSnapshot(t, linkEdgeConfig)
	runLookups(t, snap, []lookupCase{
		{name: "ttl below link_ttl is kept", qname: "short.example.com.", qtype: dns.TypeA,
			client: &Client{Link: wan1, Up: bothUp},
			answer: []string{"short.example.com. 10 IN A 192.0.2.1"}},
		{name: "arrival link up but without addresses here: every up link", qname: "only2.example.com.", qtype: dns.TypeA,
			client: &Client{Link: wan1, Up: bothUp},
			answer: []string{"only2.example.com. 60 IN A 198.51.100.7"}},
		{name: "aaaa by link", qname: "v6.example.com.", qtype: dns.TypeAAAA,
			client: &Client{Link: wan1, Up: bothUp},
			answer: []string{"v6.example.com. 60 IN AAAA 2001:db8:2::25"}},
		{name: "a target with a link-less address stays healthy", qname: "mail.example.com.", qtype: dns.TypeMX,
			client: &Client{Link: NoLink, Up: noneUp},
			answer: []string{"mail.example.com. 60 IN MX 10 dual.example.com."},
			extra:  []string{"dual.example.com. 60 IN A 192.0.2.25", "dual.example.com. 3600 IN AAAA 2001:db8::25"}},
		{name: "an unhealthy sole mx is still published", qname: "lone.example.com.", qtype: dns.TypeMX,
			client: &Client{Link: NoLink, Up: onlyWan1},
			answer: []string{"lone.example.com. 60 IN MX 10 v6.example.com."},
			extra:  []string{"v6.example.com. 60 IN AAAA 2001:db8:2::25"}},
	})
}

func TestUnknownLinkIsPositioned(t *testing.T) {
	_, diags := FromYAML("links.yaml", []byte(`
links:
  wan1: {}
zones:
  example.com:
    ns: [ns1]
    records:
      ns1: {a: {wan9: 192.0.2.1}}
`), nil)
	errs := diags.Errors()
	if len(errs) != 1 || errs[0].Line != 8 || errs[0].Col != 17 || errs[0].Msg != `no link "wan9"; declared links: wan1` {
		t.Errorf("diagnostics %+v", errs)
	}
}

// An RRset is a set (RFC 2181 §5): an address written twice under one link,
// or under several links that are up together, is answered once.
func TestLinkAddressesAnsweredOnce(t *testing.T) {
	snap, diags := FromYAML("links.yaml", []byte(`
link_ttl: 60
links:
  wan1: {}
  wan2: {}
zones:
  example.com:
    ns: [ns1]
    records:
      ns1: {a: 192.0.2.53}
      www: {a: {wan1: [192.0.2.1, 192.0.2.1], wan2: [192.0.2.1, 192.0.2.2]}}
`), nil)
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	var warned []string
	for _, d := range diags {
		warned = append(warned, d.String())
	}
	if len(diags) != 1 || diags[0].Line != 11 || diags[0].Msg != "a is written twice; it is served once" {
		t.Errorf("diagnostics %q, want one warning that a is written twice, on line 11", warned)
	}
	runLookups(t, snap, []lookupCase{
		{name: "both links up", qname: "www.example.com.", qtype: dns.TypeA,
			client: &Client{Link: NoLink, Up: bothUp},
			answer: []string{"www.example.com. 60 IN A 192.0.2.1", "www.example.com. 60 IN A 192.0.2.2"}},
		{name: "arrival link's own list", qname: "www.example.com.", qtype: dns.TypeA,
			client: &Client{Link: wan1, Up: bothUp},
			answer: []string{"www.example.com. 60 IN A 192.0.2.1"}},
		{name: "no link up", qname: "www.example.com.", qtype: dns.TypeA,
			client: &Client{Link: NoLink, Up: noneUp},
			answer: []string{"www.example.com. 60 IN A 192.0.2.1", "www.example.com. 60 IN A 192.0.2.2"}},
	})
}
