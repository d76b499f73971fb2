package xfr

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/zone"
)

// zoneJournal is what one zone's journal holds in memory: where each
// record of its file lies, not the records themselves (ten thousand
// zones of a hundred versions each would weigh too much), and for a
// signed zone its current version.
type zoneJournal struct {
	origin string
	loaded bool // the file was read; before, nothing below is known
	off    bool // ixfr_journal versions 0: the file is not read
	head   head
	soa    *dns.SOA // the head's
	length int64    // of the file's valid part: the next record goes there
	// deltas are those a reply may use, oldest first: consecutive, the
	// last leading to the head.
	deltas    []recordInfo
	deltaSize int64
	// rebuild is the file's last base and every delta after it: what
	// makes the head's content again after a restart.
	rebuild []recordInfo
	// garbage is what the file holds beyond its last base and the deltas
	// a reply may use: old bases, and deltas dropped (those after the
	// base are still read to make the head again, until compact).
	garbage int64
	// cur and prev are a signed zone's last two versions.
	cur, prev content
}

type head struct {
	known  bool
	serial uint32
	key    [32]byte
	// chain says a client at serial holds the head's content, so that a
	// delta from it may follow (see flagChain).
	chain bool
}

type content struct {
	serial uint32
	rrs    []dns.RR
}

// forget drops what is known of the zone: the next Publish reads its
// file again, and until then every IXFR gets the whole zone.
func (zj *zoneJournal) forget() {
	*zj = zoneJournal{origin: zj.origin}
}

// load reads the zone's file. One that is damaged is warned about and
// left to be replaced by the next version; a last record cut short by a
// crash while it was appended was never served, and is dropped.
func (zj *zoneJournal) load(st Store, log *slog.Logger) {
	zj.loaded = true
	data, err := st.ReadJournal(zj.origin)
	if err == nil && data != nil {
		err = zj.parse(data, log)
	}
	if err != nil {
		log.Warn("ixfr journal: unusable, starting a new one; until secondaries hold a version journaled from now on they get the whole zone",
			"zone", zj.origin, "err", err)
		*zj = zoneJournal{origin: zj.origin, loaded: true}
	}
}

func (zj *zoneJournal) parse(data []byte, log *slog.Logger) error {
	hdr := fileHeader(zj.origin)
	if len(data) < len(hdr) || string(data[:len(hdr)]) != string(hdr) {
		return fmt.Errorf("not the journal of %s: %w", zj.origin, errDamaged)
	}
	var recs []recordInfo
	off := int64(len(hdr))
	for off < int64(len(data)) {
		payload, torn, err := frameAt(data, off)
		if err != nil {
			return err
		}
		if torn {
			log.Info("ixfr journal: dropping a record cut short, written when the server stopped", "zone", zj.origin, "at", off)
			break
		}
		recs = append(recs, infoOf(payload, off))
		off += recs[len(recs)-1].size
	}
	zj.length = off
	last := -1
	for i, r := range recs {
		if r.kind == kindBase {
			last = i
		}
	}
	if last < 0 {
		return fmt.Errorf("no base version: %w", errDamaged)
	}
	for i := last + 1; i < len(recs); i++ {
		if prev := recs[i-1]; recs[i].kind != kindDelta || recs[i].from != prev.to {
			return fmt.Errorf("record at %d does not follow serial %d: %w", recs[i].off, prev.to, errDamaged)
		}
	}
	end := recs[len(recs)-1]
	zj.head = head{known: true, serial: end.to, key: end.key, chain: end.kind == kindDelta || end.chain}
	zj.rebuild = recs[last:]
	// The deltas a reply may use: those leading to the head without a
	// gap, across bases that allow it.
	want := end.to
	first := len(recs)
	for i := len(recs) - 1; i >= 0; i-- {
		r := recs[i]
		if r.to != want || r.kind == kindBase && !r.chain {
			break
		}
		if r.kind == kindDelta {
			want, first = r.from, i
		}
	}
	for _, r := range recs[first:] {
		if r.kind == kindDelta {
			zj.deltas = append(zj.deltas, r)
			zj.deltaSize += r.size
		}
	}
	zj.garbage = zj.length - int64(len(hdr)) - zj.rebuild[0].size - zj.deltaSize
	soa, err := zj.readSOA(stReader{data}, end)
	if err != nil {
		return err
	}
	zj.soa = soa
	return nil
}

// stReader reads records from a file already in memory.
type stReader struct{ data []byte }

func (r stReader) at(ri recordInfo) ([]byte, error) {
	payload, torn, err := frameAt(r.data, ri.off)
	if torn {
		return nil, fmt.Errorf("record at %d cut short: %w", ri.off, errDamaged)
	}
	return payload, err
}

// storeReader reads records from the zone's file in the store.
type storeReader struct {
	st     Store
	origin string
}

func (r storeReader) at(ri recordInfo) ([]byte, error) {
	b, err := r.st.ReadJournalAt(r.origin, ri.off, int(ri.size))
	if err != nil {
		return nil, err
	}
	payload, torn, err := frameAt(b, 0)
	if torn {
		return nil, fmt.Errorf("record at %d cut short: %w", ri.off, errDamaged)
	}
	if err != nil {
		return nil, err
	}
	// The file must still be the one ri was read from.
	if got := infoOf(payload, ri.off); got.kind != ri.kind || got.from != ri.from || got.to != ri.to || got.key != ri.key {
		return nil, fmt.Errorf("record at %d is not the one indexed: %w", ri.off, errDamaged)
	}
	return payload, nil
}

type recordReader interface {
	at(ri recordInfo) ([]byte, error)
}

func readRecord(rd recordReader, ri recordInfo) (*record, error) {
	payload, err := rd.at(ri)
	if err != nil {
		return nil, err
	}
	return decodeRecord(payload)
}

func (zj *zoneJournal) readSOA(rd recordReader, ri recordInfo) (*dns.SOA, error) {
	r, err := readRecord(rd, ri)
	if err != nil {
		return nil, err
	}
	return r.add[0].(*dns.SOA), nil
}

// headContent is the head version whole: the signed zone's version in
// memory, or the file's last base with the deltas after it applied.
func (zj *zoneJournal) headContent(st Store) ([]dns.RR, error) {
	if zj.cur.rrs != nil && zj.cur.serial == zj.head.serial {
		return zj.cur.rrs, nil
	}
	if len(zj.rebuild) == 0 {
		return nil, errors.New("no base version")
	}
	rd := storeReader{st, zj.origin}
	base, err := readRecord(rd, zj.rebuild[0])
	if err != nil {
		return nil, err
	}
	deltas := make([]*record, 0, len(zj.rebuild)-1)
	for _, ri := range zj.rebuild[1:] {
		d, err := readRecord(rd, ri)
		if err != nil {
			return nil, err
		}
		deltas = append(deltas, d)
	}
	return apply(base.add, deltas), nil
}

// serialAfter compares serials with RFC 1982 arithmetic.
func serialAfter(a, b uint32) bool { return a != b && int32(a-b) > 0 }

// trim drops the oldest deltas past lim.
func (zj *zoneJournal) trim(lim zone.IXFRJournal) {
	for len(zj.deltas) > 0 && (len(zj.deltas) > lim.Versions || zj.deltaSize > lim.MaxSize) {
		zj.deltaSize -= zj.deltas[0].size
		zj.garbage += zj.deltas[0].size
		zj.deltas = zj.deltas[1:]
	}
}
