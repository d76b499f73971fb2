package zone

import (
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"sort"

	"github.com/miekg/dns"
)

// makeSOA builds the zone's SOA, places it at the apex, and makes the copy
// negative answers carry, its TTL the lesser of its own and its minimum
// (RFC 2308 §3). With "serial:
// auto" the serial only moves when the content does, and only upward: it is
// mtime (so a restart with unchanged files keeps it), or one more than the
// serial served before, whichever is larger. mtime is the defining file's
// modification time, except for a reverse zone filled by auto PTR, whose
// content comes from other files too: there it is the newest of every
// source, so that a restart after an edit of a forward zone cannot serve a
// lower serial than the edit did.
//
// Under transfer_view: current the digest compared takes in the view
// transferred too (serialHash), for the up set of the build: MX targets'
// links (mxLinked) must be known by then.
func (s *Snapshot) makeSOA(pz *parsedZone, z *zoneData, mtime int64, prev *zoneData, sum digestSum) *dns.SOA {
	soa := &dns.SOA{
		Hdr:     dns.RR_Header{Name: pz.origin, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: pz.ttl},
		Mbox:    z.rname, // defaultRName
		Refresh: pz.soa.refresh,
		Retry:   pz.soa.retry,
		Expire:  pz.soa.expire,
		Minttl:  pz.soa.minimum,
	}
	if len(pz.ns) > 0 {
		soa.Ns = pz.ns[0].name
	}
	if pz.soa.mname != nil {
		soa.Ns = pz.soa.mname.name
	}
	if pz.soa.rname != nil {
		soa.Mbox = pz.soa.rname.name
	}
	z.hash = contentHash(soa, sum) // sum: z.nodeSum(), or kept up to date by a patch
	if z.keys != nil {
		// A signed zone's serial moves with its signature period too:
		// secondaries must transfer fresh signatures before theirs
		// expire, though nothing else changed.
		var epoch [8]byte
		binary.BigEndian.PutUint64(epoch[:], uint64(z.keys.Epoch))
		z.hash = sha256.Sum256(append(z.hash[:], epoch[:]...))
	}
	z.content, z.autoSerial = z.hash, pz.soa.autoSerial
	z.hash = s.serialHash(z, s.transferUp)
	switch {
	case !pz.soa.autoSerial:
		soa.Serial = pz.soa.serial
	case prev != nil && prev.hash == z.hash:
		soa.Serial = prev.soa.Serial
	default:
		soa.Serial = uint32(mtime)
		if prev != nil && !serialAfter(soa.Serial, prev.soa.Serial) {
			soa.Serial = prev.soa.Serial + 1
		}
	}
	neg := *soa
	neg.Hdr.Ttl = min(soa.Hdr.Ttl, soa.Minttl)
	z.negSOA = &neg
	apex := z.nodes.at(pz.origin)
	apex.sets = append(apex.sets, &rrset{rtype: dns.TypeSOA, ttl: pz.ttl, rrs: []dns.RR{soa}})
	sort.Slice(apex.sets, func(i, j int) bool { return apex.sets[i].rtype < apex.sets[j].rtype })
	return soa
}

// serialAfter compares serials with RFC 1982 arithmetic.
func serialAfter(a, b uint32) bool {
	return a != b && int32(a-b) > 0
}

// contentHash digests everything a client could see of the zone except the
// serial itself, so that "serial: auto" notices real changes only: the SOA
// without its serial, and sum, the digests of the zone's names added up
// (nodeSum). A sum, not a digest of the names in order, so that a patch of
// a few names among hundreds of thousands (ptrpatch.go) takes theirs out
// and puts the new ones in, without hashing the rest again.
func contentHash(soa *dns.SOA, sum digestSum) [32]byte {
	h := newNodeHasher()
	noSerial := *soa
	noSerial.Serial = 0
	h.records(&noSerial)
	var num [8]byte
	for _, x := range sum {
		binary.BigEndian.PutUint64(num[:], x)
		h.h.Write(num[:])
	}
	var out [32]byte
	h.h.Sum(out[:0])
	return out
}

// digestSum adds up node digests, each read as four 64-bit numbers, modulo
// 2^64 each: the order of the names does not matter, and one comes out as
// it went in.
type digestSum [4]uint64

func (s *digestSum) add(d [32]byte) {
	for i := range s {
		s[i] += binary.BigEndian.Uint64(d[8*i:])
	}
}

func (s *digestSum) sub(d [32]byte) {
	for i := range s {
		s[i] -= binary.BigEndian.Uint64(d[8*i:])
	}
}

// nodeSum is the sum of the digests of every name of z.
func (z *zoneData) nodeSum() digestSum {
	h := newNodeHasher()
	var sum digestSum
	for _, n := range z.nodes.all() {
		sum.add(h.digest(n))
	}
	return sum
}

// nodeHasher digests nodes. Records are hashed in wire form: cheaper than
// text, and just as exact. They are packed as a message, not with
// dns.PackRR, which writes the record's Rdlength: records come from parsed
// files shared with the snapshot being served, and queries and transfers
// read them meanwhile.
type nodeHasher struct {
	h   hash.Hash
	buf []byte
	msg dns.Msg
}

func newNodeHasher() *nodeHasher {
	return &nodeHasher{h: sha256.New(), buf: make([]byte, 1024)}
}

func (h *nodeHasher) records(rrs ...dns.RR) {
	if len(rrs) == 0 {
		return
	}
	h.msg.Answer = rrs
	wire, err := h.msg.PackBuffer(h.buf)
	if err != nil {
		// Not seen with records that parsed; the text is as exact.
		for _, rr := range rrs {
			h.h.Write([]byte(rr.String()))
		}
		return
	}
	h.h.Write(wire)
	h.buf = wire[:cap(wire)]
}

// digest is a node's name and sets, hashed.
func (h *nodeHasher) digest(n *node) [32]byte {
	h.h.Reset()
	h.h.Write([]byte(n.name))
	var num [8]byte
	for _, set := range n.sets {
		// set.ttl too: a link-mapped set's records carry it capped
		// at link_ttl, but a secondary receives it as written.
		binary.BigEndian.PutUint32(num[:4], uint32(set.rtype)<<16|uint32(set.mode)<<8|uint32(set.publish))
		binary.BigEndian.PutUint32(num[4:], set.ttl)
		h.h.Write(num[:])
		h.records(set.rrs...)
		for _, la := range set.links {
			binary.BigEndian.PutUint32(num[:4], uint32(la.link))
			h.h.Write(num[:4])
			h.records(la.rrs...)
		}
	}
	var out [32]byte
	h.h.Sum(out[:0])
	return out
}

// rememberedZone stands for a zone served before this process, as far as
// makeSOA needs one: its serial and its content's digest. nil when the
// memory knows none.
func (s *Snapshot) rememberedZone(origin string) *zoneData {
	if s.building.memory == nil {
		return nil
	}
	r, ok := s.building.memory.LastSerial(origin)
	if !ok {
		return nil
	}
	return &zoneData{soa: &dns.SOA{Serial: r.Serial}, hash: r.Hash}
}
