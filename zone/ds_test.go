package zone

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/dnssec"
)

const dsLine = "2371 13 2 1f987cc6583e92df0890718c42ab1b4f49d13d7b9d59e0c1a0f7a0c9e3e9c2a1"

// A signed parent publishes the DS written at a delegation: a DS query
// is answered from the parent's side, signed, and a referral carries the
// DS with its signature instead of a proof that there is none.
func TestDSAtDelegation(t *testing.T) {
	config := strings.Replace(signedConfig, "      sub: {ns: [ns.sub]}", "      sub: {ns: [ns.sub], ds: \""+dsLine+"\"}", 1)
	l := load(filepath.Clean("test.yaml"), configRead{text: []byte(config)}, nil, Options{Strict: true, Keys: fixedKeys{}})
	if err := l.Diags.Err(); err != nil {
		t.Fatal(err)
	}
	if w := l.Diags.Warnings(); len(w) != 0 {
		t.Errorf("warnings: %v", w)
	}
	snap := l.Snapshot
	signed := Client{Link: NoLink, DNSSEC: true}
	r := snap.Lookup(dns.Question{Name: "sub.example.com.", Qtype: dns.TypeDS, Qclass: dns.ClassINET}, signed)
	if r.Rcode != dns.RcodeSuccess || !r.Authoritative || len(r.Answer) != 1 || r.Answer[0].(*dns.DS).KeyTag != 2371 {
		t.Fatalf("DS query: rcode %d aa %v answer %v", r.Rcode, r.Authoritative, r.Answer)
	}
	r = snap.Lookup(dns.Question{Name: "www.sub.example.com.", Qtype: dns.TypeA, Qclass: dns.ClassINET}, signed)
	var ds, nsec int
	for _, rr := range r.Ns {
		switch rr.(type) {
		case *dns.DS:
			ds++
		case *dns.NSEC:
			nsec++
		}
	}
	if r.Kind != KindReferral || ds != 1 || nsec != 0 {
		t.Errorf("referral: kind %v, %d DS and %d NSEC in authority, want 1 and 0:\n%v", r.Kind, ds, nsec, r.Ns)
	}
	for _, rr := range snap.NSECRecords("example.com.") {
		if n := rr.(*dns.NSEC); n.Hdr.Name == "sub.example.com." && !strings.Contains(n.String(), " DS") {
			t.Errorf("the delegation's NSEC lacks DS: %s", n)
		}
	}
}

func TestDSFindings(t *testing.T) {
	for _, c := range []struct {
		name, from, to, want string
		err                  bool
	}{
		{"at the apex", `      "@": {mx: "10;mx1"}`, `      "@": {mx: "10;mx1", ds: "` + dsLine + `"}`, "belongs in its parent zone", true},
		{"no delegation", `      mx1: {a: 203.0.113.25}`, `      mx1: {a: 203.0.113.25, ds: "` + dsLine + `"}`, "delegates nothing", true},
		{"bad digest", `      sub: {ns: [ns.sub]}`, `      sub: {ns: [ns.sub], ds: "2371 13 2 abcd"}`, "wants 32 octets", true},
		{"unknown digest type", `      sub: {ns: [ns.sub]}`, `      sub: {ns: [ns.sub], ds: "2371 13 3 abcd"}`, "digest type \"3\"", true},
		{"sha-1", `      sub: {ns: [ns.sub]}`, `      sub: {ns: [ns.sub], ds: "2371 ECDSAP256SHA256 1 ` + strings.Repeat("ab", 20) + `"}`, "SHA-1", false},
		{"unsigned parent", "dnssec: on\n", "\n", "is not signed", false},
	} {
		config := strings.Replace(signedConfig, c.from, c.to, 1)
		if c.name == "unsigned parent" {
			config = strings.Replace(config, "      sub: {ns: [ns.sub]}", "      sub: {ns: [ns.sub], ds: \""+dsLine+"\"}", 1)
		}
		if config == signedConfig {
			t.Fatalf("%s: the config did not change", c.name)
		}
		l := load(filepath.Clean("test.yaml"), configRead{text: []byte(config)}, nil, Options{Keys: fixedKeys{}})
		found := l.Diags.Warnings()
		if c.err {
			found = l.Diags.Errors()
		}
		if !strings.Contains(fmt.Sprint(found), c.want) {
			t.Errorf("%s: want a finding with %q, got errors %v, warnings %v", c.name, c.want, l.Diags.Errors(), l.Diags.Warnings())
		}
	}
}

// TestChildDSFindings: a signed parent's delegation to a zone served here
// is held to the child's keys: no DS for a signed child, a DS for an
// unsigned one, and a DS that names none of its keys are each told, at
// the delegation; the DS of the child's key is not.
func TestChildDSFindings(t *testing.T) {
	childKey := fixedKeys{}
	keys, err := childKey.Keys("sub.example.com.", dnssec.DefaultPolicy(), dnssec.Timing{})
	if err != nil {
		t.Fatal(err)
	}
	ds := keys.Keys[0].DS()
	goodDS := fmt.Sprintf("%d %d %d %s", ds.KeyTag, ds.Algorithm, ds.DigestType, ds.Digest)
	child := "  sub.example.com:\n    ns: [ns]\n    records: {ns: {a: 192.0.2.53}}\n"
	for _, c := range []struct {
		name, ds, child, want string
	}{
		{"no ds for a signed child", "", child, "delegation to sub.example.com, a zone signed here, has no ds"},
		{"ds for an unsigned child", dsLine, child + "    dnssec: off\n", "ds at sub.example.com, but zone sub.example.com is not signed here"},
		{"ds of another key", dsLine, child, "ds at sub.example.com names no key that signs zone sub.example.com's DNSKEY set"},
		{"the child's ds", goodDS, child, ""},
		{"a child served elsewhere", "", "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			config := signedConfig + c.child
			if c.ds != "" {
				config = strings.Replace(config, "      sub: {ns: [ns.sub]}", "      sub: {ns: [ns.sub], ds: \""+c.ds+"\"}", 1)
			}
			l := load(filepath.Clean("test.yaml"), configRead{text: []byte(config)}, nil, Options{Keys: fixedKeys{}})
			if err := l.Diags.Err(); err != nil {
				t.Fatal(err)
			}
			var found []string
			for _, w := range l.Diags.Warnings() {
				if strings.Contains(w.String(), "sub.example.com") {
					found = append(found, w.String())
				}
			}
			switch {
			case c.want == "" && len(found) > 0:
				t.Errorf("want no finding, got %q", found)
			case c.want != "" && (len(found) != 1 || !strings.Contains(found[0], c.want)):
				t.Errorf("want one finding with %q, got %q", c.want, found)
			case c.want != "" && !strings.HasPrefix(found[0], "test.yaml:14:"):
				t.Errorf("the finding is not at the delegation (line 14): %s", found[0])
			}
		})
	}
}

// rollingKeys gives sub.example.com two CSKs in a rollover, the old one's
// DS seen, the new one waiting for its DS; other zones get fixedKeys'.
type rollingKeys struct{ old, next *dnssec.Key }

func (rollingKeys) HasKeys(string) bool { return false }

func (rollingKeys) Unsign(string, dnssec.Timing) (*dnssec.ZoneKeys, error) { return nil, nil }

func (r rollingKeys) Keys(origin string, p dnssec.Policy, tm dnssec.Timing) (*dnssec.ZoneKeys, error) {
	if origin != "sub.example.com." {
		return fixedKeys{}.Keys(origin, p, tm)
	}
	return dnssec.NewZoneKeys(origin, []*dnssec.Key{r.old, r.next}, time.Time{}), nil
}

// TestChildDSWaitingKey: in the child's rollover, a parent whose DS names
// the old key only is told to add the new one's before ds-seen.
func TestChildDSWaitingKey(t *testing.T) {
	at := time.Unix(1_800_000_000, 0)
	old, err := dnssec.GenerateKey("sub.example.com.", dns.ECDSAP256SHA256, dnssec.CSK, at)
	if err != nil {
		t.Fatal(err)
	}
	old.Published, old.Active, old.Submitted, old.DSSeen = at, at, at, at
	next, err := dnssec.GenerateKey("sub.example.com.", dns.ECDSAP256SHA256, dnssec.CSK, at)
	if err != nil {
		t.Fatal(err)
	}
	next.Published, next.Submitted = at, at
	line := func(k *dnssec.Key) string { return strings.Join(strings.Fields(k.DS().String())[4:], " ") }
	child := "  sub.example.com:\n    ns: [ns]\n    records: {ns: {a: 192.0.2.53}}\n"
	for _, c := range []struct {
		ds   []string
		want string
	}{
		{[]string{line(old)}, "zone sub.example.com's new key waits for its DS"},
		{[]string{line(old), line(next)}, ""},
	} {
		config := strings.Replace(signedConfig+child, "      sub: {ns: [ns.sub]}", `      sub: {ns: [ns.sub], ds: ["`+strings.Join(c.ds, `", "`)+`"]}`, 1)
		l := load(filepath.Clean("test.yaml"), configRead{text: []byte(config)}, nil, Options{Keys: rollingKeys{old, next}})
		if err := l.Diags.Err(); err != nil {
			t.Fatal(err)
		}
		found := strings.Contains(fmt.Sprint(l.Diags.Warnings()), "waits for its DS")
		if found != (c.want != "") {
			t.Errorf("%d DS: warnings %v, want %q", len(c.ds), l.Diags.Warnings(), c.want)
		}
	}
}

// TestZoneInsideAnotherIsDelegated: a zone inside another zone served
// here is told when that zone has no ns for it, and only then.
func TestZoneInsideAnotherIsDelegated(t *testing.T) {
	const config = `zones:
  example.com:
    ns: [ns1]
    records:
      ns1: {a: 192.0.2.1}
      DELEGATION
  sub.example.com:
    ns: [ns1.example.com.]
  192.0.2.0/24:
    ns: [ns1.example.com.]
  0-63.2.0.192.in-addr.arpa:
    ns: [ns1.example.com.]
`
	for _, c := range []struct {
		delegation string
		want       []string
	}{
		{"www: {a: 192.0.2.2}", []string{"zone sub.example.com lies inside zone example.com, which does not delegate it",
			"zone 0-63.2.0.192.in-addr.arpa lies inside zone 2.0.192.in-addr.arpa, which does not delegate it"}},
		{"sub: {ns: [ns1]}", []string{"zone 0-63.2.0.192.in-addr.arpa lies inside zone 2.0.192.in-addr.arpa"}},
	} {
		_, diags := FromYAML("c.yaml", []byte(strings.Replace(config, "DELEGATION", c.delegation, 1)), nil)
		var got []string
		for _, d := range diags {
			if strings.Contains(d.String(), "which does not delegate it") {
				got = append(got, d.String())
			}
		}
		if len(got) != len(c.want) {
			t.Errorf("%s: findings %q, want %q", c.delegation, got, c.want)
			continue
		}
		for i, w := range c.want {
			if !strings.Contains(got[i], w) {
				t.Errorf("%s: finding %q, want %q", c.delegation, got[i], w)
			}
		}
	}
}
