package xfr

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/internal/rrwire"
)

// A zone's journal file is a header, then records appended one after
// the other, each framed as its length and a CRC-32C of its payload:
//
//	"mxdns ixfr journal 1 " origin "\n"
//	len uint32 | crc uint32 | payload      (one record)
//	...
//
// A payload is a base (the zone whole, at one serial) or a delta (the
// changes from one serial to the next), both laid out alike:
//
//	kind byte | flags byte | from uint32 | to uint32 | key [32]byte |
//	nadd uint32 | ndel uint32 | added records | deleted records
//
// Records are in wire form, names uncompressed. A delta's first added
// record is the new SOA and its first deleted one the old; a base's
// first added record is its SOA, and from equals to. Appending a delta
// writes only the delta; the file is rewritten whole only now and then
// (see compact), when what no one needs any longer outweighs the rest.

const journalMagic = "mxdns ixfr journal 1 "

const (
	kindBase  byte = 'B'
	kindDelta byte = 'D'
)

// flagChain on a base says that a client holding its serial holds this
// very content, so that a delta from it may be served. A base written
// over a version whose content at that serial a client may hold
// otherwise (the same serial edited, or signatures made again) lacks it.
const flagChain byte = 1

const (
	frameHead  = 8                          // length, CRC
	recordHead = 1 + 1 + 4 + 4 + 32 + 4 + 4 // kind to ndel
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errDamaged says a journal file holds what its writer never wrote.
var errDamaged = errors.New("damaged")

func fileHeader(origin string) []byte { return []byte(journalMagic + origin + "\n") }

// record is one base or delta, decoded.
type record struct {
	kind     byte
	chain    bool
	from, to uint32
	key      [32]byte
	add, del []dns.RR
}

// recordInfo is a record's fixed part and where its frame lies, read
// without decoding its records.
type recordInfo struct {
	kind     byte
	chain    bool
	from, to uint32
	key      [32]byte
	off      int64 // of the frame
	size     int64 // of the frame, header included
}

// encodeRecord frames r. Records that do not pack (none that parsed)
// are an error.
func encodeRecord(r *record) ([]byte, error) {
	b := make([]byte, frameHead+recordHead, frameHead+recordHead+64*(len(r.add)+len(r.del)))
	p := b[frameHead:]
	p[0] = r.kind
	if r.chain {
		p[1] = flagChain
	}
	binary.BigEndian.PutUint32(p[2:], r.from)
	binary.BigEndian.PutUint32(p[6:], r.to)
	copy(p[10:42], r.key[:])
	binary.BigEndian.PutUint32(p[42:], uint32(len(r.add)))
	binary.BigEndian.PutUint32(p[46:], uint32(len(r.del)))
	var pk rrwire.Packer
	for _, list := range [][]dns.RR{r.add, r.del} {
		for _, rr := range list {
			w, err := pk.Wire(rr)
			if err != nil {
				return nil, err
			}
			b = append(b, w...)
		}
	}
	binary.BigEndian.PutUint32(b[0:], uint32(len(b)-frameHead))
	binary.BigEndian.PutUint32(b[4:], crc32.Checksum(b[frameHead:], castagnoli))
	return b, nil
}

// frameOf frames a payload read back.
func frameOf(payload []byte) []byte {
	b := make([]byte, frameHead, frameHead+len(payload))
	binary.BigEndian.PutUint32(b[0:], uint32(len(payload)))
	binary.BigEndian.PutUint32(b[4:], crc32.Checksum(payload, castagnoli))
	return append(b, payload...)
}

// frameAt reads the frame at off of data: its payload, or torn when the
// frame runs past the end (a crash while it was appended), or an error
// when it is whole but wrong.
func frameAt(data []byte, off int64) (payload []byte, torn bool, err error) {
	if int64(len(data))-off < frameHead {
		return nil, true, nil
	}
	n := int64(binary.BigEndian.Uint32(data[off:]))
	sum := binary.BigEndian.Uint32(data[off+4:])
	if int64(len(data))-off-frameHead < n {
		return nil, true, nil
	}
	payload = data[off+frameHead : off+frameHead+n]
	if crc32.Checksum(payload, castagnoli) != sum {
		return nil, false, fmt.Errorf("record at %d: checksum mismatch: %w", off, errDamaged)
	}
	if n < recordHead || payload[0] != kindBase && payload[0] != kindDelta {
		return nil, false, fmt.Errorf("record at %d: not a base or delta: %w", off, errDamaged)
	}
	return payload, false, nil
}

func infoOf(payload []byte, off int64) recordInfo {
	ri := recordInfo{kind: payload[0], chain: payload[1]&flagChain != 0,
		from: binary.BigEndian.Uint32(payload[2:]), to: binary.BigEndian.Uint32(payload[6:]),
		off: off, size: int64(len(payload)) + frameHead}
	copy(ri.key[:], payload[10:42])
	return ri
}

// decodeRecord decodes a payload whole. Its first added record must be
// an SOA, and so must a delta's first deleted one, at the serials the
// record names.
func decodeRecord(payload []byte) (*record, error) {
	ri := infoOf(payload, 0)
	r := &record{kind: ri.kind, chain: ri.chain, from: ri.from, to: ri.to, key: ri.key}
	nadd := binary.BigEndian.Uint32(payload[42:])
	ndel := binary.BigEndian.Uint32(payload[46:])
	if uint64(nadd)+uint64(ndel) > uint64(len(payload)) {
		return nil, fmt.Errorf("record counts beyond its size: %w", errDamaged)
	}
	off := recordHead
	read := func(n uint32) ([]dns.RR, error) {
		out := make([]dns.RR, 0, n)
		for range n {
			rr, next, err := dns.UnpackRR(payload, off)
			if err != nil || rr == nil {
				return nil, fmt.Errorf("record %d: %v: %w", len(out), err, errDamaged)
			}
			out, off = append(out, rr), next
		}
		return out, nil
	}
	var err error
	if r.add, err = read(nadd); err != nil {
		return nil, err
	}
	if r.del, err = read(ndel); err != nil {
		return nil, err
	}
	if off != len(payload) {
		return nil, fmt.Errorf("%d octets after the records: %w", len(payload)-off, errDamaged)
	}
	if !isSOAAt(r.add, r.to) || r.kind == kindDelta && !isSOAAt(r.del, r.from) || r.kind == kindBase && (len(r.del) > 0 || r.from != r.to) {
		return nil, fmt.Errorf("SOA records do not match the serials %d to %d: %w", r.from, r.to, errDamaged)
	}
	return r, nil
}

func isSOAAt(rrs []dns.RR, serial uint32) bool {
	if len(rrs) == 0 {
		return false
	}
	soa, ok := rrs[0].(*dns.SOA)
	return ok && soa.Serial == serial
}
