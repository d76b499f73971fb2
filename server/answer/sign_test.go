package answer

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/dnssec"
	"github.com/mxdns/mxdns/zone"
)

// memoryKeys makes each zone a CSK on first use and keeps it in memory.
type memoryKeys map[string]*dnssec.ZoneKeys

func (m memoryKeys) get(t testing.TB, origin string, p dnssec.Policy) *dnssec.ZoneKeys {
	if k := m[origin]; k != nil {
		return k
	}
	k, err := dnssec.GenerateKey(origin, p.Algorithm, dnssec.CSK, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	k.Published, k.Active = k.Created, k.Created
	m[origin] = dnssec.NewZoneKeys(origin, []*dnssec.Key{k}, time.Time{})
	return m[origin]
}

type keySource struct {
	t    testing.TB
	keys memoryKeys
}

func (ks keySource) HasKeys(string) bool { return false }

func (ks keySource) Unsign(string, dnssec.Timing) (*dnssec.ZoneKeys, error) { return nil, nil }

func (ks keySource) Keys(origin string, p dnssec.Policy, _ dnssec.Timing) (*dnssec.ZoneKeys, error) {
	return ks.keys.get(ks.t, origin, p), nil
}

const signedConfig = `
dnssec: on
links:
  wan1:
  wan2:
zones:
  example.com:
    ns: [ns1]
    records:
      "@": {mx: ["10;mx1", "20;mx2"]}
      mx1: {a: {wan1: 192.0.2.1}}
      mx2: {a: {wan2: 198.51.100.1}}
      ns1: {a: 192.0.2.53}
      "*.wild": {txt: hello}
      sub: {ns: [ns.sub]}
      ns.sub: {a: 192.0.2.54}
`

// signedServer serves signedConfig, signed, with the links of up.
func signedServer(t *testing.T, up zone.LinkSet) (*tsrv, memoryKeys) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(signedConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	keys := memoryKeys{}
	l := zone.Open(path, nil, zone.Options{Strict: true, Keys: keySource{t, keys}})
	if err := l.Diags.Err(); err != nil {
		t.Fatal(err)
	}
	cache := dnssec.NewCache(1000)
	signers := Signers{}
	for _, origin := range l.Snapshot.SignedZones() {
		p, _ := l.Snapshot.Signing(origin)
		signers[origin] = dnssec.NewSigner(l.Snapshot.Keys(origin), p, cache)
	}
	s := testServer(t, l.Snapshot)
	s.state.Store(NewState(l.Snapshot, up, signers))
	return s, keys
}

// checkSigned verifies every RRSIG of each section against the set it
// covers in that section, and returns how many there were.
func checkSigned(t *testing.T, keys memoryKeys, sections ...[]dns.RR) int {
	t.Helper()
	n := 0
	for _, rrs := range sections {
		for _, rr := range rrs {
			sig, ok := rr.(*dns.RRSIG)
			if !ok {
				continue
			}
			n++
			var set []dns.RR
			for _, x := range rrs {
				if x.Header().Rrtype == sig.TypeCovered && x.Header().Name == sig.Hdr.Name {
					set = append(set, x)
				}
			}
			key := keys[sig.SignerName].Keys[0].DNSKEY
			if err := sig.Verify(key, set); err != nil || !sig.ValidityPeriod(time.Now()) {
				t.Errorf("%s does not verify over %v: %v", sig, set, err)
			}
		}
	}
	return n
}

func doQuery(name string, qtype uint16, do bool) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.SetEdns0(1232, do)
	return m
}

func TestSignedAnswers(t *testing.T) {
	s, keys := signedServer(t, zone.AllLinks)
	for _, tc := range []struct {
		name   string
		qtype  uint16
		rcode  int
		sigs   int // RRSIGs in all sections
		noSigs bool
	}{
		{"example.com.", dns.TypeMX, dns.RcodeSuccess, 3, false}, // MX, and A of mx1 and mx2 in additional
		{"example.com.", dns.TypeDNSKEY, dns.RcodeSuccess, 1, false},
		{"nope.example.com.", dns.TypeA, dns.RcodeNameError, 3, false}, // SOA and two NSEC
		{"mx1.example.com.", dns.TypeAAAA, dns.RcodeSuccess, 2, false}, // SOA and the name's NSEC
		{"x.wild.example.com.", dns.TypeTXT, dns.RcodeSuccess, 2, false},
		{"www.sub.example.com.", dns.TypeA, dns.RcodeSuccess, 1, false}, // the cut's NSEC, not its NS or glue
	} {
		r := ask(t, s, "udp", doQuery(tc.name, tc.qtype, true))
		if r.Rcode != tc.rcode {
			t.Errorf("%s %s: rcode %s", tc.name, dns.TypeToString[tc.qtype], dns.RcodeToString[r.Rcode])
		}
		if n := checkSigned(t, keys, r.Answer, r.Ns, r.Extra); n != tc.sigs {
			t.Errorf("%s %s: %d RRSIGs, want %d:\n%s", tc.name, dns.TypeToString[tc.qtype], n, tc.sigs, r)
		}
		// Asked again, the answer cache gives the same reply.
		again := ask(t, s, "udp", doQuery(tc.name, tc.qtype, true))
		again.Id = r.Id
		if again.String() != r.String() {
			t.Errorf("%s %s: asked again:\n%s\nfirst:\n%s", tc.name, dns.TypeToString[tc.qtype], again, r)
		}
		plain := ask(t, s, "udp", doQuery(tc.name, tc.qtype, false))
		if checkSigned(t, keys, plain.Answer, plain.Ns, plain.Extra) != 0 || hasType(plain, dns.TypeNSEC) {
			t.Errorf("%s %s without DO carries DNSSEC records:\n%s", tc.name, dns.TypeToString[tc.qtype], plain)
		}
	}
}

func hasType(m *dns.Msg, rtype uint16) bool {
	for _, rr := range append(append(m.Answer, m.Ns...), m.Extra...) {
		if rr.Header().Rrtype == rtype {
			return true
		}
	}
	return false
}

// Each view that link state gives is a set of its own, signed as served.
func TestLinkDependentAnswersAreSigned(t *testing.T) {
	for _, up := range []zone.LinkSet{zone.AllLinks, zone.LinkSet(0).With(1)} {
		s, keys := signedServer(t, up)
		r := ask(t, s, "udp", doQuery("example.com.", dns.TypeMX, true))
		if n := checkSigned(t, keys, r.Answer, r.Extra); n == 0 {
			t.Errorf("up %b: no signatures:\n%s", up, r)
		}
		mx := 0
		for _, rr := range r.Answer {
			if rr.Header().Rrtype == dns.TypeMX {
				mx++
			}
		}
		if want := map[bool]int{true: 2, false: 1}[up == zone.AllLinks]; mx != want {
			t.Errorf("up %b: %d MX, want %d", up, mx, want)
		}
	}
}

func TestSignedTransferCarriesTheChain(t *testing.T) {
	s, keys := signedServer(t, zone.AllLinks)
	st := s.state.Load()
	rrs, _ := st.Snap.Records("example.com.")
	signed, err := st.signZone("example.com.", rrs)
	if err != nil {
		t.Fatal(err)
	}
	nsec := 0
	for _, rr := range signed {
		if rr.Header().Rrtype == dns.TypeNSEC {
			nsec++
		}
		if sig, ok := rr.(*dns.RRSIG); ok && (sig.TypeCovered == dns.TypeNS && sig.Hdr.Name == "sub.example.com." || sig.Hdr.Name == "ns.sub.example.com.") {
			t.Errorf("delegation signed: %s", sig)
		}
	}
	if nsec != 6 { // apex, mx1, mx2, ns1, sub, *.wild
		t.Errorf("%d NSEC records, want 6", nsec)
	}
	// The apex's NS, SOA, MX and DNSKEY, the A of mx1, mx2 and ns1, the
	// wildcard's TXT, and the six NSEC sets.
	if n := checkSigned(t, keys, signed); n != 14 {
		t.Errorf("%d RRSIGs, want 14", n)
	}
}
