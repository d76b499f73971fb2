package server

import (
	"fmt"
	"strings"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/server/answer"
	"github.com/mxdns/mxdns/server/ops"
	"github.com/mxdns/mxdns/zone"
)

// History is what the status page remembers (ops.Provider): fed by link
// changes (setUp), probes (linkChecked) and reloads (recordReload).
func (s *Server) History() *ops.History { return s.history }

// Mail lists the mail domains whose name holds filter for the status
// page (ops.Provider), those with a record withdrawn first. It reads the
// state served, which is immutable, and takes no lock: a page never
// waits for a reload's swap, nor a probe for a page.
func (s *Server) Mail(filter string, limit int) ([]ops.MailDomain, int) {
	st := s.state.Load()
	if filter == "" {
		if v := s.mailView.Load(); v != nil && v.st == st && v.limit == limit {
			return v.domains, v.matched
		}
		domains, matched := s.mail(st, "", limit)
		s.mailView.Store(&mailView{st: st, limit: limit, domains: domains, matched: matched})
		return domains, matched
	}
	return s.mail(st, filter, limit)
}

// mailView is the unfiltered mail table made for one state: a status
// page refreshes every few seconds, the state changes far more rarely,
// and at ten thousand domains the table is most of the page's cost. It
// is shared by the pages, which only read it.
type mailView struct {
	st      *answer.State
	limit   int
	domains []ops.MailDomain
	matched int
}

func (s *Server) mail(st *answer.State, filter string, limit int) ([]ops.MailDomain, int) {
	snap, up := st.Snap, st.Up
	var keep func(string) bool
	if filter != "" {
		keep = func(name string) bool { return strings.Contains(name, filter) }
	}
	domains, matched := snap.MailDomains(up, keep, limit)
	links := snap.Settings().Links
	hosts := map[string][]ops.ViaLink{}
	out := make([]ops.MailDomain, 0, len(domains))
	for _, d := range domains {
		md := ops.MailDomain{Name: d.Name, Publish: d.Publish, Withdrawn: d.Withdrawn}
		for _, mx := range d.MX {
			ms := ops.MXStatus{Preference: mx.Preference, Host: mx.Host, Published: mx.Published, Why: mx.Why}
			for _, l := range mx.Links {
				ms.Links = append(ms.Links, links[l].Name)
			}
			if mx.Published {
				via, ok := hosts[mx.Host]
				if !ok {
					via = viaLinks(snap, up, mx.Host)
					hosts[mx.Host] = via
				}
				ms.Via = via
			}
			md.MX = append(md.MX, ms)
		}
		out = append(out, md)
	}
	return out, matched
}

// viaLinks is the addresses of host that a query arriving over each
// link, and over none, is told with the links of up; nil for a host in
// none of our zones, whose addresses are not ours to tell.
func viaLinks(snap *zone.Snapshot, up zone.LinkSet, host string) []ops.ViaLink {
	links := snap.Settings().Links
	out := make([]ops.ViaLink, 0, len(links)+1)
	for i := -1; i < len(links); i++ {
		v := ops.ViaLink{}
		if i >= 0 {
			v.Link = links[i].Name
		}
		for _, qtype := range []uint16{dns.TypeA, dns.TypeAAAA} {
			r := snap.Lookup(dns.Question{Name: host, Qtype: qtype, Qclass: dns.ClassINET}, zone.Client{Link: i, Up: up})
			if r.Kind == zone.KindRefused || r.Kind == zone.KindReferral {
				return nil
			}
			for _, rr := range r.Answer {
				switch rr := rr.(type) {
				case *dns.A:
					v.Addrs = append(v.Addrs, rr.A.String())
				case *dns.AAAA:
					v.Addrs = append(v.Addrs, rr.AAAA.String())
				}
			}
		}
		out = append(out, v)
	}
	// No link listed first would be shown before the links: last reads
	// better, and "any link" folds them all when they agree.
	return append(out[1:], out[0])
}

// recordReload keeps a reload attempt for the status page.
func (s *Server) recordReload(res ReloadResult) {
	e := ops.ReloadEvent{Time: res.Time, Duration: res.Duration, Outcome: "ok"}
	switch {
	case res.Err != nil && res.Served:
		e.Outcome = "served with files in error"
	case res.Err != nil:
		e.Outcome = "failed"
	}
	if res.Err != nil {
		msg := res.Err.Error()
		first, _, _ := strings.Cut(msg, "\n")
		if more := strings.Count(msg, "\n"); more > 0 {
			first += fmt.Sprintf(" (and %d more)", more)
		}
		e.Error = first
	}
	s.history.Reload(e)
}
