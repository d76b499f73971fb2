package zone

import (
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// linkAddresses chooses the addresses of a link-mapped set for this query.
//
// balance: the link the query arrived over, if it is up and has addresses
// here (inbound comes back over the link that asked); else every up link.
// failover: the first up link in the order written.
// With no link up, every address: a wrong health check must not take the
// name off the internet.
func (l *lookup) linkAddresses(set *rrset) []dns.RR {
	up := l.client.Up
	if set.mode == linkBalance && up.Has(l.client.Link) {
		for _, la := range set.links {
			if la.link == l.client.Link {
				return la.rrs
			}
		}
	}
	var out []dns.RR
	for _, la := range set.links {
		if !up.Has(la.link) {
			continue
		}
		if set.mode == linkFailover {
			return la.rrs
		}
		if out == nil {
			// Clipped, so that a first append copies rather than
			// writing into the link's own list.
			out = slices.Clip(la.rrs)
			continue
		}
		for _, rr := range la.rrs {
			// Links share the union's records (addAddresses): an
			// address on two links is the same value in both lists.
			if !slices.Contains(out, rr) {
				out = append(out, rr)
			}
		}
	}
	if out == nil {
		return set.rrs
	}
	return out
}

// mxRecords publishes MX by the health of their targets: "all" every one,
// "healthy" those whose target is reachable, "primary" only the reachable
// ones of the lowest preference. When none is reachable every MX is
// published. Equal preferences are rotated so senders share them.
func (l *lookup) mxRecords(set *rrset) []dns.RR {
	return l.rotateGroups(l.snap.publishedMX(set, l.client.Up))
}

// publishedMX is the MX records of set published with the links of up,
// before rotation: the answers' choice and the status page's.
func (s *Snapshot) publishedMX(set *rrset, up LinkSet) []dns.RR {
	rrs, health := set.rrs, []mxHealth(nil)
	if linked, ok := s.mxLinked.get(set); ok {
		rrs, health = linked.rrs, linked.health
	}
	if set.publish == publishAll || set.publish == publishHealthy && health == nil {
		return rrs
	}
	ok := func(i int) bool { return health == nil || health[i].healthy(up) }
	var chosen []dns.RR
	for i, rr := range rrs {
		if !ok(i) {
			continue
		}
		if set.publish == publishPrimary && len(chosen) > 0 &&
			rr.(*dns.MX).Preference != chosen[0].(*dns.MX).Preference {
			break
		}
		chosen = append(chosen, rr)
	}
	if chosen == nil {
		chosen = rrs
	}
	return chosen
}

// rotateGroups rotates each run of equal preference in a sorted MX list.
func (l *lookup) rotateGroups(rrs []dns.RR) []dns.RR {
	var out []dns.RR
	for i := 0; i < len(rrs); {
		j := i + 1
		pref := rrs[i].(*dns.MX).Preference
		for j < len(rrs) && rrs[j].(*dns.MX).Preference == pref {
			j++
		}
		if j-i > 1 && out == nil {
			out = append(make([]dns.RR, 0, len(rrs)), rrs[:i]...)
		}
		if out != nil {
			out = append(out, l.rotate(rrs[i:j])...)
		}
		i = j
	}
	if out == nil {
		return rrs
	}
	return out
}

// Stranded lists the link-mapped address sets none of whose links is in
// up: they answer every address until a link returns. The server logs
// these when link state changes.
// It looks only at the link-mapped sets each zone listed when it was
// built, not at every name: it runs on every reload and link change.
func (s *Snapshot) Stranded(up LinkSet) []string {
	var out []string
	if n := len(s.settings.Links); n > 0 && up&(1<<uint(n)-1) == 1<<uint(n)-1 {
		return nil // every link up: nothing is stranded, and no zone need be read
	}
	for _, z := range s.zones {
		for _, ls := range z.linked {
			stranded := true
			for _, la := range ls.set.links {
				if up.Has(la.link) {
					stranded = false
					break
				}
			}
			if stranded {
				out = append(out, ls.owner+" "+strings.ToUpper(dns.TypeToString[ls.set.rtype]))
			}
		}
	}
	return out
}

// linkedSet is a link-mapped address set and the name that holds it.
type linkedSet struct {
	owner string
	set   *rrset
}
