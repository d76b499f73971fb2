package dnssec

import (
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Role is what a key signs.
type Role uint8

const (
	// CSK signs everything: one combined signing key.
	CSK Role = iota
	// KSK signs the DNSKEY set, and the parent's DS points at it.
	KSK
	// ZSK signs every other set.
	ZSK
)

var roleNames = [...]string{"csk", "ksk", "zsk"}

func (r Role) String() string {
	if int(r) < len(roleNames) {
		return roleNames[r]
	}
	return "unknown"
}

// dnskeyTTL is the TTL a Key's DNSKEY carries; the zone serves its own.
const dnskeyTTL = 3600

// Key is one key of a zone and where it stands in its life (RFC 7583
// §3.1): each time is when the event happened, zero until it has.
type Key struct {
	DNSKEY  *dns.DNSKEY
	Role    Role
	Created time.Time
	// Published: in the DNSKEY set. Active: signing (a KSK's successor
	// signs the DNSKEY set from when it is published). Submitted: its
	// CDS and CDNSKEY are published for the parent. DSSeen: the parent
	// publishes its DS. Retired: no longer signing data. Removed: out of
	// the DNSKEY set.
	Published, Active, Submitted, DSSeen, Retired, Removed time.Time
	signer                                                 crypto.Signer
}

// published reports whether the key is in the DNSKEY set.
func (k *Key) published() bool { return !k.Published.IsZero() && k.Removed.IsZero() }

// signsData reports whether the key signs every set but the DNSKEY set.
func (k *Key) signsData() bool { return k.Role != KSK && !k.Active.IsZero() && k.Retired.IsZero() }

// signsKeys reports whether the key signs the DNSKEY, CDS and CDNSKEY
// sets: every published key-signing key, so that a resolver holding the
// DS of either key validates the set throughout a rollover.
func (k *Key) signsKeys() bool { return k.Role != ZSK && k.published() }

// submitted reports whether the key's CDS and CDNSKEY are published.
func (k *Key) submitted() bool {
	return k.Role != ZSK && !k.Submitted.IsZero() && k.DSSeen.IsZero() && k.Removed.IsZero()
}

// WaitsForDS reports whether the key is submitted to the parent and the
// parent has not been seen to publish its DS.
func (k *Key) WaitsForDS() bool { return k.submitted() }

// NamedBy reports whether ds is the DS of this key, one a validator
// follows to it: a key-signing key (a DS naming a ZSK leads to a key
// that signs no DNSKEY set) of the same tag, algorithm and digest.
func (k *Key) NamedBy(ds *dns.DS) bool {
	if k.Role == ZSK || ds.Algorithm != k.DNSKEY.Algorithm || ds.KeyTag != k.DNSKEY.KeyTag() {
		return false
	}
	want := k.DNSKEY.ToDS(ds.DigestType)
	return want != nil && strings.EqualFold(want.Digest, ds.Digest)
}

// GenerateKey makes a key for the zone origin.
func GenerateKey(origin string, alg uint8, role Role, now time.Time) (*Key, error) {
	if alg != dns.ECDSAP256SHA256 && alg != dns.ED25519 {
		return nil, fmt.Errorf("algorithm %d: want ECDSAP256SHA256 (13) or ED25519 (15)", alg)
	}
	k := &dns.DNSKEY{
		Hdr:       dns.RR_Header{Name: dns.CanonicalName(origin), Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: dnskeyTTL},
		Flags:     dns.ZONE,
		Protocol:  3,
		Algorithm: alg,
	}
	if role != ZSK {
		k.Flags |= dns.SEP
	}
	// A tag of 0 is a valid tag, but dns.RRSIG.Sign refuses it as unset,
	// and so may other tools: about one key in 65,536 is made again.
	var priv crypto.PrivateKey
	for {
		var err error
		if priv, err = k.Generate(256); err != nil {
			return nil, fmt.Errorf("generate key: %w", err)
		}
		if k.KeyTag() != 0 {
			break
		}
	}
	signer, ok := priv.(crypto.Signer)
	if !ok {
		return nil, errors.New("generate key: not a signing key")
	}
	return &Key{DNSKEY: k, Role: role, Created: now.UTC().Truncate(time.Second), signer: signer}, nil
}

// Tag is the key's tag (RFC 4034 appendix B).
func (k *Key) Tag() uint16 { return k.DNSKEY.KeyTag() }

// DS is the key's DS record with a SHA-256 digest, as parents want it.
func (k *Key) DS() *dns.DS { return k.DNSKEY.ToDS(dns.SHA256) }

// keyFile is the file format of a zone's keys: versioned JSON, each key
// as its DNSKEY in presentation form and its private part in the format
// of BIND's Private-key-format v1.3 (which dnssec-keygen and ldns read).
type keyFile struct {
	Version   int        `json:"version"`
	Keys      []keyJSON  `json:"keys"`
	Unsigning *time.Time `json:"unsigning,omitempty"`
	DSGone    *time.Time `json:"ds_gone,omitempty"`
}

// Unsigning is where a zone whose dnssec: was removed stands on its way
// to unsigned (RFC 8078 §4): since when it asks the parent to delete its
// DS, and when the parent was seen to have done so.
type Unsigning struct {
	Since, DSGone time.Time
}

type keyJSON struct {
	Role      string     `json:"role"`
	Created   time.Time  `json:"created"`
	Published *time.Time `json:"published,omitempty"`
	Active    *time.Time `json:"active,omitempty"`
	Submitted *time.Time `json:"submitted,omitempty"`
	DSSeen    *time.Time `json:"ds_seen,omitempty"`
	Retired   *time.Time `json:"retired,omitempty"`
	Removed   *time.Time `json:"removed,omitempty"`
	DNSKEY    string     `json:"dnskey"`
	Private   string     `json:"private"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

func timeOf(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

const keyFileVersion = 1

// MarshalKeys writes keys in the key file format.
func MarshalKeys(keys []*Key) ([]byte, error) { return MarshalZone(keys, Unsigning{}) }

// MarshalZone writes a zone's keys and its unsigning in the key file
// format.
func MarshalZone(keys []*Key, u Unsigning) ([]byte, error) {
	f := keyFile{Version: keyFileVersion, Unsigning: timePtr(u.Since), DSGone: timePtr(u.DSGone)}
	for _, k := range keys {
		f.Keys = append(f.Keys, keyJSON{Role: k.Role.String(), Created: k.Created,
			Published: timePtr(k.Published), Active: timePtr(k.Active), Submitted: timePtr(k.Submitted),
			DSSeen: timePtr(k.DSSeen), Retired: timePtr(k.Retired), Removed: timePtr(k.Removed),
			DNSKEY: k.DNSKEY.String(), Private: k.DNSKEY.PrivateKeyString(k.signer)})
	}
	return json.MarshalIndent(f, "", "  ")
}

// UnmarshalKeys reads a key file of the zone origin.
func UnmarshalKeys(origin string, b []byte) ([]*Key, error) {
	keys, _, err := UnmarshalZone(origin, b)
	return keys, err
}

// UnmarshalZone reads a key file of the zone origin with its unsigning.
func UnmarshalZone(origin string, b []byte) ([]*Key, Unsigning, error) {
	var f keyFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, Unsigning{}, fmt.Errorf("not a key file: %w", err)
	}
	if f.Version != keyFileVersion {
		return nil, Unsigning{}, fmt.Errorf("key file version %d: want %d", f.Version, keyFileVersion)
	}
	var keys []*Key
	for i, kj := range f.Keys {
		k, err := readKey(origin, kj)
		if err != nil {
			return nil, Unsigning{}, fmt.Errorf("key %d: %w", i+1, err)
		}
		keys = append(keys, k)
	}
	return keys, Unsigning{Since: timeOf(f.Unsigning), DSGone: timeOf(f.DSGone)}, nil
}

func readKey(origin string, kj keyJSON) (*Key, error) {
	rr, err := dns.NewRR(kj.DNSKEY)
	if err != nil {
		return nil, fmt.Errorf("dnskey: %w", err)
	}
	pub, ok := rr.(*dns.DNSKEY)
	if !ok || !strings.EqualFold(pub.Hdr.Name, dns.Fqdn(origin)) {
		return nil, fmt.Errorf("dnskey: want a DNSKEY of %s", origin)
	}
	priv, err := pub.ReadPrivateKey(strings.NewReader(kj.Private), "key file")
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	signer, ok := priv.(crypto.Signer)
	if !ok {
		return nil, errors.New("private key: not a signing key")
	}
	role := -1
	for i, name := range roleNames {
		if name == kj.Role {
			role = i
		}
	}
	if role < 0 {
		return nil, fmt.Errorf("role %q: want csk, ksk or zsk", kj.Role)
	}
	k := &Key{DNSKEY: pub, Role: Role(role), Created: kj.Created,
		Published: timeOf(kj.Published), Active: timeOf(kj.Active), Submitted: timeOf(kj.Submitted),
		DSSeen: timeOf(kj.DSSeen), Retired: timeOf(kj.Retired), Removed: timeOf(kj.Removed), signer: signer}
	if err := k.selfTest(); err != nil {
		return nil, err
	}
	return k, nil
}

// selfTest signs a record and verifies it with the DNSKEY: a private key
// that does not belong to its public key would sign a zone no validator
// accepts.
func (k *Key) selfTest() error {
	name := dns.CanonicalName(k.DNSKEY.Hdr.Name)
	rr := []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 1}, A: []byte{192, 0, 2, 1}}}
	sig := &dns.RRSIG{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeRRSIG, Class: dns.ClassINET, Ttl: 1},
		TypeCovered: dns.TypeA, Algorithm: k.DNSKEY.Algorithm, Labels: uint8(dns.CountLabel(name)), OrigTtl: 1,
		KeyTag: k.Tag(), SignerName: name, Inception: 1, Expiration: 2}
	// The signer's own path, which takes a key of tag 0 (one made before
	// GenerateKey avoided them): dns.RRSIG.Sign would refuse it.
	if err := signFast(sig, k, rr, name); err != nil {
		return fmt.Errorf("private key: %w", err)
	}
	if err := sig.Verify(k.DNSKEY, rr); err != nil {
		return fmt.Errorf("private key %d does not match its DNSKEY", k.Tag())
	}
	return nil
}

// ZoneKeys are the keys of one zone as a snapshot serves them: what the
// DNSKEY set holds, which keys sign, and which are submitted to the
// parent. It is never changed once made; a key event makes a new one.
type ZoneKeys struct {
	Origin string
	// Keys are the published keys, in the order they were made.
	Keys []*Key
	// Next is when a key event is due (zero: none), and WaitingForDS
	// says a new key waits for the parent's DS: DSSeen moves it on.
	Next         time.Time
	WaitingForDS bool
	// Epoch numbers the signature period the keys were taken in: it
	// moves every Refresh, and with it the zone's serial, so that
	// secondaries transfer fresh signatures before theirs expire (the
	// signatures themselves are made as they are asked for).
	Epoch int64
	// Deleting says the zone is on its way to unsigned: it publishes
	// the CDS and CDNSKEY that ask the parent to delete its DS (RFC 8078
	// §4); WaitingForDSGone that the parent has not been seen to.
	Deleting, WaitingForDSGone bool
}

// SignatureEpoch is the signature period of the zone origin at now, and
// when the next begins: periods of refresh, each zone's shifted by a
// hash of its name, so that ten thousand zones do not all move their
// serials, and NOTIFY their secondaries, in the same second.
func SignatureEpoch(origin string, now time.Time, refresh time.Duration) (int64, time.Time) {
	period := max(int64(refresh/time.Second), 1)
	h := fnv.New64a()
	h.Write([]byte(dns.CanonicalName(origin)))
	shift := int64(h.Sum64() % uint64(period))
	epoch := (now.Unix() + shift) / period
	return epoch, time.Unix((epoch+1)*period-shift, 0)
}

// NewZoneKeys is the view of all, a zone's keys, that a snapshot serves.
func NewZoneKeys(origin string, all []*Key, next time.Time) *ZoneKeys {
	z := &ZoneKeys{Origin: dns.CanonicalName(origin), Next: next}
	for _, k := range all {
		if k.published() {
			z.Keys = append(z.Keys, k)
		}
		if k.submitted() {
			z.WaitingForDS = true
		}
	}
	return z
}

// DNSKEYs is the zone's DNSKEY set with ttl, fresh copies.
func (z *ZoneKeys) DNSKEYs(ttl uint32) []dns.RR {
	out := make([]dns.RR, 0, len(z.Keys))
	for _, k := range z.Keys {
		rr := dns.Copy(k.DNSKEY)
		rr.Header().Ttl = ttl
		out = append(out, rr)
	}
	return out
}

// CDS are the CDS and CDNSKEY records (RFC 7344) of the keys submitted to
// the parent, with ttl: the DS set the zone asks the parent to publish.
func (z *ZoneKeys) CDS(ttl uint32) (cds, cdnskey []dns.RR) {
	if z.Deleting {
		hdr := func(t uint16) dns.RR_Header {
			return dns.RR_Header{Name: z.Origin, Rrtype: t, Class: dns.ClassINET, Ttl: ttl}
		}
		del := &dns.CDS{DS: dns.DS{Hdr: hdr(dns.TypeCDS), Digest: "00"}}
		delKey := &dns.CDNSKEY{DNSKEY: dns.DNSKEY{Hdr: hdr(dns.TypeCDNSKEY), Protocol: 3, PublicKey: "AA=="}}
		return []dns.RR{del}, []dns.RR{delKey}
	}
	for _, k := range z.Keys {
		if !k.submitted() {
			continue
		}
		ds := k.DS()
		ds.Hdr.Ttl = ttl
		c := &dns.CDS{DS: *ds}
		c.Hdr.Rrtype = dns.TypeCDS
		cds = append(cds, c)
		key := dns.Copy(k.DNSKEY).(*dns.DNSKEY)
		key.Hdr.Ttl = ttl
		ck := &dns.CDNSKEY{DNSKEY: *key}
		ck.Hdr.Rrtype = dns.TypeCDNSKEY
		cdnskey = append(cdnskey, ck)
	}
	return cds, cdnskey
}

// SigningKeys are the keys that sign sets of rtype: the DNSKEY, CDS and
// CDNSKEY sets by every published CSK or KSK, every other set by the
// active CSK or ZSK.
func (z *ZoneKeys) SigningKeys(rtype uint16) []*Key {
	return z.appendSigningKeys(nil, rtype)
}

// appendSigningKeys is SigningKeys into out, which the signer keeps on
// its stack: it runs on every signed answer.
func (z *ZoneKeys) appendSigningKeys(out []*Key, rtype uint16) []*Key {
	keySet := rtype == dns.TypeDNSKEY || rtype == dns.TypeCDS || rtype == dns.TypeCDNSKEY
	for _, k := range z.Keys {
		if keySet && k.signsKeys() || !keySet && k.signsData() {
			out = append(out, k)
		}
	}
	return out
}
