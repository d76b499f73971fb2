package dnssec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// Signer signs the RRsets of one zone with its keys under its policy.
type Signer struct {
	keys   *ZoneKeys
	policy Policy
	cache  *Cache
	// soonest is the earliest expiration (Unix seconds) of a signature
	// handed out since the last ResetExpiry: what /status shows.
	soonest atomic.Int64
}

// SoonestExpiry is the earliest expiration of a signature handed out
// since the last ResetExpiry, zero when none was.
func (s *Signer) SoonestExpiry() time.Time {
	if v := s.soonest.Load(); v != 0 {
		return time.Unix(v, 0)
	}
	return time.Time{}
}

// ResetExpiry starts a new period for SoonestExpiry.
func (s *Signer) ResetExpiry() { s.soonest.Store(0) }

func (s *Signer) noteExpiry(sigs []dns.RR) {
	for _, sig := range sigs {
		exp := int64(sig.(*dns.RRSIG).Expiration)
		for {
			cur := s.soonest.Load()
			if cur != 0 && cur <= exp || s.soonest.CompareAndSwap(cur, exp) {
				break
			}
		}
	}
}

// NoteExpiry counts the RRSIGs among rrs as handed out, for
// SoonestExpiry: signatures made before and sent again, as a transfer of
// a version kept since sends them.
func (s *Signer) NoteExpiry(rrs []dns.RR) {
	var batch [16]dns.RR
	sigs := batch[:0]
	for _, rr := range rrs {
		if _, ok := rr.(*dns.RRSIG); ok {
			if sigs = append(sigs, rr); len(sigs) == len(batch) {
				s.noteExpiry(sigs)
				sigs = sigs[:0]
			}
		}
	}
	s.noteExpiry(sigs)
}

// NewSigner signs with keys under p, remembering signatures in cache.
func NewSigner(keys *ZoneKeys, p Policy, cache *Cache) *Signer {
	return &Signer{keys: keys, policy: p, cache: cache}
}

// Keys are the keys the signer signs with.
func (s *Signer) Keys() *ZoneKeys { return s.keys }

// Policy is the policy the signer signs under.
func (s *Signer) Policy() Policy { return s.policy }

// skew is how far before now a signature's validity starts, for
// validators whose clocks are behind.
const skew = time.Hour

// Sign returns one RRSIG per signing key over rrs, one RRset (same owner,
// type and class, in any order). source is the name owning the records in
// the zone: their owner, or the wildcard ("*.example.com.") that
// synthesised them, over which the signature is made (RFC 4035 §5.3.2);
// the RRSIGs returned are owned by the records' owner. A signature is
// made once and remembered by content until Refresh before it expires.
// The records returned are shared: read them only.
func (s *Signer) Sign(rrs []dns.RR, source string, now time.Time) ([]dns.RR, error) {
	if len(rrs) == 0 {
		return nil, nil
	}
	h := rrs[0].Header()
	owner := h.Name
	if source == "" {
		source = owner
	}
	var room [4]*Key // a zone has two or three signing keys at most
	keys := s.keys.appendSigningKeys(room[:0], h.Rrtype)
	if len(keys) == 0 {
		return nil, fmt.Errorf("zone %s has no key to sign %s", s.keys.Origin, dns.TypeToString[h.Rrtype])
	}
	id := s.cache.key(rrs, source, s.keys.Origin, keys)
	sigs, ok := s.cache.get(id, now, s.policy.Refresh)
	if !ok {
		var err error
		if sigs, err = s.sign(rrs, source, keys, now); err != nil {
			return nil, err
		}
		s.cache.put(id, sigs)
	}
	s.noteExpiry(sigs)
	if equalFold(source, owner) {
		return sigs, nil
	}
	out := make([]dns.RR, len(sigs))
	for i, sig := range sigs {
		c := *sig.(*dns.RRSIG)
		c.Hdr.Name = owner
		out[i] = &c
	}
	return out, nil
}

func (s *Signer) sign(rrs []dns.RR, source string, keys []*Key, now time.Time) ([]dns.RR, error) {
	inception := now.Add(-skew).Truncate(time.Hour)
	expiration := inception.Add(s.policy.SignatureLifetime)
	h := rrs[0].Header()
	labels := uint8(dns.CountLabel(source))
	if strings.HasPrefix(source, "*.") {
		labels-- // RFC 4034 §3.1.3: the wildcard label is not counted
	}
	out := make([]dns.RR, 0, len(keys))
	for _, k := range keys {
		sig := &dns.RRSIG{
			Hdr:         dns.RR_Header{Name: source, Rrtype: dns.TypeRRSIG, Class: h.Class, Ttl: h.Ttl},
			TypeCovered: h.Rrtype,
			Algorithm:   k.DNSKEY.Algorithm,
			Labels:      labels,
			OrigTtl:     h.Ttl,
			KeyTag:      k.Tag(),
			SignerName:  s.keys.Origin,
			Inception:   uint32(inception.Unix()),
			Expiration:  uint32(expiration.Unix()),
		}
		err := signFast(sig, k, rrs, source)
		if errors.Is(err, errNotFast) {
			err = signReference(sig, k, rrs, source)
		}
		if err != nil {
			return nil, fmt.Errorf("sign %s %s: %w", source, dns.TypeToString[h.Rrtype], err)
		}
		out = append(out, sig)
	}
	return out, nil
}

// signReference signs as dns.RRSIG.Sign does, over copies of rrs owned
// by source: for what signFast does not take.
func signReference(sig *dns.RRSIG, k *Key, rrs []dns.RR, source string) error {
	set := rrs
	if !equalFold(rrs[0].Header().Name, source) {
		set = make([]dns.RR, len(rrs))
		for i, rr := range rrs {
			set[i] = dns.Copy(rr)
			set[i].Header().Name = source
		}
	}
	ttl := sig.Hdr.Ttl
	if err := sig.Sign(k.signer, set); err != nil {
		return err
	}
	sig.Hdr.Ttl = ttl
	return nil
}

// equalFold compares names as DNS does, folding ASCII letters only: a
// name's other octets are compared as they are (RFC 4343).
func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// canonical is dns.CanonicalName without its cost for a name already
// canonical, which every name of a zone is: it runs on every answer.
func canonical(name string) string {
	if !dns.IsFqdn(name) {
		return dns.CanonicalName(name)
	}
	for i := 0; i < len(name); i++ {
		if 'A' <= name[i] && name[i] <= 'Z' {
			return dns.CanonicalName(name)
		}
	}
	return name
}

// Cache remembers signatures by the content they sign, for every zone's
// Signer and across reloads: a set that did not change is not signed
// again until its signature is due for refresh. It is bounded and safe
// for concurrent use.
type Cache struct {
	seeds    [2]maphash.Seed
	perShard int
	shards   [cacheShards]cacheShard
}

const cacheShards = 64

type cacheShard struct {
	mu sync.Mutex
	m  map[sigKey][]dns.RR
}

// sigKey names a signed content: 128 bits of hash of the records, the
// name they are signed under and the keys that sign them.
type sigKey [2]uint64

// NewCache remembers up to maxEntries signed sets.
func NewCache(maxEntries int) *Cache {
	c := &Cache{seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}, perShard: max(1, maxEntries/cacheShards)}
	for i := range c.shards {
		c.shards[i].m = make(map[sigKey][]dns.RR)
	}
	return c
}

var wirePool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// key hashes the set's records in an order of their own (a rotation signs
// as the set does), with its TTL, type, source name, the zone that signs
// and its signing keys. A key is hashed whole, not by its tag: two keys
// may share a tag, and one's signatures served for the other's would
// stop validating once the first left the DNSKEY set.
func (c *Cache) key(rrs []dns.RR, source, origin string, keys []*Key) sigKey {
	bp := wirePool.Get().(*[]byte)
	defer wirePool.Put(bp)
	var recs [8]uint64
	sums := recs[:0]
	var name [256]byte
	skip, _ := dns.PackDomainName(rrs[0].Header().Name, name[:], 0, nil, false)
	// A message of one record, packed: dns.PackRR would write the
	// record's Rdlength, and records are the snapshot's, read by every
	// query at once. The message header is 12 octets, then the owner.
	var m dns.Msg
	for i := range rrs {
		m.Answer = rrs[i : i+1]
		b, err := m.PackBuffer((*bp)[:cap(*bp)])
		if err != nil {
			continue // unpackable: it will not sign either
		}
		*bp = b[:0]
		// The owner is hashed apart, as source, so that every name a
		// wildcard synthesises shares one signature: skip it.
		sums = append(sums, maphash.Bytes(c.seeds[0], b[min(12+skip, len(b)):]))
	}
	slices.Sort(sums)
	sums = slices.Compact(sums)
	source = canonical(source)
	var out sigKey
	for i := range out {
		var h maphash.Hash
		h.SetSeed(c.seeds[i])
		// Names end in a dot and hold no zero octet (their
		// presentation form escapes it): a zero ends each.
		h.WriteString(source)
		h.WriteByte(0)
		h.WriteString(origin)
		h.WriteByte(0)
		var b [8]byte
		for _, s := range sums {
			binary.LittleEndian.PutUint64(b[:], s)
			h.Write(b[:])
		}
		for _, k := range keys {
			d := k.DNSKEY
			binary.LittleEndian.PutUint16(b[:2], d.Flags)
			b[2], b[3] = d.Protocol, d.Algorithm
			binary.LittleEndian.PutUint16(b[4:6], uint16(len(d.PublicKey)))
			h.Write(b[:6])
			h.WriteString(d.PublicKey)
		}
		out[i] = h.Sum64()
	}
	return out
}

func (c *Cache) shard(k sigKey) *cacheShard { return &c.shards[k[0]%cacheShards] }

// get returns the signatures of k while every one is more than refresh
// away from its expiration.
func (c *Cache) get(k sigKey, now time.Time, refresh time.Duration) ([]dns.RR, bool) {
	sh := c.shard(k)
	sh.mu.Lock()
	sigs, ok := sh.m[k]
	sh.mu.Unlock()
	if !ok {
		return nil, false
	}
	due := uint32(now.Add(refresh).Unix())
	for _, sig := range sigs {
		if exp := sig.(*dns.RRSIG).Expiration; int32(exp-due) <= 0 {
			return nil, false
		}
	}
	return sigs, true
}

func (c *Cache) put(k sigKey, sigs []dns.RR) {
	sh := c.shard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if _, ok := sh.m[k]; !ok && len(sh.m) >= c.perShard {
		for old := range sh.m { // an arbitrary one: Go's map order is random
			delete(sh.m, old)
			break
		}
	}
	sh.m[k] = sigs
}
