package xfr

import (
	"log/slog"
	"sync"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/zone"
)

// Journal keeps, for each zone that may be transferred, the differences
// between its consecutive versions as transferred, from which IXFR is
// answered with only what changed (RFC 1995). A version is whatever a
// transfer of the zone carries at one serial, whatever made it change:
// an edit, a key event, signatures made again. Differences are worked out
// when a version is published, before it is served, and kept in the
// Store (the state directory), so that a restart answers the serials
// secondaries hold; in memory each zone keeps only where they lie.
//
// A signed zone's version is made once, when it is published, and every
// transfer at its serial carries that very one: signatures made anew for
// each request would not match what a client deletes. Its current
// version (and the one before, for states still serving it) is kept in
// memory.
type Journal struct {
	store Store
	log   *slog.Logger

	mu    sync.Mutex
	zones map[string]*lockedZone
}

// lockedZone is a zone's journal and the lock that guards it: a reply
// reads its records under it, so a rewrite of the file waits.
type lockedZone struct {
	mu sync.Mutex
	zoneJournal
}

// Store keeps each zone's journal file, an opaque series of bytes:
// the state directory's (package state), or memory.
type Store interface {
	// ReadJournal returns the zone's file whole; nil and no error when
	// there is none.
	ReadJournal(origin string) ([]byte, error)
	// ReadJournalAt reads n octets of it at off.
	ReadJournalAt(origin string, off int64, n int) ([]byte, error)
	// AppendJournal writes data at offset at, the file cut there first
	// (past a record torn by a crash). It lasts once SyncJournals returns.
	AppendJournal(origin string, at int64, data []byte) error
	// ReplaceJournal makes data the zone's file in place of the one there,
	// atomically, when SyncJournals runs; until then readers see the old.
	ReplaceJournal(origin string, data []byte) error
	// SyncJournals makes every append and replacement since the last
	// call last, and returns once they do.
	SyncJournals() error
}

// Version is one version of a zone as a transfer carries it, for
// Publish.
type Version struct {
	Origin string
	SOA    *dns.SOA
	// Key tells versions with the same serial apart: a digest of the
	// content (zone.SerialRecord's Hash).
	Key    [32]byte
	Signed bool
	// Records gives the version whole, SOA first, as AXFR sends it
	// (without the closing SOA). prev is the version journaled before,
	// when known: a signer keeps the signatures of sets that did not
	// change.
	Records func(prev []dns.RR) ([]dns.RR, error)
	// Diff, when not nil, gives the records deleted and added since the
	// version From at less cost than comparing whole versions; the SOA
	// aside. It is used when From is the journal's last version.
	From zone.SerialRecord
	Diff func() (del, add []dns.RR)
}

// NewJournal keeps journals in store; nil keeps them in memory.
func NewJournal(store Store, log *slog.Logger) *Journal {
	if store == nil {
		store = NewMemStore()
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Journal{store: store, log: log, zones: make(map[string]*lockedZone)}
}

func (j *Journal) zone(origin string) *lockedZone {
	j.mu.Lock()
	defer j.mu.Unlock()
	zj := j.zones[origin]
	if zj == nil {
		zj = &lockedZone{zoneJournal: zoneJournal{origin: origin}}
		j.zones[origin] = zj
	}
	return zj
}

// Forget lets go of what memory holds of zones no longer served, a
// signed zone's versions above all. Their files stay in the store: a
// zone served again carries on from its file.
func (j *Journal) Forget(origins []string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, origin := range origins {
		delete(j.zones, origin)
	}
}

// Publish journals each version that differs from its zone's last: the
// differences are appended to its file, and every file is synced, before
// Publish returns and the versions are served. Versions equal to their
// zone's last cost a comparison. lim bounds what each zone keeps;
// Versions 0 keeps nothing, and the zones' files are left as they are.
func (j *Journal) Publish(vs []Version, lim zone.IXFRJournal) {
	var held []*lockedZone
	var commits []func()
	defer func() {
		for _, zj := range held {
			zj.mu.Unlock()
		}
	}()
	for i := range vs {
		v := &vs[i]
		zj := j.zone(v.Origin)
		zj.mu.Lock()
		held = append(held, zj)
		if lim.Versions <= 0 {
			zj.forget()
			zj.off = true // its file, left as it is, answers nothing
			continue
		}
		zj.off = false
		if !zj.loaded {
			zj.load(j.store, j.log)
		}
		commit, err := zj.next(j.store, j.log, v, lim)
		if err != nil {
			j.log.Error("ixfr journal: not kept; secondaries get the whole zone until its next change", "zone", v.Origin, "serial", v.SOA.Serial, "err", err)
			zj.forget()
			continue
		}
		if commit != nil {
			commits = append(commits, commit)
		}
	}
	if len(commits) == 0 {
		return
	}
	if err := j.store.SyncJournals(); err != nil {
		j.log.Error("ixfr journal: not saved; secondaries get whole zones until their next change", "zones", len(commits), "err", err)
		for _, zj := range held {
			zj.forget()
		}
		return
	}
	for _, c := range commits {
		c()
	}
}

// Transferred returns a signed zone's version at serial as it was
// journaled, for AXFR to send that very one. A zone whose journal the
// start has not reached yet is read from its file here: an AXFR signed
// afresh would carry other signatures than the journal's at one serial,
// and a secondary holding it would fail the next IXFR's deletions.
func (j *Journal) Transferred(origin string, serial uint32) ([]dns.RR, bool) {
	zj := j.zone(origin)
	zj.mu.Lock()
	defer zj.mu.Unlock()
	if zj.off {
		return nil, false
	}
	if !zj.loaded {
		zj.load(j.store, j.log)
	}
	for _, c := range []content{zj.cur, zj.prev} {
		if c.rrs != nil && c.serial == serial {
			return c.rrs, true
		}
	}
	if !zj.head.known || zj.head.serial != serial {
		return nil, false
	}
	rrs, err := zj.headContent(j.store)
	if err != nil {
		// Sent signed afresh until the next version starts the journal
		// again: a secondary holding this AXFR gets whole zones till then.
		j.log.Warn("ixfr journal: unreadable, the zone is sent whole and signed again", "zone", origin, "err", err)
		zj.forget()
		return nil, false
	}
	zj.cur = content{serial: serial, rrs: rrs}
	return rrs, true
}
