package health

import "github.com/mxdns/mxdns/zone"

// Up derives the up set from the links' manual states and the verdicts
// seen so far. A manual state wins; a link with no verdict is up.
func (m *Monitor) Up(links []zone.Link) zone.LinkSet {
	m.mu.Lock()
	defer m.mu.Unlock()
	return upLinks(links, m.verdict)
}

// upLinks is Up on a map of verdicts by link name.
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

// Why says why a link is in the state Up gives it.
func (m *Monitor) Why(l zone.Link) string {
	switch {
	case l.State == zone.LinkDown:
		return "state: down in config"
	case l.State == zone.LinkUp:
		return "state: up in config"
	case l.Check == nil:
		return "no health check"
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if why, ok := m.why[l.Name]; ok {
		return why
	}
	return "not checked yet"
}

// Last returns the latest probe result of link, if it has one.
func (m *Monitor) Last(link string) (Result, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.last[link]
	return r, ok
}

// Describe names a check the way logs and the status page show it.
func Describe(c zone.Check) string {
	if c.TCP != "" {
		return "tcp " + c.TCP
	}
	return RedactURL(c.HTTP) // the URL says it is http; its secrets are not shown
}
