package answer

import "encoding/binary"

// wireQuery is what the fast path reads from a query datagram without
// unpacking it: enough to find a cached reply and to patch it.
type wireQuery struct {
	id      uint16
	rdcd    byte // the query's RD and CD bits, in their positions
	nameEnd int  // offset just past the question name
	qtype   uint16
	edns    ednsKind
	udpSize int // largest UDP reply the client takes
	// key is the lower-cased question name in wire form, then qtype, link
	// and EDNS kind: everything a cached reply depends on.
	key    [keyMax]byte
	keyLen int
}

// ednsKind is the part of a query's EDNS that changes the reply.
type ednsKind byte

const (
	ednsNone ednsKind = iota
	ednsPlain
	ednsDO
)

const (
	headerLen = 12
	keyMax    = 255 + 2 + 1 + 1
	flagQR    = 0x80 // in byte 2
	flagRD    = 0x01 // in byte 2
	flagCD    = 0x10 // in byte 3
	opcodeBit = 0x78 // in byte 2
)

// parseWireQuery accepts only the common shape of query: QUERY opcode,
// one IN question with an uncompressed name, no answer or authority
// records, and at most one OPT of version 0 with nothing after it. Any
// other query returns false and takes the general path, which knows every
// rule; the fast path never has to.
func parseWireQuery(b []byte, link int, q *wireQuery) bool {
	q.keyLen = 0 // no key until the whole query has been read
	if len(b) < headerLen+5 || link < -1 || link > 126 {
		return false
	}
	if b[2]&(flagQR|opcodeBit|0x06) != 0 || b[3]&^(flagCD|0x20) != 0 {
		// QR, a non-QUERY opcode, AA or TC set; RA, Z or an rcode set.
		// AD (0x20) is allowed: dig sets it, and the reply ignores it.
		return false
	}
	if binary.BigEndian.Uint16(b[4:]) != 1 || binary.BigEndian.Uint16(b[6:]) != 0 || binary.BigEndian.Uint16(b[8:]) != 0 {
		return false
	}
	arcount := binary.BigEndian.Uint16(b[10:])
	if arcount > 1 {
		return false
	}
	q.id = binary.BigEndian.Uint16(b)
	q.rdcd = b[2]&flagRD | b[3]&flagCD

	// The name, lower-cased into the key as it is read.
	off, k := headerLen, 0
	for {
		if off >= len(b) {
			return false
		}
		l := int(b[off])
		if l&0xC0 != 0 || off+1+l > len(b) || k+1+l > 255 {
			return false // a pointer in a question, or too long
		}
		q.key[k] = byte(l)
		k++
		off++
		if l == 0 {
			break
		}
		for _, c := range b[off : off+l] {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			q.key[k] = c
			k++
		}
		off += l
	}
	q.nameEnd = off
	if off+4 > len(b) {
		return false
	}
	q.qtype = binary.BigEndian.Uint16(b[off:])
	if binary.BigEndian.Uint16(b[off+2:]) != 1 || q.qtype == 251 || q.qtype == 252 {
		return false // not class IN, or IXFR/AXFR
	}
	off += 4

	q.edns, q.udpSize = ednsNone, 512
	if arcount == 1 {
		// Root name, type OPT, class = payload size, TTL = rcode, version, flags.
		if off+11 > len(b) || b[off] != 0 || binary.BigEndian.Uint16(b[off+1:]) != 41 {
			return false
		}
		size := int(binary.BigEndian.Uint16(b[off+3:]))
		if b[off+5] != 0 || b[off+6] != 0 {
			return false // extended rcode or version set: the general path answers BADVERS
		}
		do := b[off+7]&0x80 != 0
		rdlen := int(binary.BigEndian.Uint16(b[off+9:]))
		off += 11
		if off+rdlen > len(b) || !plainOptions(b[off:off+rdlen]) {
			return false
		}
		off += rdlen
		q.edns = ednsPlain
		if do {
			q.edns = ednsDO
		}
		q.udpSize = udpLimit(size)
	}
	if off != len(b) {
		return false // trailing bytes: let the general path judge them
	}
	q.key[k] = byte(q.qtype >> 8)
	q.key[k+1] = byte(q.qtype)
	q.key[k+2] = byte(link + 1)
	q.key[k+3] = byte(q.edns)
	q.keyLen = k + 4
	return true
}

// patchReply turns a cached reply into the reply to q, in place: the
// query's id, its RD and CD bits, and the letters of its question name as
// the client wrote them (the cached reply holds them lower-cased; answer
// owners are compression pointers to the question, so they follow).
func patchReply(reply, query []byte, q *wireQuery) {
	binary.BigEndian.PutUint16(reply, q.id)
	reply[2] = reply[2]&^flagRD | q.rdcd&flagRD
	reply[3] = reply[3]&^flagCD | q.rdcd&flagCD
	copy(reply[headerLen:q.nameEnd], query[headerLen:q.nameEnd])
}

// plainOptions reports whether EDNS options are well-formed and only of
// kinds miekg/dns reads without judging their content (NSID, COOKIE,
// PADDING: what resolvers send). Any other option may be refused by the
// general path's unpacking, so the fast path must not answer it.
func plainOptions(b []byte) bool {
	for len(b) > 0 {
		if len(b) < 4 {
			return false
		}
		code, n := binary.BigEndian.Uint16(b), int(binary.BigEndian.Uint16(b[2:]))
		if code != 3 && code != 10 && code != 12 || 4+n > len(b) {
			return false
		}
		b = b[4+n:]
	}
	return true
}
