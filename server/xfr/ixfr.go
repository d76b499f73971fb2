package xfr

import (
	"github.com/miekg/dns"
)

// Why an IXFR gets the whole zone, for the log.
const (
	fullNoJournal = "no journal of the zone"
	fullOlder     = "serial older than the journal"
	fullUnknown   = "serial not in the journal"
	fullGap       = "the journal does not reach the serial served"
	fullDamaged   = "the journal could not be read"
)

// Changes returns the changes of the zone origin from serial from to
// serial to, condensed into one difference sequence, or why they cannot
// be given (the client then gets the whole zone).
func (j *Journal) Changes(origin string, from, to uint32) (Changes, string) {
	zj := j.zone(origin)
	zj.mu.Lock()
	defer zj.mu.Unlock()
	if zj.off {
		return Changes{}, fullNoJournal
	}
	if !zj.loaded {
		// After a restart, before the start journals this zone again: its
		// file says what the secondaries may hold. A journal whose last
		// version is not the one served gives no changes (fullGap).
		zj.load(j.store, j.log)
	}
	if !zj.head.known {
		return Changes{}, fullNoJournal
	}
	first := -1
	for i, d := range zj.deltas {
		if d.from == from {
			first = i
			break
		}
	}
	if first < 0 {
		if from == zj.head.serial {
			return Changes{}, fullGap // the journal's last, not the one served
		}
		if len(zj.deltas) > 0 && serialAfter(zj.deltas[0].from, from) || len(zj.deltas) == 0 && serialAfter(zj.head.serial, from) {
			return Changes{}, fullOlder
		}
		return Changes{}, fullUnknown
	}
	last := -1
	for i := first; i < len(zj.deltas); i++ {
		if zj.deltas[i].to == to {
			last = i
			break
		}
	}
	if last < 0 {
		return Changes{}, fullGap
	}
	rd := storeReader{j.store, origin}
	seq := make([]Changes, 0, last-first+1)
	for _, ri := range zj.deltas[first : last+1] {
		r, err := readRecord(rd, ri)
		if err != nil {
			j.log.Warn("ixfr journal: unreadable, secondaries get the whole zone; it starts again at the next change", "zone", origin, "err", err)
			zj.forget()
			return Changes{}, fullDamaged
		}
		seq = append(seq, Changes{From: r.del[0].(*dns.SOA), To: r.add[0].(*dns.SOA), Del: r.del[1:], Add: r.add[1:]})
	}
	return condense(seq), ""
}

// ixfrRecords is an incremental reply's records (RFC 1995 §4): the new
// SOA, then the one difference sequence (the old SOA, what is deleted,
// the new SOA, what is added), then the new SOA again.
func ixfrRecords(c Changes) []dns.RR {
	out := make([]dns.RR, 0, len(c.Del)+len(c.Add)+4)
	out = append(out, c.To, c.From)
	out = append(out, c.Del...)
	out = append(out, c.To)
	out = append(out, c.Add...)
	return append(out, c.To)
}
