package dnssec

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func mustRR(t *testing.T, s string) dns.RR {
	t.Helper()
	rr, err := dns.NewRR(s)
	if err != nil {
		t.Fatal(err)
	}
	return rr
}

func testKeys(t *testing.T, alg uint8, roles ...Role) *ZoneKeys {
	t.Helper()
	z := &ZoneKeys{Origin: "example.com."}
	for _, r := range roles {
		k, err := GenerateKey("example.com.", alg, r, time.Unix(1e9, 0))
		if err != nil {
			t.Fatal(err)
		}
		k.Published, k.Active = k.Created, k.Created
		z.Keys = append(z.Keys, k)
	}
	return z
}

// verify checks sig over rrs as a validator does: a signature whose
// Labels is fewer than the owner's was made over the wildcard.
func verify(t *testing.T, keys *ZoneKeys, sig *dns.RRSIG, rrs []dns.RR, now time.Time) {
	t.Helper()
	var key *dns.DNSKEY
	for _, k := range keys.Keys {
		if k.Tag() == sig.KeyTag {
			key = k.DNSKEY
		}
	}
	if key == nil {
		t.Fatalf("no key %d", sig.KeyTag)
	}
	if err := sig.Verify(key, rrs); err != nil {
		t.Errorf("%s does not verify: %v", sig, err)
	}
	if !sig.ValidityPeriod(now) {
		t.Errorf("%s is not valid now", sig)
	}
}

func TestSignVerifies(t *testing.T) {
	now := time.Date(2026, 12, 5, 12, 30, 0, 0, time.UTC)
	for _, alg := range []uint8{dns.ECDSAP256SHA256, dns.ED25519} {
		keys := testKeys(t, alg, CSK)
		s := NewSigner(keys, DefaultPolicy(), NewCache(100))
		rrs := []dns.RR{
			mustRR(t, "example.com. 3600 IN MX 20 mx2.example.com."),
			mustRR(t, "example.com. 3600 IN MX 10 mx1.example.com."),
		}
		sigs, err := s.Sign(rrs, "", now)
		if err != nil || len(sigs) != 1 {
			t.Fatalf("Sign: %v, %d signatures", err, len(sigs))
		}
		sig := sigs[0].(*dns.RRSIG)
		verify(t, keys, sig, rrs, now)
		if sig.Hdr.Ttl != 3600 || sig.OrigTtl != 3600 || sig.SignerName != "example.com." || sig.Labels != 2 {
			t.Errorf("RRSIG fields: %s", sig)
		}
		if got := time.Unix(int64(sig.Expiration), 0).Sub(time.Unix(int64(sig.Inception), 0)); got != 14*24*time.Hour {
			t.Errorf("validity %s, want the signature lifetime", got)
		}

		// A wildcard's answer, synthesised for two names, is signed over
		// the wildcard once.
		x := []dns.RR{mustRR(t, "x.wild.example.com. 300 IN A 192.0.2.1")}
		y := []dns.RR{mustRR(t, "y.wild.example.com. 300 IN A 192.0.2.1")}
		sx, err := s.Sign(x, "*.wild.example.com.", now)
		if err != nil {
			t.Fatal(err)
		}
		sy, _ := s.Sign(y, "*.wild.example.com.", now)
		if sx[0].Header().Name != "x.wild.example.com." || sx[0].(*dns.RRSIG).Labels != 3 {
			t.Errorf("wildcard RRSIG: %s", sx[0])
		}
		verify(t, keys, sx[0].(*dns.RRSIG), x, now)
		verify(t, keys, sy[0].(*dns.RRSIG), y, now)
		if sx[0].(*dns.RRSIG).Signature != sy[0].(*dns.RRSIG).Signature {
			t.Error("a wildcard's answers for two names were signed twice")
		}
	}
}

// ECDSA signatures are randomised: equal bytes prove the cache answered.
func TestSignaturesAreRememberedUntilRefresh(t *testing.T) {
	keys := testKeys(t, dns.ECDSAP256SHA256, CSK)
	p := DefaultPolicy()
	s := NewSigner(keys, p, NewCache(100))
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	a := []dns.RR{mustRR(t, "www.example.com. 60 IN A 192.0.2.1"), mustRR(t, "www.example.com. 60 IN A 192.0.2.2")}
	rotated := []dns.RR{a[1], a[0]}
	first, _ := s.Sign(a, "", now)
	again, _ := s.Sign(rotated, "", now.Add(time.Hour))
	if first[0].(*dns.RRSIG).Signature != again[0].(*dns.RRSIG).Signature {
		t.Error("the same set in another order was signed again")
	}
	other, _ := s.Sign([]dns.RR{mustRR(t, "www.example.com. 30 IN A 192.0.2.1"), mustRR(t, "www.example.com. 30 IN A 192.0.2.2")}, "", now)
	if other[0].(*dns.RRSIG).Signature == first[0].(*dns.RRSIG).Signature {
		t.Error("another TTL shared a signature")
	}
	late := now.Add(p.SignatureLifetime - p.Refresh)
	renewed, _ := s.Sign(a, "", late)
	if renewed[0].(*dns.RRSIG).Signature == first[0].(*dns.RRSIG).Signature {
		t.Error("a signature due for refresh was served again")
	}
	verify(t, keys, renewed[0].(*dns.RRSIG), a, late)
}

func TestCacheIsBounded(t *testing.T) {
	keys := testKeys(t, dns.ED25519, CSK)
	c := NewCache(cacheShards * 2)
	s := NewSigner(keys, DefaultPolicy(), c)
	now := time.Now()
	for i := range 2000 {
		rr := mustRR(t, "example.com. 60 IN TXT \"x\"")
		rr.(*dns.TXT).Txt = []string{strings.Repeat("x", i%200) + string(rune('a'+i%26))}
		if _, err := s.Sign([]dns.RR{rr}, "", now); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	for i := range c.shards {
		n += len(c.shards[i].m)
	}
	if n > cacheShards*2 {
		t.Errorf("%d entries, bound %d", n, cacheShards*2)
	}
}

func TestSplitKeysSignByRole(t *testing.T) {
	keys := testKeys(t, dns.ECDSAP256SHA256, KSK, ZSK)
	s := NewSigner(keys, DefaultPolicy(), NewCache(10))
	now := time.Now()
	dnskeys := keys.DNSKEYs(3600)
	sigs, _ := s.Sign(dnskeys, "", now)
	if len(sigs) != 1 || sigs[0].(*dns.RRSIG).KeyTag != keys.Keys[0].Tag() {
		t.Errorf("DNSKEY set signed by %v, want the KSK", sigs)
	}
	sigs, _ = s.Sign([]dns.RR{mustRR(t, "example.com. 60 IN A 192.0.2.1")}, "", now)
	if len(sigs) != 1 || sigs[0].(*dns.RRSIG).KeyTag != keys.Keys[1].Tag() {
		t.Errorf("A set signed by %v, want the ZSK", sigs)
	}
	if keys.Keys[0].DNSKEY.Flags != 257 || keys.Keys[1].DNSKEY.Flags != 256 {
		t.Errorf("flags %d %d", keys.Keys[0].DNSKEY.Flags, keys.Keys[1].DNSKEY.Flags)
	}
}

func TestKeysRoundTrip(t *testing.T) {
	keys := testKeys(t, dns.ECDSAP256SHA256, CSK).Keys
	keys = append(keys, testKeys(t, dns.ED25519, ZSK).Keys...)
	b, err := MarshalKeys(keys)
	if err != nil {
		t.Fatal(err)
	}
	back, err := UnmarshalKeys("example.com.", b)
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != 2 || back[0].Tag() != keys[0].Tag() || back[1].Role != ZSK || !back[0].Created.Equal(keys[0].Created) {
		t.Fatalf("round trip: %+v", back)
	}
	rr := []dns.RR{mustRR(t, "example.com. 60 IN A 192.0.2.1")}
	sigs, err := NewSigner(&ZoneKeys{Origin: "example.com.", Keys: back[:1]}, DefaultPolicy(), NewCache(1)).Sign(rr, "", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	verify(t, &ZoneKeys{Keys: keys}, sigs[0].(*dns.RRSIG), rr, time.Now())
	if ds := keys[0].DS(); ds.Digest != keys[0].DNSKEY.ToDS(dns.SHA256).Digest || ds.DigestType != dns.SHA256 {
		t.Errorf("DS %s", ds)
	}
	other, _ := MarshalKeys(testKeys(t, dns.ECDSAP256SHA256, CSK).Keys)
	swapped := string(b[:strings.Index(string(b), `"private"`)]) + string(other[strings.Index(string(other), `"private"`):])
	for _, bad := range []string{"", "{", `{"version":2}`, swapped} {
		if _, err := UnmarshalKeys("example.com.", []byte(bad)); err == nil {
			t.Errorf("UnmarshalKeys(%.30q) read it", bad)
		}
	}
	if _, err := UnmarshalKeys("example.org.", b); err == nil {
		t.Error("keys of another zone were read")
	}
}

func BenchmarkSignCached(b *testing.B) {
	keys := &ZoneKeys{Origin: "example.com."}
	k, _ := GenerateKey("example.com.", dns.ECDSAP256SHA256, CSK, time.Now())
	k.Published, k.Active = k.Created, k.Created
	keys.Keys = []*Key{k}
	s := NewSigner(keys, DefaultPolicy(), NewCache(100))
	rr1, _ := dns.NewRR("example.com. 3600 IN MX 10 mx1.example.com.")
	rr2, _ := dns.NewRR("example.com. 3600 IN MX 20 mx2.example.com.")
	set := []dns.RR{rr1, rr2}
	now := time.Now()
	s.Sign(set, "", now)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Sign(set, "", now); err != nil {
			b.Fatal(err)
		}
	}
}

// sameTag is a key whose tag is k's and whose public key is not: two of
// its octets at even offsets swapped, which keeps the tag's sum (RFC 4034
// appendix B). It signs with k's private key.
func sameTag(t *testing.T, k *Key) *Key {
	t.Helper()
	pub, err := base64.StdEncoding.DecodeString(k.DNSKEY.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	j := 2
	for j < len(pub) && pub[j] == pub[0] {
		j += 2
	}
	if j >= len(pub) {
		t.Fatalf("public key %q has no two even octets to swap", k.DNSKEY.PublicKey)
	}
	pub[0], pub[j] = pub[j], pub[0]
	twin := *k
	twin.DNSKEY = dns.Copy(k.DNSKEY).(*dns.DNSKEY)
	twin.DNSKEY.PublicKey = base64.StdEncoding.EncodeToString(pub)
	if twin.Tag() != k.Tag() {
		t.Fatalf("tags %d and %d", twin.Tag(), k.Tag())
	}
	return &twin
}

// A signature is remembered for the key that made it, not for its tag:
// one key's signatures served for another of the same tag would stop
// validating once the first left the DNSKEY set.
func TestCacheTellsKeysOfOneTagApart(t *testing.T) {
	keys := testKeys(t, dns.ECDSAP256SHA256, CSK)
	twin := &ZoneKeys{Origin: keys.Origin, Keys: []*Key{sameTag(t, keys.Keys[0])}}
	c := NewCache(100)
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	rrs := []dns.RR{mustRR(t, "www.example.com. 60 IN A 192.0.2.1")}
	first, _ := NewSigner(keys, DefaultPolicy(), c).Sign(rrs, "", now)
	second, _ := NewSigner(twin, DefaultPolicy(), c).Sign(rrs, "", now)
	if first[0].(*dns.RRSIG).Signature == second[0].(*dns.RRSIG).Signature {
		t.Error("a key was given the signature of another with its tag")
	}
}

// The cache is shared by every zone: a set two zones sign alike (a key
// file copied from one zone to another) is signed by each.
func TestCacheTellsZonesApart(t *testing.T) {
	keys := testKeys(t, dns.ECDSAP256SHA256, CSK)
	other := &ZoneKeys{Origin: "example.net.", Keys: keys.Keys}
	c := NewCache(100)
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	rrs := []dns.RR{mustRR(t, "www.example.com. 60 IN A 192.0.2.1")}
	NewSigner(keys, DefaultPolicy(), c).Sign(rrs, "", now)
	sigs, _ := NewSigner(other, DefaultPolicy(), c).Sign(rrs, "", now)
	if got := sigs[0].(*dns.RRSIG).SignerName; got != "example.net." {
		t.Errorf("signer name %s, want example.net.", got)
	}
}

// A set already signed is answered from the cache without allocating:
// Sign runs for every signed answer.
func TestCacheHitAllocatesNothing(t *testing.T) {
	keys := testKeys(t, dns.ECDSAP256SHA256, KSK, ZSK)
	s := NewSigner(keys, DefaultPolicy(), NewCache(100))
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	set := []dns.RR{mustRR(t, "example.com. 3600 IN MX 10 mx1.example.com."), mustRR(t, "example.com. 3600 IN MX 20 mx2.example.com.")}
	if _, err := s.Sign(set, "", now); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := s.Sign(set, "example.com.", now); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("a cache hit allocates %v times, want 0", allocs)
	}
}

// A set holding a record twice is signed as the set without the copy
// (RFC 4034 §6.3), and by the same signature.
func TestDuplicatesAreSignedOnce(t *testing.T) {
	keys := testKeys(t, dns.ECDSAP256SHA256, CSK)
	s := NewSigner(keys, DefaultPolicy(), NewCache(100))
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	set := []dns.RR{mustRR(t, "www.example.com. 60 IN A 192.0.2.1"), mustRR(t, "www.example.com. 60 IN A 192.0.2.2")}
	twice := []dns.RR{set[1], set[0], mustRR(t, "www.example.com. 60 IN A 192.0.2.2")}
	a, err := s.Sign(twice, "", now)
	if err != nil {
		t.Fatal(err)
	}
	verify(t, keys, a[0].(*dns.RRSIG), set, now)
	if b, _ := s.Sign(set, "", now); b[0].(*dns.RRSIG).Signature != a[0].(*dns.RRSIG).Signature {
		t.Error("the set without its copy was signed again")
	}
}

func TestGenerateKeyAlgorithms(t *testing.T) {
	for _, alg := range []uint8{dns.RSASHA256, dns.ECDSAP384SHA384, 0} {
		if _, err := GenerateKey("example.com.", alg, CSK, time.Now()); err == nil {
			t.Errorf("GenerateKey made a key of algorithm %d", alg)
		}
	}
	for _, alg := range []uint8{dns.ECDSAP256SHA256, dns.ED25519} {
		k, err := GenerateKey("Example.COM", alg, ZSK, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		h := k.DNSKEY.Hdr
		if h.Name != "example.com." || h.Class != dns.ClassINET || h.Ttl != 3600 || k.DNSKEY.Flags != 256 || k.DNSKEY.Protocol != 3 || k.DNSKEY.Algorithm != alg {
			t.Errorf("DNSKEY %s", k.DNSKEY)
		}
	}
}

func BenchmarkSignFresh(b *testing.B) {
	keys := &ZoneKeys{Origin: "example.com."}
	k, _ := GenerateKey("example.com.", dns.ECDSAP256SHA256, CSK, time.Now())
	k.Published, k.Active = k.Created, k.Created
	keys.Keys = []*Key{k}
	s := NewSigner(keys, DefaultPolicy(), NewCache(100))
	rr1, _ := dns.NewRR("example.com. 3600 IN MX 10 mx1.example.com.")
	rr2, _ := dns.NewRR("example.com. 3600 IN MX 20 mx2.example.com.")
	set := []dns.RR{rr1, rr2}
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.sign(set, "example.com.", keys.Keys, now); err != nil {
			b.Fatal(err)
		}
	}
}
