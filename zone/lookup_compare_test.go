package zone

import (
	"testing"

	"github.com/miekg/dns"
)

// Regression rows for disagreements with Knot and NSD found by
// cmd/mxdns-compare (testdata/compare/delegations.yaml).
const parentChildConfig = `
zones:
  parent.test:
    soa: {serial: 7, minimum: 60}
    ns: [ns1, ns2.child]
    records:
      ns1: {a: 198.51.100.53}
      www: {cname: ns1}
      child: {ns: [ns1.child, ns2.child]}
      ns1.child: {a: 198.51.100.54}
      ns2.child: {a: 198.51.100.55}
  child.parent.test:
    ttl: 1800
    soa: {serial: 3, minimum: 30}
    ns: [ns1, ns2]
    records:
      ns1: {a: 198.51.100.54}
      ns2: {a: 198.51.100.55}
  orphan.test:
    soa: {serial: 1, minimum: 60}
    ns: [ns1.parent.test.]
`

func TestLookupAgreesWithReference(t *testing.T) {
	snap := mustSnapshot(t, parentChildConfig)
	parentSOA := "parent.test. 60 IN SOA ns1.parent.test. hostmaster.parent.test. 7 3600 900 1209600 60"
	runLookups(t, snap, []lookupCase{
		// RFC 4035 §2.5: RRSIG and NSEC may live beside a CNAME, so a
		// query for them is not redirected (unsigned here: NODATA).
		{name: "rrsig at a cname's name is not followed", qname: "www.parent.test.", qtype: dns.TypeRRSIG,
			ns: []string{parentSOA}},
		{name: "nsec at a cname's name is not followed", qname: "www.parent.test.", qtype: dns.TypeNSEC,
			ns: []string{parentSOA}},
		// A resolver asking for the NS needs the addresses of those below
		// a cut too: they are glue, and the only addresses we have.
		{name: "ns answer carries glue of a server below a cut", qname: "parent.test.", qtype: dns.TypeNS,
			answer: []string{"parent.test. 3600 IN NS ns1.parent.test.", "parent.test. 3600 IN NS ns2.child.parent.test."},
			extra:  []string{"ns1.parent.test. 3600 IN A 198.51.100.53", "ns2.child.parent.test. 3600 IN A 198.51.100.55"}},
		// RFC 4035 §3.1.4.1: the DS of a child lives in the parent zone.
		{name: "ds at a served child's apex is answered by the parent", qname: "Child.Parent.Test.", qtype: dns.TypeDS,
			ns: []string{parentSOA}},
		{name: "ds at an apex whose parent is not served is nodata in the zone", qname: "orphan.test.", qtype: dns.TypeDS,
			ns: []string{"orphan.test. 60 IN SOA ns1.parent.test. hostmaster.orphan.test. 1 3600 900 1209600 60"}},
		{name: "soa at a served child's apex stays in the child", qname: "child.parent.test.", qtype: dns.TypeSOA,
			answer: []string{"child.parent.test. 1800 IN SOA ns1.child.parent.test. hostmaster.child.parent.test. 3 3600 900 1209600 30"}},
	})
}
