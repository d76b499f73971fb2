package server

import (
	"time"

	"github.com/mxdns/mxdns/zone"
)

// upLinks derives the up set from the links' manual states and the health
// verdicts seen so far (by link name, so they survive a reload that
// reorders links). A manual state wins; a link with no verdict is up.
func upLinks(links []zone.Link, healthy map[string]bool) zone.LinkSet {
	var up zone.LinkSet
	for i, l := range links {
		if i >= zone.MaxLinks {
			break
		}
		switch l.State {
		case zone.LinkDown:
			continue
		case zone.LinkAuto:
			if ok, seen := healthy[l.Name]; seen && !ok && l.Check != nil {
				continue
			}
		}
		up = up.With(i)
	}
	return up
}

// setLinkHealth records a health verdict reached outside a checker (tests
// use it) and republishes the state when it changes the up set.
func (s *Server) setLinkHealth(name string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if prev, seen := s.health[name]; seen && prev == ok {
		return
	}
	s.health[name] = ok
	st := s.state.Load()
	s.setUp(st.snap, upLinks(st.snap.Settings().Links, s.health), time.Now())
}
