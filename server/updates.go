package server

import (
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/server/ops"
	"github.com/mxdns/mxdns/server/update"
	"github.com/mxdns/mxdns/zone"
)

// UpdateKeeper keeps the records RFC 2136 updates added, a file per zone
// in the state directory (state/updates.go).
type UpdateKeeper interface {
	SaveUpdates(origin string, recs []zone.UpdatedRecord) error
	Updates() (map[string][]zone.UpdatedRecord, []error)
}

// initUpdates makes the updater with the records kept before this
// process. Call it before initAnswers, and before the first load is
// served: that load lays the records over its zones.
func (s *Server) initUpdates() {
	cfg := update.Config{Log: s.log, Warn: s.warnThrottled, Publish: s.publishUpdates,
		Count: func(result string) { s.metrics.Update(result) }}
	if uk, ok := s.keeper.(UpdateKeeper); ok {
		cfg.Store = uk
		recs, errs := uk.Updates()
		for _, err := range errs {
			s.log.Error("state: updated records unreadable, not served", "err", err)
		}
		cfg.Initial = recs
	}
	s.updates = update.New(cfg)
}

// withUpdates is snap with the updated records laid over its zones, each
// with the TTL of updates:, their serials moved past prev's (the
// snapshot served, nil at start, when the serials kept stand for it).
// Without updates: in snap's configuration no record is served, but the
// zones that had some keep their serials moving; the records stay kept,
// and expire as ever.
func (s *Server) withUpdates(snap, prev *zone.Snapshot) *zone.Snapshot {
	recs := s.updates.Records()
	if len(recs) == 0 && prev == nil {
		return snap
	}
	pol := snap.Settings().Updates
	overlays := make(map[string][]dns.RR, len(recs))
	for origin, list := range recs {
		if pol == nil {
			overlays[origin] = nil
			continue
		}
		rrs := make([]dns.RR, len(list))
		for i, r := range list {
			rrs[i] = dns.Copy(r.RR)
			rrs[i].Header().Ttl = pol.TTL
		}
		overlays[origin] = rrs
	}
	var mem zone.Memory
	if s.keeper != nil {
		mem = s.keeper
	}
	next, skipped := snap.WithUpdates(prev, mem, overlays)
	for _, sk := range skipped {
		s.warnThrottled("updated record not served: the zone's files no longer allow it", "zone", sk.Origin,
			"record", sk.RR.String(), "why", sk.Reason)
	}
	return next
}

// publishUpdates serves the updater's records now: the snapshot served
// with them laid over it, its serials kept first, its secondaries told.
// No zone is built again. pubMu orders it with the swaps of reloads.
func (s *Server) publishUpdates() {
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	prev := s.state.Load().Snap
	next := s.withUpdates(prev, prev)
	if next == prev {
		return
	}
	s.beforeServing(prev, next)
	next.PrepareDenial() // an updated signed zone's chain, before it is served
	// Journaled as a reload's versions are, so that secondaries take the
	// update by IXFR; the zones keep their keys.
	signers := s.state.Load().Signers()
	s.journalPrevious(prev, next, signers)
	s.journalVersions(prev, next, signers, signers)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	st := s.state.Load()
	s.setUp(next, st.Up, time.Now())
	s.notifier.ZonesChanged(prev, next)
}

// updateExpire is updates.expire of the configuration served.
func (s *Server) updateExpire() time.Duration {
	if st := s.state.Load(); st != nil && st.Snap.Settings().Updates != nil {
		return st.Snap.Settings().Updates.Expire
	}
	return zone.DefaultUpdateExpire
}

// updatedStatus is what /status shows of each zone's updated records.
func (s *Server) updatedStatus(now time.Time) map[string][]ops.UpdatedRecord {
	expire := s.updateExpire()
	out := make(map[string][]ops.UpdatedRecord)
	for origin, recs := range s.updates.Records() {
		for _, r := range recs {
			out[origin] = append(out[origin], ops.UpdatedRecord{Record: r.RR.String(), Added: r.Added,
				AgeSeconds: now.Sub(r.Added).Seconds(), Expires: r.Added.Add(expire)})
		}
	}
	return out
}
