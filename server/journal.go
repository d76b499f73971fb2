package server

import (
	"slices"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/internal/rrwire"
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
	s.inBatches(transferable(snap, snap.SerialsSince(prev)), func(batch []string) {
		s.journal.Publish(versions(prev, snap, batch, signers, prevSigners), snap.Settings().IXFRJournal)
	})
}

// inBatches calls publish with a hundred origins at a time until they
// are all done or the server stops (the next start journals what is
// left). Publish holds each zone's lock until its batch is synced, and a
// transfer of the zone waits on it: all at once, the first start of ten
// thousand signed zones held every transfer for minutes.
func (s *Server) inBatches(origins []string, publish func(batch []string)) {
	for len(origins) > 0 {
		select {
		case <-s.stopping:
			return
		default:
		}
		n := min(len(origins), journalBatch)
		publish(origins[:n])
		origins = origins[n:]
	}
}

// transferable returns, sorted, the origins among changed whose zones
// may be transferred.
func transferable(snap *zone.Snapshot, changed map[string]zone.SerialRecord) []string {
	origins := make([]string, 0, len(changed))
	for origin := range changed {
		if t, ok := snap.Transfer(origin); ok && len(t.Allow)+len(t.AllowKeys) > 0 {
			origins = append(origins, origin)
		}
	}
	slices.Sort(origins)
	return origins
}

// versions makes the Version of each origin in snap, each with its
// changes since prev where they come cheaper than a comparison.
func versions(prev, snap *zone.Snapshot, origins []string, signers, prevSigners answer.Signers) []xfr.Version {
	now := time.Now()
	vs := make([]xfr.Version, 0, len(origins))
	for _, origin := range origins {
		soa, ok := snap.SOA(origin)
		if !ok {
			continue
		}
		rec, _ := snap.Version(origin)
		signer := signers[origin]
		v := xfr.Version{Origin: origin, SOA: soa, Key: rec.Hash, Signed: signer != nil,
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
				return rrwire.Diff(before[1:], after[1:])
			}
		}
		vs = append(vs, v)
	}
	return vs
}

// journalPrevious journals, for the zones next changes, the versions
// prev served, before an update journals next's. The start may not have
// reached those zones yet (it holds reloads back, not updates), and a
// secondary may hold the version served since: without it in the
// journal, that secondary would get the whole zone. Once journaled, a
// version costs Publish a comparison.
func (s *Server) journalPrevious(prev, next *zone.Snapshot, signers answer.Signers) {
	origins := transferable(next, next.SerialsSince(prev))
	if len(origins) > 0 {
		s.journal.Publish(versions(nil, prev, origins, signers, nil), prev.Settings().IXFRJournal)
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
	start := time.Now()
	s.inBatches(transferable(snap, snap.SerialsSince(nil)), func(batch []string) {
		s.journalServed(snap, signers, batch)
	})
	s.log.Debug("ixfr journal: the zones served at start are journaled", "took", time.Since(start))
}

// journalServed journals the versions of origins served now. An update
// may have been served since the start (reloads wait for journalStart;
// updates do not): it journaled its zone's new version itself, and
// journaling the start's older one after it would start that zone's
// journal again, leaving its secondaries to whole transfers until its
// next change. pubMu keeps the next update out meanwhile.
func (s *Server) journalServed(start *zone.Snapshot, signers answer.Signers, origins []string) {
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	snap := start
	if st := s.state.Load(); st != nil && st.Snap != start {
		snap, signers = st.Snap, st.Signers()
	}
	s.journal.Publish(versions(nil, snap, origins, signers, nil), snap.Settings().IXFRJournal)
}

func versionOf(snap *zone.Snapshot, origin string) (zone.SerialRecord, bool) {
	if snap == nil {
		return zone.SerialRecord{}, false
	}
	return snap.Version(origin)
}
