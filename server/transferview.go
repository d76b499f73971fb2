package server

import (
	"strconv"
	"strings"
	"time"

	"github.com/mxdns/mxdns/server/answer"
	"github.com/mxdns/mxdns/zone"
)

// Under transfer_view: current the zones transferred carry the answers of
// the links up (zone.Snapshot.WithTransferUp), so a link change must move
// the serials of the zones it changes and tell their secondaries. Answers
// follow a link change at once (setUp); the transferred zones follow it
// here, a moment later, so that a burst of changes (a flapping link, two
// links going down together) makes one new serial per zone and one write
// of the state directory, not one for each.

// transferViewDelay is how long link changes gather before the
// transferred zones follow them: a variable so that tests can shorten
// it; a Server takes it when it is made.
var transferViewDelay = time.Second

// kickTransferView asks the follower to make the transferred zones follow
// the up set of st, when they are not made for it already. It never
// blocks: a request already pending stands for this one. Callers hold mu.
func (s *Server) kickTransferView(st *answer.State) {
	if s.viewKick == nil || st.Snap.Settings().TransferView != zone.TransferCurrent || st.Up == st.Snap.TransferUp() {
		return
	}
	select {
	case s.viewKick <- struct{}{}:
	default:
	}
}

// followTransferView runs until Shutdown, making the transferred zones
// follow the links viewDelay after the first change of a burst.
func (s *Server) followTransferView() {
	for {
		select {
		case <-s.stopping:
			return
		case <-s.viewKick:
		}
		t := time.NewTimer(s.viewDelay)
		select {
		case <-s.stopping:
			t.Stop()
			return
		case <-t.C:
		}
		s.transferLinks()
	}
}

// transferLinks publishes the snapshot with its transfers made for the
// links up now: the serials of the zones whose transfers change are kept
// in the state directory first, then served, then NOTIFYed. It holds
// reloadMu, so that no reload builds from the snapshot it replaces (a
// reload would give those zones back their old serials), and mu only to
// swap; queries, checks and /status never wait for it.
func (s *Server) transferLinks() {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	st := s.state.Load()
	next := st.Snap.WithTransferUp(st.Up, time.Now())
	if next == st.Snap {
		return
	}
	changed := next.Changed(st.Snap)
	if s.keeper != nil && len(changed) > 0 {
		if err := s.keeper.SaveSerials(next.SerialsSince(st.Snap)); err != nil {
			s.log.Error("state: serials not kept; after a crash a serial may go back", "err", err)
		}
	}
	// The zones keep their keys: the signers stay.
	s.journalVersions(st.Snap, next, st.Signers(), st.Signers())
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.state.Load().Snap != st.Snap {
		return // reloadMu is held: only Shutdown can have come between
	}
	// The up set may have changed again meanwhile: setUp serves the
	// latest, and asks for another round if the transfers lag it.
	s.setUp(next, s.state.Load().Up, time.Now())
	s.notifier.ZonesChanged(st.Snap, next)
	if len(changed) > 0 {
		s.log.Info("transferred zones follow the links", "zones", zoneList(changed), "up", upNames(next, next.TransferUp()))
	}
	if s.onTransferView != nil {
		s.onTransferView(changed)
	}
}

// zoneList is origins and serials for a log line, the first 20.
func zoneList(zones []zone.ZoneInfo) string {
	var b strings.Builder
	for i, z := range zones {
		if i == 20 {
			b.WriteString(" …")
			break
		}
		if i > 0 {
			b.WriteString(" ")
		}
		b.WriteString(strings.TrimSuffix(z.Origin, ".") + "=" + strconv.FormatUint(uint64(z.Serial), 10))
	}
	return b.String()
}

// upNames names the links of up.
func upNames(snap *zone.Snapshot, up zone.LinkSet) []string {
	names := []string{}
	for i, l := range snap.Settings().Links {
		if up.Has(i) {
			names = append(names, l.Name)
		}
	}
	return names
}
