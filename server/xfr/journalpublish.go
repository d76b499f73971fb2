package xfr

import (
	"fmt"
	"log/slog"
	"slices"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/internal/rrwire"
	"github.com/mxdns/mxdns/zone"
)

// compactFloor: a file is rewritten whole only once what nothing needs
// passes both this and what is needed, so that each octet appended is
// rewritten about once at most, however the zone changes.
const compactFloor = 64 << 10

// next works out what v changes in the zone's journal and writes it to
// st; the commit returned records it in memory once st has synced. A nil
// commit and error: v is the journal's last version already.
func (zj *zoneJournal) next(st Store, log *slog.Logger, v *Version, lim zone.IXFRJournal) (func(), error) {
	h, serial := zj.head, v.SOA.Serial
	zj.trim(lim)
	switch {
	case h.known && h.serial == serial && h.key == v.Key:
		if !v.Signed || zj.cur.rrs != nil && zj.cur.serial == serial {
			return nil, nil
		}
		// After a restart: the signed version secondaries hold at this
		// serial is the journal's, signatures and all.
		rrs, err := zj.headContent(st)
		if err != nil {
			log.Warn("ixfr journal: the zone's signed version cannot be read back; signing it again, so secondaries get the whole zone at its next change",
				"zone", zj.origin, "serial", serial, "err", err)
			return zj.reset(st, v, false)
		}
		zj.cur = content{serial: serial, rrs: rrs}
		return nil, nil
	case h.known && serialAfter(serial, h.serial):
		if !h.chain {
			return zj.reset(st, v, true)
		}
		return zj.appendDelta(st, log, v, lim)
	case h.known:
		log.Info("ixfr journal: the zone changed but its serial did not move forward; its journal starts again, and secondaries get the whole zone",
			"zone", zj.origin, "serial", serial, "journaled", h.serial)
		return zj.reset(st, v, false)
	default:
		// A signed zone's secondaries may hold this serial with other
		// signatures, made before there was a journal.
		return zj.reset(st, v, !v.Signed)
	}
}

// reset starts the zone's file again with v whole.
func (zj *zoneJournal) reset(st Store, v *Version, chain bool) (func(), error) {
	rrs, err := v.Records(zj.cur.rrs)
	if err != nil {
		return nil, err
	}
	frame, err := encodeRecord(&record{kind: kindBase, chain: chain, from: v.SOA.Serial, to: v.SOA.Serial, key: v.Key, add: rrs})
	if err != nil {
		return nil, err
	}
	hdr := fileHeader(zj.origin)
	if err := st.ReplaceJournal(zj.origin, append(hdr, frame...)); err != nil {
		return nil, err
	}
	base := recordInfo{kind: kindBase, chain: chain, from: v.SOA.Serial, to: v.SOA.Serial, key: v.Key, off: int64(len(hdr)), size: int64(len(frame))}
	return func() {
		cur := zj.cur
		*zj = zoneJournal{origin: zj.origin, loaded: true, soa: v.SOA, length: base.off + base.size, rebuild: []recordInfo{base},
			head: head{known: true, serial: v.SOA.Serial, key: v.Key, chain: chain}}
		if v.Signed {
			zj.prev, zj.cur = cur, content{serial: v.SOA.Serial, rrs: rrs}
		}
	}, nil
}

// appendDelta appends the changes from the head to v, or, when what
// nothing needs outweighs the rest, rewrites the file whole: the deltas
// a reply may use, then v as its base.
func (zj *zoneJournal) appendDelta(st Store, log *slog.Logger, v *Version, lim zone.IXFRJournal) (func(), error) {
	var del, add, rrs []dns.RR
	if !v.Signed && v.Diff != nil && v.From.Serial == zj.head.serial && v.From.Hash == zj.head.key {
		del, add = v.Diff()
	} else {
		old, err := zj.headContent(st)
		if err != nil {
			log.Warn("ixfr journal: the zone's last version cannot be read back; the journal starts again", "zone", zj.origin, "err", err)
			return zj.reset(st, v, true)
		}
		if rrs, err = v.Records(old); err != nil {
			return nil, err
		}
		del, add = rrwire.Diff(old[1:], rrs[1:])
	}
	frame, err := encodeRecord(&record{kind: kindDelta, from: zj.head.serial, to: v.SOA.Serial, key: v.Key,
		add: append([]dns.RR{v.SOA}, add...), del: append([]dns.RR{zj.soa}, del...)})
	if err != nil {
		return nil, err
	}
	d := recordInfo{kind: kindDelta, from: zj.head.serial, to: v.SOA.Serial, key: v.Key, off: zj.length, size: int64(len(frame))}
	next := *zj
	next.deltas = append(slices.Clone(zj.deltas), d)
	next.deltaSize += d.size
	next.rebuild = append(slices.Clone(zj.rebuild), d)
	next.head = head{known: true, serial: v.SOA.Serial, key: v.Key, chain: true}
	next.soa = v.SOA
	next.length += d.size
	next.trim(lim)
	if v.Signed {
		next.prev, next.cur = zj.cur, content{serial: v.SOA.Serial, rrs: rrs}
	}
	// The deltas after the base make the head again after a restart: a
	// long run of them is as slow to apply as a base is to write.
	if next.garbage > max(next.rebuild[0].size+next.deltaSize, compactFloor) || len(next.rebuild) > 4*lim.Versions+64 {
		if rrs == nil {
			if rrs, err = v.Records(nil); err != nil {
				return nil, err
			}
		}
		if err := next.compact(st, rrs, frame); err != nil {
			return nil, err
		}
	} else if err := st.AppendJournal(zj.origin, zj.length, frame); err != nil {
		return nil, err
	}
	return func() { *zj = next }, nil
}

// compact rewrites zj's file as the deltas a reply may use, then rrs,
// the head whole, as its base; last is the newest delta's frame, not yet
// in the file.
func (zj *zoneJournal) compact(st Store, rrs []dns.RR, last []byte) error {
	h := zj.head
	baseFrame, err := encodeRecord(&record{kind: kindBase, chain: true, from: h.serial, to: h.serial, key: h.key, add: rrs})
	if err != nil {
		return err
	}
	data := fileHeader(zj.origin)
	deltas := make([]recordInfo, 0, len(zj.deltas))
	rd := storeReader{st, zj.origin}
	for i, d := range zj.deltas {
		var frame []byte
		if i == len(zj.deltas)-1 && d.off == zj.length-d.size {
			frame = last
		} else {
			payload, err := rd.at(d)
			if err != nil {
				return fmt.Errorf("compact: %w", err)
			}
			frame = frameOf(payload)
		}
		d.off = int64(len(data))
		data = append(data, frame...)
		deltas = append(deltas, d)
	}
	base := recordInfo{kind: kindBase, chain: true, from: h.serial, to: h.serial, key: h.key, off: int64(len(data)), size: int64(len(baseFrame))}
	data = append(data, baseFrame...)
	if err := st.ReplaceJournal(zj.origin, data); err != nil {
		return err
	}
	zj.deltas, zj.rebuild, zj.garbage, zj.length = deltas, []recordInfo{base}, 0, int64(len(data))
	return nil
}
