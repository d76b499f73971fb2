package server

import (
	"slices"
	"time"

	"github.com/mxdns/mxdns/server/answer"
	"github.com/mxdns/mxdns/server/health"
	"github.com/mxdns/mxdns/server/ops"
	"github.com/mxdns/mxdns/zone"
)

// LinkChange is one link going up or down as the answers see it: by its
// health check, or by a manual state at a reload.
type LinkChange struct {
	Link string
	Up   bool
	Why  string // "tcp 127.0.0.1:2525: connection refused", "http 503", "state: down in config"
	Time time.Time
}

// linkInfo is the served state of one link and since when.
type linkInfo struct {
	up    bool
	since time.Time
}

// setUp publishes snap with the up set up, and logs, records and announces
// every link whose served state changed. A change that leaves address sets
// with every link down is logged with their names: they now answer every
// address. Callers hold mu.
func (s *Server) setUp(snap *zone.Snapshot, up zone.LinkSet, now time.Time) {
	st := s.state.Load()
	if st == nil || st.Snap != snap || st.Up != up {
		st = answer.NewState(snap, up, s.signers)
		s.state.Store(st)
	}
	for i, l := range snap.Settings().Links {
		isUp := up.Has(i)
		s.SetLinkUp(l.Name, isUp)
		s.history.LinkState(l.Name, isUp, l.State != zone.LinkAuto, now)
		info, known := s.links[l.Name]
		if known && info.up == isUp {
			continue
		}
		s.links[l.Name] = &linkInfo{up: isUp, since: now}
		if !known && isUp {
			continue // a new link starts up without fanfare
		}
		why := s.checks.Why(l)
		if isUp {
			s.log.Info("link up", "link", l.Name, "why", why)
		} else {
			s.log.Warn("link down", "link", l.Name, "why", why)
		}
		if s.onLinkChange != nil {
			s.onLinkChange(LinkChange{Link: l.Name, Up: isUp, Why: why, Time: now})
		}
	}
	for name := range s.links {
		if !slices.Contains(st.LinkNames(), name) {
			delete(s.links, name)
			s.metrics.ForgetLink(name)
			s.history.ForgetLink(name)
		}
	}
	stranded := snap.Stranded(up)
	slices.Sort(stranded)
	if !slices.Equal(stranded, s.stranded) {
		switch {
		case len(stranded) > 0:
			s.log.Warn("every link of these names is down: answering every address", "names", stranded)
		case len(s.stranded) > 0:
			s.log.Info("every linked name has an up link again")
		}
		s.stranded = stranded
	}
	s.kickTransferView(st)
}

// linkChecked is the health monitor's report of one probe: it is counted
// and, when the verdict flipped, the new up set is published. Results of a
// checker replaced or stopped meanwhile are dropped: both happen under mu.
func (s *Server) linkChecked(c health.Checker, res health.Result, up, flip bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || !s.checks.Current(c) {
		return
	}
	s.ObserveLinkCheck(c.Link, res.OK, res.Latency)
	st := s.state.Load()
	if i := st.Snap.LinkIndex(c.Link); i >= 0 && res.Check < len(st.Snap.Settings().Links[i].Checks) {
		check := health.Describe(st.Snap.Settings().Links[i].Checks[res.Check])
		s.metrics.CheckResult(c.Link, check, res.OK, res.Latency, res.CertExpiry)
		s.history.LinkCheck(c.Link, ops.CheckEvent{Time: res.Time, Check: check, OK: res.OK, Result: res.Result, Latency: res.Latency})
	}
	if s.onCheck != nil {
		s.onCheck(c.Link, res.OK)
	}
	if !flip {
		return
	}
	if i := st.Snap.LinkIndex(c.Link); i >= 0 && st.Snap.Settings().Links[i].State != zone.LinkAuto {
		// Not a change of the answers, so setUp will not log it.
		s.log.Info("link check changed; the manual state wins", "link", c.Link, "check_up", up, "why", res.Result)
	}
	s.setUp(st.Snap, s.checks.Up(st.Snap.Settings().Links), res.Time)
}

// probeTimeoutFloor is the least time a health check gives a probe
// (health.Config.MinTimeout): 0 in service; tests raise it
// (health_load_test.go).
var probeTimeoutFloor time.Duration
