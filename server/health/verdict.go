package health

import (
	"fmt"

	"github.com/mxdns/mxdns/zone"
)

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
			if ok, seen := healthy[l.Name]; seen && !ok && len(l.Checks) > 0 {
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
	case len(l.Checks) == 0:
		return "no health check"
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if why, ok := m.why[l.Name]; ok {
		return why
	}
	return "not checked yet"
}

// Results returns the latest result of each check of link, in the order
// written; a check not probed yet has a zero Time.
func (m *Monitor) Results(link string) []Result {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Result(nil), m.last[link]...)
}

// CheckUp returns the verdict of each check of link, in the order written.
func (m *Monitor) CheckUp(link string) []bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]bool(nil), m.checkUp[link]...)
}

// Describe names a check the way logs and the status page show it,
// never with a secret.
func Describe(c zone.Check) string {
	var s string
	switch {
	case c.TCP != "":
		s = "tcp " + c.TCP
	case c.SMTP != "":
		s = "smtp " + c.SMTP
		if c.StartTLS {
			s += " starttls"
		}
	case c.File != "":
		s = "file " + c.File
	default:
		s = RedactURL(c.HTTP) // the URL says it is http; its secrets are not shown
	}
	if c.Source.IsValid() {
		s += fmt.Sprintf(" from %s", c.Source)
	}
	return s
}
