package answer

import (
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/dnssec"
	"github.com/mxdns/mxdns/internal/rrwire"
	"github.com/mxdns/mxdns/zone"
)

// TransferRecords is the zone origin of snap as a transfer carries it,
// the closing SOA aside: Transferred (as transfer_view says), and for a
// signed zone (signer not nil)
// its NSEC or NSEC3 chain and each set followed by its RRSIGs. prev, the
// version transferred before, lends its signatures to the sets that did
// not change while they have long to live and their keys still sign, so
// that an IXFR carries only the signatures that changed, even after a
// restart emptied the signature cache.
func TransferRecords(snap *zone.Snapshot, signer *dnssec.Signer, origin string, prev []dns.RR, now time.Time) ([]dns.RR, error) {
	rrs, ok := snap.Transferred(origin)
	if !ok {
		return nil, errNoZone
	}
	if signer == nil {
		return rrs, nil
	}
	return signTransfer(snap, signer, origin, rrs, prev, now)
}

var errNoZone = errors.New("no such zone")

// signTransfer adds to rrs, the zone's records as Snapshot.Transferred
// gives them (the SOA first, a set's records together), its NSEC chain and
// each set's RRSIGs. A delegation's NS and glue stay unsigned.
func signTransfer(snap *zone.Snapshot, s *dnssec.Signer, origin string, rrs, prev []dns.RR, now time.Time) ([]dns.RR, error) {
	rrs = append(rrs, snap.NSECRecords(origin)...)
	rrs = append(rrs, snap.NSEC3Records(origin)...)
	kept := keptSignatures(s, origin, prev, rrs, now)
	return withSignatures(rrs, func(set []dns.RR) ([]dns.RR, error) {
		h := set[0].Header()
		if h.Rrtype == dns.TypeNS && snap.IsCut(origin, h.Name) {
			return nil, nil
		}
		if _, ok := snap.Source(origin, h.Name); !ok && h.Rrtype != dns.TypeNSEC3 {
			return nil, nil // glue below a delegation
		}
		if sigs := kept.lookup(set); sigs != nil {
			return sigs, nil
		}
		return s.Sign(set, h.Name, now)
	})
}

// setID names an RRset.
type setID struct {
	owner string
	rtype uint16
}

// signedSet is a set of the previous version: its records in wire form,
// sorted and joined, and its signatures.
type signedSet struct {
	wire string
	sigs []dns.RR
}

// kept are the previous version's signatures that may be kept, by set.
type kept struct {
	sets map[setID]*signedSet
	pk   rrwire.Packer
}

// keptSignatures indexes prev's signatures that may sign the same sets
// in the next version: the DNSKEY set is the same (so a key tag names the
// same key), and every signature is by a key that signs the set's type
// now, one each, and is valid now and past the policy's refresh, as a
// signature the cache hands out is.
func keptSignatures(s *dnssec.Signer, origin string, prev, next []dns.RR, now time.Time) *kept {
	k := &kept{}
	if len(prev) == 0 {
		return k
	}
	records, sigs := make(map[setID][]dns.RR), make(map[setID][]dns.RR)
	for _, rr := range prev {
		if sig, ok := rr.(*dns.RRSIG); ok {
			id := setID{rr.Header().Name, sig.TypeCovered}
			sigs[id] = append(sigs[id], rr)
			continue
		}
		id := setID{rr.Header().Name, rr.Header().Rrtype}
		records[id] = append(records[id], rr)
	}
	apex := setID{origin, dns.TypeDNSKEY}
	var nextKeys []dns.RR
	for _, rr := range next {
		if rr.Header().Rrtype == dns.TypeDNSKEY && rr.Header().Name == origin {
			nextKeys = append(nextKeys, rr)
		}
	}
	if setWire(&k.pk, records[apex]) != setWire(&k.pk, nextKeys) {
		return k
	}
	due := uint32(now.Add(s.Policy().Refresh).Unix())
	k.sets = make(map[setID]*signedSet, len(records))
	for id, rrs := range records {
		if valid(sigs[id], s.Keys().SigningKeys(id.rtype), origin, uint32(now.Unix()), due) {
			k.sets[id] = &signedSet{wire: setWire(&k.pk, rrs), sigs: sigs[id]}
		}
	}
	return k
}

// valid reports whether sigs are one by each of keys, by the zone's
// name, and valid from before now to past due.
func valid(sigs []dns.RR, keys []*dnssec.Key, origin string, now, due uint32) bool {
	if len(sigs) == 0 || len(sigs) != len(keys) {
		return false
	}
	for _, k := range keys {
		n := 0
		for _, rr := range sigs {
			sig := rr.(*dns.RRSIG)
			if sig.KeyTag == k.Tag() && sig.Algorithm == k.DNSKEY.Algorithm {
				n++
			}
		}
		if n != 1 {
			return false // no signature by k, or two keys share a tag
		}
	}
	for _, rr := range sigs {
		sig := rr.(*dns.RRSIG)
		if !strings.EqualFold(sig.SignerName, origin) || int32(now-sig.Inception) < 0 || int32(sig.Expiration-due) <= 0 {
			return false
		}
	}
	return true
}

// lookup gives the signatures kept for set, nil when there are none.
func (k *kept) lookup(set []dns.RR) []dns.RR {
	if k.sets == nil {
		return nil
	}
	h := set[0].Header()
	old := k.sets[setID{h.Name, h.Rrtype}]
	if old == nil || old.wire != setWire(&k.pk, set) {
		return nil
	}
	return old.sigs
}

// setWire is a set's records in wire form, sorted and joined: equal for
// equal sets in any order.
func setWire(p *rrwire.Packer, rrs []dns.RR) string {
	parts := make([]string, 0, len(rrs))
	for _, rr := range rrs {
		parts = append(parts, p.Key(rr))
	}
	slices.Sort(parts)
	return strings.Join(parts, "")
}
