package server

import (
	"slices"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/server/answer"
	"github.com/mxdns/mxdns/server/xfr"
	"github.com/mxdns/mxdns/zone"
)

// newJournal keeps the IXFR journals in the state directory when the
// keeper is one (package state), in memory otherwise.
func (s *Server) newJournal() *xfr.Journal {
	store, _ := s.keeper.(xfr.Store)
	return xfr.NewJournal(store, s.log)
}

// journalVersions journals the versions of snap's zones that may be
// transferred and were built anew since prev (nil at start): a zone
// taken over as it was, by pointer, is passed over without a look, so a
// reload of one file among ten thousand journals one zone. It runs
// before snap is served, outside mu: a big zone's changes take a while.
// A version is a zone as AXFR sends it, signed when signers sign it;
// prevSigners are prev's. Whatever changes what a transfer carries (an
// edit, a key event, signatures made again, a link change under
// transfer_view: current) makes the zone anew, moves its serial and so
// comes through here.
func (s *Server) journalVersions(prev, snap *zone.Snapshot, signers, prevSigners answer.Signers) {
	changed := snap.SerialsSince(prev)
	origins := make([]string, 0, len(changed))
	for origin := range changed {
		if t, ok := snap.Transfer(origin); ok && len(t.Allow)+len(t.AllowKeys) > 0 {
			origins = append(origins, origin)
		}
	}
	if len(origins) == 0 {
		return
	}
	slices.Sort(origins)
	now := time.Now()
	vs := make([]xfr.Version, 0, len(origins))
	for _, origin := range origins {
		soa, _ := snap.SOA(origin)
		signer := signers[origin]
		v := xfr.Version{Origin: origin, SOA: soa, Key: changed[origin].Hash, Signed: signer != nil,
			Records: func(prevRRs []dns.RR) ([]dns.RR, error) {
				return answer.TransferRecords(snap, signer, origin, prevRRs, now)
			}}
		// Unsigned before and now, the changes are those of the names
		// the build wrote, or under transfer_view: current the two
		// views compared whole.
		if from, ok := versionOf(prev, origin); ok && signer == nil && prevSigners[origin] == nil {
			v.From = from
			v.Diff = func() (del, add []dns.RR) {
				if del, add, ok := snap.TransferDiff(prev, origin); ok {
					return del, add
				}
				before, _ := prev.Transferred(origin)
				after, _ := snap.Transferred(origin)
				return xfr.DiffRecords(before[1:], after[1:])
			}
		}
		vs = append(vs, v)
	}
	// A hundred zones at a time: Publish holds each zone's lock until its
	// batch is synced, and a transfer of the zone waits on it. All at
	// once, the first start of ten thousand signed zones held every
	// transfer for minutes.
	for len(vs) > 0 {
		select {
		case <-s.stopping: // the next start journals what is left
			return
		default:
		}
		n := min(len(vs), journalBatch)
		s.journal.Publish(vs[:n], snap.Settings().IXFRJournal)
		vs = vs[n:]
	}
}

// journalBatch is how many zones' versions are journaled, and synced,
// together.
const journalBatch = 100

// journalStart journals the zones of snap, the snapshot a start serves,
// and gives back reloadMu, which the start took before serving snap: no
// reload or link change journals a newer version first, and none waits
// longer than this takes. Answers never wait on it.
func (s *Server) journalStart(snap *zone.Snapshot, signers answer.Signers) {
	defer s.reloadMu.Unlock()
	select {
	case <-s.stopping:
		return
	default:
	}
	start := time.Now()
	s.journalVersions(nil, snap, signers, nil)
	s.log.Debug("ixfr journal: the zones served at start are journaled", "took", time.Since(start))
}

func versionOf(snap *zone.Snapshot, origin string) (zone.SerialRecord, bool) {
	if snap == nil {
		return zone.SerialRecord{}, false
	}
	return snap.Version(origin)
}
