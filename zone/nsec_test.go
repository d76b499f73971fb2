package zone

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/dnssec"
)

// fixedKeys gives every zone the same made-up DNSKEY.
type fixedKeys struct{}

func (fixedKeys) HasKeys(string) bool { return false }

func (fixedKeys) Unsign(string, dnssec.Timing) (*dnssec.ZoneKeys, error) { return nil, nil }

func (fixedKeys) Keys(origin string, p dnssec.Policy, _ dnssec.Timing) (*dnssec.ZoneKeys, error) {
	rr, err := dns.NewRR(origin + " 3600 IN DNSKEY 257 3 13 aGVsbG8=")
	if err != nil {
		return nil, err
	}
	k := &dnssec.Key{DNSKEY: rr.(*dns.DNSKEY), Role: dnssec.CSK, Published: time.Unix(1, 0), Active: time.Unix(1, 0)}
	return dnssec.NewZoneKeys(origin, []*dnssec.Key{k}, time.Time{}), nil
}

const signedConfig = `
dnssec: on
zones:
  example.com:
    ttl: 3600
    soa: {serial: 1, minimum: 300}
    ns: [ns1]
    records:
      "@": {mx: "10;mx1"}
      mx1: {a: 203.0.113.25}
      ns1: {a: 203.0.113.53}
      "*.wild": {a: 203.0.113.99}
      deep.ent: {txt: hello}
      sub: {ns: [ns.sub]}
      ns.sub: {a: 192.0.2.53}
  unsigned.example:
    dnssec: off
    soa: {serial: 1}
    ns: [ns1.example.com.]
    records:
      www: {a: 192.0.2.1}
`

func signedSnapshot(t *testing.T) *Snapshot {
	t.Helper()
	l := load(filepath.Clean("test.yaml"), configRead{text: []byte(signedConfig)}, nil, Options{Strict: true, Keys: fixedKeys{}})
	if err := l.Diags.Err(); err != nil {
		t.Fatal(err)
	}
	return l.Snapshot
}

// The chain in canonical order: example.com., deep.ent, mx1, ns1, sub (a
// cut: ns.sub below it is glue and owns no NSEC), *.wild.
func TestNSECProofs(t *testing.T) {
	snap := signedSnapshot(t)
	do := &Client{Link: NoLink, DNSSEC: true}
	soa := "example.com. 300 IN SOA ns1.example.com. hostmaster.example.com. 1 3600 900 1209600 300"
	nsec := func(owner, next, types string) string {
		return owner + " 300 IN NSEC " + next + " " + types
	}
	apexNSEC := nsec("example.com.", "deep.ent.example.com.", "NS SOA MX RRSIG NSEC DNSKEY")
	wildNSEC := nsec("*.wild.example.com.", "example.com.", "A RRSIG NSEC")
	subNSEC := nsec("sub.example.com.", "*.wild.example.com.", "NS RRSIG NSEC")
	runLookups(t, snap, []lookupCase{
		{name: "DNSKEY at the apex", qname: "example.com.", qtype: dns.TypeDNSKEY, client: do,
			answer: []string{"example.com. 3600 IN DNSKEY 257 3 13 aGVsbG8="}},
		{name: "no name: covering NSEC and no wildcard", qname: "nope.example.com.", qtype: dns.TypeA, client: do,
			rcode: dns.RcodeNameError,
			ns: []string{soa,
				nsec("mx1.example.com.", "ns1.example.com.", "A RRSIG NSEC"),
				apexNSEC}},
		{name: "no type at a name", qname: "mx1.example.com.", qtype: dns.TypeAAAA, client: do,
			ns: []string{soa, nsec("mx1.example.com.", "ns1.example.com.", "A RRSIG NSEC")}},
		{name: "empty non-terminal", qname: "ent.example.com.", qtype: dns.TypeA, client: do,
			ns: []string{soa, apexNSEC}},
		{name: "wildcard answer proves the name absent", qname: "x.wild.example.com.", qtype: dns.TypeA, client: do,
			answer: []string{"x.wild.example.com. 3600 IN A 203.0.113.99"},
			ns:     []string{wildNSEC}},
		{name: "wildcard no type", qname: "x.wild.example.com.", qtype: dns.TypeMX, client: do,
			ns: []string{soa, wildNSEC}},
		{name: "referral proves no DS", qname: "www.sub.example.com.", qtype: dns.TypeA, client: do, noAA: true,
			ns: []string{"sub.example.com. 3600 IN NS ns.sub.example.com.",
				subNSEC},
			extra: []string{"ns.sub.example.com. 3600 IN A 192.0.2.53"}},
		{name: "DS at the cut", qname: "sub.example.com.", qtype: dns.TypeDS, client: do,
			ns: []string{soa, subNSEC}},
		{name: "NSEC asked", qname: "mx1.example.com.", qtype: dns.TypeNSEC, client: do,
			answer: []string{nsec("mx1.example.com.", "ns1.example.com.", "A RRSIG NSEC")}},
		{name: "no DO, no NSEC", qname: "nope.example.com.", qtype: dns.TypeA,
			rcode: dns.RcodeNameError, ns: []string{soa}},
		{name: "zone with dnssec off", qname: "nope.unsigned.example.", qtype: dns.TypeA, client: do,
			rcode: dns.RcodeNameError,
			ns:    []string{"unsigned.example. 300 IN SOA ns1.example.com. hostmaster.unsigned.example. 1 3600 900 1209600 300"}},
	})
	if got := snap.SignedZones(); len(got) != 1 || got[0] != "example.com." {
		t.Errorf("SignedZones = %v", got)
	}
	for _, tc := range []struct {
		owner, source string
		ok            bool
	}{
		{"x.wild.example.com.", "*.wild.example.com.", true},
		{"mx1.example.com.", "mx1.example.com.", true},
		{"ns.sub.example.com.", "ns.sub.example.com.", false},
	} {
		if got, ok := snap.Source("example.com.", tc.owner); got != tc.source || ok != tc.ok {
			t.Errorf("Source(%s) = %q, %v; want %q, %v", tc.owner, got, ok, tc.source, tc.ok)
		}
	}
}

// A reverse zone patched after an edit derives its NSEC chain from the
// previous one, and it is the chain a build from scratch makes.
func TestPatchedZoneDerivesItsChain(t *testing.T) {
	cfg, zones := zoneFilesConfig(t)
	fwd := filepath.Join(zones, "fwd.yaml")
	writeFile(t, filepath.Join(zones, "rev.yaml"), "zones:\n  10.0.0.0/8: {ns: [ns1.example.com.], dnssec: on}\n", time.Unix(1000, 0))
	writeFile(t, filepath.Join(zones, "other.yaml"), "zones:\n  example.org: {ns: [ns1.example.com.], records: {www: {a: [10.0.0.1, 10.9.0.1]}}}\n", time.Unix(1000, 0))
	const fwdText = "zones:\n  example.com: {ns: [ns1], records: {www: {a: ADDR}, ns1: {a: 192.0.2.1}}}\n"
	writeFile(t, fwd, strings.Replace(fwdText, "ADDR", "[10.1.2.3, 10.1.2.4]", 1), time.Unix(1000, 0))
	prev, diags := Load(cfg, nil)
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	const origin = "10.in-addr.arpa."
	prev.NSECRecords(origin) // the chain is made, as a DO query would
	writeFile(t, fwd, strings.Replace(fwdText, "ADDR", "[10.0.0.4, 10.1.2.4, 10.200.1.1]", 1), time.Unix(2000, 0))
	inc, diags := Reload(cfg, prev, []string{fwd})
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	if !patched(prev, inc, origin) || inc.zones[origin].chain.Load() == nil {
		t.Fatal("the reverse zone was not patched, or made no chain from the previous one")
	}
	full, _ := Load(cfg, withoutCache(prev))
	got, want := inc.NSECRecords(origin), full.NSECRecords(origin)
	if len(got) != len(want) {
		t.Fatalf("derived chain of %d names, a full build's %d", len(got), len(want))
	}
	for i := range got {
		if got[i].String() != want[i].String() {
			t.Errorf("NSEC %d: derived %s, full %s", i, got[i], want[i])
		}
	}
}

// With denial: nsec3 every name is hashed into the chain, empty
// non-terminals and the delegation included, glue not; NSEC3PARAM says
// how (RFC 9276: no extra iterations, no salt).
func TestNSEC3Chain(t *testing.T) {
	config := strings.Replace(signedConfig, "dnssec: on", "dnssec: {denial: nsec3}", 1)
	l := load(filepath.Clean("test.yaml"), configRead{text: []byte(config)}, nil, Options{Strict: true, Keys: fixedKeys{}})
	if err := l.Diags.Err(); err != nil {
		t.Fatal(err)
	}
	snap := l.Snapshot
	// example.com, mx1, ns1, wild (empty), *.wild, ent (empty), deep.ent, sub.
	if n := len(snap.NSEC3Records("example.com.")); n != 8 {
		t.Errorf("%d NSEC3 records, want 8", n)
	}
	if snap.NSECRecords("example.com.") != nil {
		t.Error("an NSEC3 zone has an NSEC chain")
	}
	r := snap.Lookup(dns.Question{Name: "nope.example.com.", Qtype: dns.TypeA, Qclass: dns.ClassINET}, Client{Link: NoLink, DNSSEC: true})
	n3 := 0
	for _, rr := range r.Ns {
		if nsec3, ok := rr.(*dns.NSEC3); ok {
			n3++
			if nsec3.Iterations != 0 || nsec3.Salt != "" || nsec3.Flags != 0 {
				t.Errorf("NSEC3 parameters: %s", nsec3)
			}
		}
	}
	if r.Rcode != dns.RcodeNameError || n3 < 2 || n3 > 3 {
		t.Errorf("NXDOMAIN with %d NSEC3, want the closest encloser proof and the wildcard's (2 or 3):\n%v", n3, r.Ns)
	}
	apex := snap.Lookup(dns.Question{Name: "example.com.", Qtype: dns.TypeNSEC3PARAM, Qclass: dns.ClassINET}, Client{Link: NoLink})
	if len(apex.Answer) != 1 || apex.Answer[0].String() != "example.com.\t0\tIN\tNSEC3PARAM\t1 0 0 -" {
		t.Errorf("NSEC3PARAM: %v", apex.Answer)
	}
}

// PrepareDenial makes the chain of every signed zone, NSEC or NSEC3, and
// none for a zone not signed, so that no query waits to make one.
func TestPrepareDenialMakesEveryChain(t *testing.T) {
	for _, denial := range []string{"nsec", "nsec3"} {
		config := strings.Replace(signedConfig, "dnssec: on", "dnssec: {denial: "+denial+"}", 1)
		l := load(filepath.Clean("test.yaml"), configRead{text: []byte(config)}, nil, Options{Strict: true, Keys: fixedKeys{}})
		if err := l.Diags.Err(); err != nil {
			t.Fatal(err)
		}
		snap := l.Snapshot
		signed, unsigned := snap.zones["example.com."], snap.zones["unsigned.example."]
		if signed.chain.Load() != nil || signed.chain3.Load() != nil {
			t.Fatalf("%s: a chain made before it was asked for", denial)
		}
		snap.PrepareDenial()
		if made := signed.chain.Load() != nil; made != (denial == "nsec") {
			t.Errorf("%s: NSEC chain made: %v", denial, made)
		}
		if made := signed.chain3.Load() != nil; made != (denial == "nsec3") {
			t.Errorf("%s: NSEC3 chain made: %v", denial, made)
		}
		if unsigned.chain.Load() != nil || unsigned.chain3.Load() != nil {
			t.Errorf("%s: a chain made for a zone not signed", denial)
		}
	}
}
