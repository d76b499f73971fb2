package dnssec

import (
	"crypto"
	"errors"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// The signed data of the fast path is dns.RRSIG's: every signature it
// makes verifies with dns.RRSIG.Verify, over sets of the types a zone
// holds, under a wildcard, with names that are not lower case, and
// with records in any order.
func TestSignFastVerifiesAsReference(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	sets := []struct {
		source string
		rrs    []string
		fast   bool
	}{
		{"", []string{"example.com. 3600 IN MX 20 mx2.example.com.", "example.com. 3600 IN MX 10 mx1.example.com."}, true},
		{"", []string{"example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. 7 3600 900 604800 300"}, true},
		{"", []string{"example.com. 3600 IN NS ns2.example.net.", "example.com. 3600 IN NS ns1.example.com."}, true},
		{"", []string{`example.com. 300 IN TXT "v=spf1 mx -all"`, `example.com. 300 IN TXT "Google-Site-Verification=AbC"`}, true},
		{"", []string{"_25._tcp.mx1.example.com. 300 IN TLSA 3 1 1 2B6E0FA6C0E0D2F0C9A6A9D3C0F6D0E6A1B2C3D4E5F60718293A4B5C6D7E8F90"}, true},
		{"", []string{"_submission._tcp.example.com. 300 IN SRV 0 1 587 mail.example.com."}, true},
		{"", []string{"1.ptr.example.com. 300 IN PTR mx1.example.com."}, true},
		{"", []string{"www.example.com. 300 IN CNAME example.com."}, true},
		{"", []string{"www.example.com. 300 IN AAAA 2001:db8::1", "www.example.com. 300 IN AAAA 2001:db8::2", "www.example.com. 300 IN AAAA 2001:db8::2"}, true},
		{"", []string{"example.com. 300 IN NSEC a.example.com. A NS SOA MX RRSIG NSEC DNSKEY"}, true},
		{"", []string{"example.com. 300 IN CAA 0 issue \"letsencrypt.org\""}, true},
		{"*.example.com.", []string{"any.example.com. 300 IN A 192.0.2.7", "any.example.com. 300 IN A 192.0.2.1"}, true},
		{"", []string{"Mixed.Example.COM. 300 IN A 192.0.2.9"}, true},
		// Names a snapshot never holds: upper case in RDATA the signature
		// lowers. The reference path takes these.
		{"", []string{"example.com. 3600 IN MX 10 MX1.Example.com."}, false},
		{"", []string{"example.com. 3600 IN SOA NS1.example.com. hostmaster.example.com. 7 3600 900 604800 300"}, false},
	}
	for _, alg := range []uint8{dns.ECDSAP256SHA256, dns.ED25519} {
		keys := testKeys(t, alg, CSK)
		k := keys.Keys[0]
		for _, c := range sets {
			var rrs []dns.RR
			for _, s := range c.rrs {
				rrs = append(rrs, mustRR(t, s))
			}
			source := c.source
			if source == "" {
				source = rrs[0].Header().Name
			}
			s := NewSigner(keys, DefaultPolicy(), NewCache(100))
			sig := &dns.RRSIG{Hdr: dns.RR_Header{Name: source, Rrtype: dns.TypeRRSIG, Class: dns.ClassINET, Ttl: rrs[0].Header().Ttl},
				TypeCovered: rrs[0].Header().Rrtype, Algorithm: alg, Labels: uint8(dns.CountLabel(source)), OrigTtl: rrs[0].Header().Ttl,
				KeyTag: k.Tag(), SignerName: keys.Origin, Inception: uint32(now.Add(-time.Hour).Unix()), Expiration: uint32(now.Add(time.Hour).Unix())}
			if c.source != "" {
				sig.Labels--
			}
			err := signFast(sig, k, rrs, source)
			if (err == nil) != c.fast || err != nil && !errors.Is(err, errNotFast) {
				t.Errorf("%s: signFast: %v, want fast %v", c.rrs[0], err, c.fast)
				continue
			}
			sigs, err := s.Sign(rrs, c.source, now)
			if err != nil {
				t.Fatal(err)
			}
			// Verify over the records as a validator sees them: owned by
			// the name asked for, which a wildcard's signature covers.
			if c.fast {
				verify(t, keys, sig, asSource(rrs, source), now)
			}
			verify(t, keys, sigs[0].(*dns.RRSIG), rrs, now)
		}
	}
}

func asSource(rrs []dns.RR, source string) []dns.RR {
	out := make([]dns.RR, len(rrs))
	for i, rr := range rrs {
		out[i] = dns.Copy(rr)
		out[i].Header().Name = source
	}
	return out
}

func TestRawECDSA(t *testing.T) {
	var out [64]byte
	der := []byte{0x30, 0x08, 0x02, 0x02, 0x00, 0x81, 0x02, 0x02, 0x01, 0x02}
	if !rawECDSA(der, out[:]) || out[31] != 0x81 || out[30] != 0 || out[62] != 0x01 || out[63] != 0x02 {
		t.Errorf("rawECDSA(%x) = %x", der, out)
	}
	for _, bad := range [][]byte{nil, {0x30, 0x09, 0x02}, {0x31, 0x00}, {0x30, 0x04, 0x02, 0x05, 0x01, 0x02}} {
		if rawECDSA(bad, out[:]) {
			t.Errorf("rawECDSA(%x) took it", bad)
		}
	}
}

// A key of tag 0 is valid (RFC 4034 appendix B), though dns.RRSIG.Sign
// refuses it as unset: one found on disk still loads and signs, and
// GenerateKey makes none. About one key in 65,536 has it, so the test
// makes Ed25519 keys, the fastest, until one does.
func TestKeyOfTagZeroSigns(t *testing.T) {
	if testing.Short() {
		t.Skip("makes tens of thousands of keys")
	}
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	var zero *Key
	for deadline := time.Now().Add(2 * time.Minute); zero == nil && time.Now().Before(deadline); {
		k := &dns.DNSKEY{Hdr: dns.RR_Header{Name: "example.com.", Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: 3600},
			Flags: dns.ZONE | dns.SEP, Protocol: 3, Algorithm: dns.ED25519}
		priv, err := k.Generate(256)
		if err != nil {
			t.Fatal(err)
		}
		if k.KeyTag() == 0 {
			zero = &Key{DNSKEY: k, Role: CSK, Created: now, Published: now, Active: now, signer: priv.(crypto.Signer)}
		}
	}
	if zero == nil {
		t.Skip("no key of tag 0 made in time")
	}
	b, err := MarshalKeys([]*Key{zero})
	if err != nil {
		t.Fatal(err)
	}
	read, err := UnmarshalKeys("example.com.", b)
	if err != nil {
		t.Fatalf("a key of tag 0 does not load: %v", err)
	}
	keys := &ZoneKeys{Origin: "example.com.", Keys: read}
	set := []dns.RR{mustRR(t, "example.com. 300 IN MX 10 mx1.example.com.")}
	sigs, err := NewSigner(keys, DefaultPolicy(), NewCache(10)).Sign(set, "", now)
	if err != nil {
		t.Fatalf("a key of tag 0 does not sign: %v", err)
	}
	verify(t, keys, sigs[0].(*dns.RRSIG), set, now)
}
