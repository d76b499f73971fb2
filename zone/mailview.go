package zone

import (
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// MailDomain is a name with MX records as the answers publish them for
// one set of links up: what the status page shows an operator in an
// outage, where mail goes now and what was withdrawn.
type MailDomain struct {
	Name    string // the owner, fully qualified
	Zone    string // the origin of its zone
	Publish string // mx_publish: healthy, all or primary
	MX      []MXState
	// Withdrawn counts the records of MX not published.
	Withdrawn int
}

// MXState is one MX record of a MailDomain.
type MXState struct {
	Preference uint16
	Host       string
	Published  bool
	// Links are the links whose addresses make Host reachable, by
	// index; nil when it is reachable whatever the links (an address on
	// no link, or a host outside our zones).
	Links []int
	// Why says why the record is withdrawn, or why it is published
	// though none of its links is up; "" otherwise.
	Why string
}

// MailDomains lists the names with MX records in the zones served whose
// name keep accepts (nil: all), with each record published or withdrawn
// as the answers do for the links of up: those with a record withdrawn
// first, then by name, at most limit of them (a page of ten thousand
// zones shows a few), and how many there are in all.
func (s *Snapshot) MailDomains(up LinkSet, keep func(name string) bool, limit int) ([]MailDomain, int) {
	type found struct {
		name, origin string
		set          *rrset
		withdrawn    bool
	}
	before := func(a, b found) bool {
		if a.withdrawn != b.withdrawn {
			return a.withdrawn
		}
		return a.name < b.name
	}
	// The first limit in order, kept sorted while the zones are walked:
	// of ten thousand domains only a few hundred ever enter it, and no
	// list of them all is made.
	first := make([]found, 0, min(limit, 256))
	matched := 0
	for _, z := range s.zones {
		for _, set := range z.mxSets {
			if len(set.rrs) == 0 {
				continue
			}
			name := set.rrs[0].Header().Name
			if keep != nil && !keep(name) {
				continue
			}
			matched++
			f := found{name, z.origin, set, s.withdraws(set, up)}
			if len(first) == limit && (limit == 0 || !before(f, first[limit-1])) {
				continue
			}
			i, _ := slices.BinarySearchFunc(first, f, func(a, b found) int {
				if before(a, b) {
					return -1
				}
				return 1
			})
			if len(first) == limit {
				first = first[:limit-1]
			}
			first = slices.Insert(first, i, f)
		}
	}
	out := make([]MailDomain, 0, len(first))
	for _, f := range first {
		out = append(out, s.mailDomain(f.origin, f.name, f.set, up))
	}
	return out, matched
}

// withdraws reports whether publishedMX leaves out a record of set.
func (s *Snapshot) withdraws(set *rrset, up LinkSet) bool {
	n := len(set.rrs)
	if linked, ok := s.mxLinked.get(set); ok {
		n = len(linked.rrs)
	}
	return len(s.publishedMX(set, up)) < n
}

func (s *Snapshot) mailDomain(origin, name string, set *rrset, up LinkSet) MailDomain {
	d := MailDomain{Name: name, Zone: origin, Publish: [...]string{"healthy", "all", "primary"}[set.publish]}
	rrs, health := set.rrs, []mxHealth(nil)
	if linked, ok := s.mxLinked.get(set); ok {
		rrs, health = linked.rrs, linked.health
	}
	published := s.publishedMX(set, up)
	fallback := false // no target reachable: every record is published
	if health != nil && set.publish != publishAll {
		fallback = !slices.ContainsFunc(health, func(h mxHealth) bool { return h.healthy(up) })
	}
	for i, rr := range rrs {
		mx := rr.(*dns.MX)
		st := MXState{Preference: mx.Preference, Host: mx.Mx, Published: slices.Contains(published, rr)}
		reachable := true
		if health != nil && !health[i].always {
			for l := range MaxLinks {
				if health[i].links.Has(l) {
					st.Links = append(st.Links, l)
				}
			}
			reachable = health[i].healthy(up)
		}
		switch {
		case !st.Published && !reachable:
			st.Why = "its addresses are only on " + s.linkNames(st.Links) + ", down"
		case !st.Published:
			st.Why = "mx_publish: primary publishes only the lowest preference reachable"
		case !reachable && fallback:
			st.Why = "published though " + s.linkNames(st.Links) + " down: no MX target is reachable, so every one is published"
		case !reachable:
			st.Why = "published though " + s.linkNames(st.Links) + " down: mx_publish: all"
		}
		if !st.Published {
			d.Withdrawn++
		}
		d.MX = append(d.MX, st)
	}
	return d
}

// linkNames names links by index: "wan1", "wan1 and wan2", or "no link"
// for a target with no address at all.
func (s *Snapshot) linkNames(links []int) string {
	if len(links) == 0 {
		return "no link"
	}
	names := make([]string, len(links))
	for i, l := range links {
		names[i] = s.settings.Links[l].Name
	}
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}
