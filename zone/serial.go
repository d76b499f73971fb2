package zone

import (
	"crypto/sha256"
	"encoding/binary"
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
func makeSOA(pz *parsedZone, z *zoneData, mtime int64, prev *zoneData) *dns.SOA {
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
	z.hash = z.contentHash(soa)
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
	apex := z.nodes[pz.origin]
	apex.sets = append(apex.sets, &rrset{rtype: dns.TypeSOA, ttl: pz.ttl, rrs: []dns.RR{soa}})
	sort.Slice(apex.sets, func(i, j int) bool { return apex.sets[i].rtype < apex.sets[j].rtype })
	return soa
}

// serialAfter compares serials with RFC 1982 arithmetic.
func serialAfter(a, b uint32) bool {
	return a != b && int32(a-b) > 0
}

// contentHash digests everything a client could see of the zone except the
// serial itself, so that "serial: auto" notices real changes only. Records
// are hashed in wire form: cheaper than text, and just as exact. They are
// packed as a message, not with dns.PackRR, which writes the record's
// Rdlength: records come from parsed files shared with the snapshot being
// served, and queries and transfers read them meanwhile.
func (z *zoneData) contentHash(soa *dns.SOA) [32]byte {
	h := sha256.New()
	buf := make([]byte, 1024)
	var msg dns.Msg
	records := func(rrs ...dns.RR) {
		if len(rrs) == 0 {
			return
		}
		msg.Answer = rrs
		wire, err := msg.PackBuffer(buf)
		if err != nil {
			// Not seen with records that parsed; the text is as exact.
			for _, rr := range rrs {
				h.Write([]byte(rr.String()))
			}
			return
		}
		h.Write(wire)
		buf = wire[:cap(wire)]
	}
	noSerial := *soa
	noSerial.Serial = 0
	records(&noSerial)
	names := make([]string, 0, len(z.nodes))
	for name := range z.nodes {
		names = append(names, name)
	}
	sort.Strings(names)
	var num [8]byte
	for _, name := range names {
		h.Write([]byte(name))
		for _, set := range z.nodes[name].sets {
			// set.ttl too: a link-mapped set's records carry it capped
			// at link_ttl, but a secondary receives it as written.
			binary.BigEndian.PutUint32(num[:4], uint32(set.rtype)<<16|uint32(set.mode)<<8|uint32(set.publish))
			binary.BigEndian.PutUint32(num[4:], set.ttl)
			h.Write(num[:])
			records(set.rrs...)
			for _, la := range set.links {
				binary.BigEndian.PutUint32(num[:4], uint32(la.link))
				h.Write(num[:4])
				records(la.rrs...)
			}
		}
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}

// rememberedZone stands for a zone served before this process, as far as
// makeSOA needs one: its serial and its content's digest. nil when the
// memory knows none.
func (s *Snapshot) rememberedZone(origin string) *zoneData {
	if s.memory == nil {
		return nil
	}
	r, ok := s.memory.LastSerial(origin)
	if !ok {
		return nil
	}
	return &zoneData{soa: &dns.SOA{Serial: r.Serial}, hash: r.Hash}
}
