package update

import (
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/zone"
)

// The steps of RFC 2136 §3, each on the whole message before the next:
// an update is applied all or not at all.

// inZone reports whether name is the zone's origin or below it.
func inZone(origin, name string) bool { return dns.IsSubDomain(origin, name) }

// prerequisites checks the prerequisite section (§3.2) against view, the
// records a name holds now: the files' and the updated ones.
func prerequisites(origin string, prereqs []dns.RR, view func(name string) []dns.RR) *refusal {
	type key struct {
		name  string
		rtype uint16
	}
	want := map[key][]dns.RR{}
	var order []key
	for _, rr := range prereqs {
		h := rr.Header()
		name := dns.CanonicalName(h.Name)
		if h.Ttl != 0 {
			return refuse(dns.RcodeFormatError, "formerr", "a prerequisite's TTL must be 0 (RFC 2136 §3.2.1)", "zone", origin, "name", name)
		}
		if !inZone(origin, name) {
			return refuse(dns.RcodeNotZone, "notzone", "a prerequisite names a name outside the zone (RFC 2136 §3.2.5)", "zone", origin, "name", name)
		}
		has := view(name)
		ofType := slices.ContainsFunc(has, func(x dns.RR) bool { return x.Header().Rrtype == h.Rrtype })
		switch h.Class {
		case dns.ClassANY, dns.ClassNONE:
			if h.Rdlength != 0 {
				return refuse(dns.RcodeFormatError, "formerr", "a prerequisite of class ANY or NONE has no data (RFC 2136 §3.2.1)", "zone", origin, "name", name)
			}
			exists := len(has) > 0
			if h.Rrtype != dns.TypeANY {
				exists = ofType
			}
			switch {
			case h.Class == dns.ClassANY && !exists && h.Rrtype == dns.TypeANY:
				return refuse(dns.RcodeNameError, "prereq", "prerequisite: the name is not in use", "zone", origin, "name", name)
			case h.Class == dns.ClassANY && !exists:
				return refuse(dns.RcodeNXRrset, "prereq", "prerequisite: no such set", "zone", origin, "name", name, "type", dns.TypeToString[h.Rrtype])
			case h.Class == dns.ClassNONE && exists && h.Rrtype == dns.TypeANY:
				return refuse(dns.RcodeYXDomain, "prereq", "prerequisite: the name is in use", "zone", origin, "name", name)
			case h.Class == dns.ClassNONE && exists:
				return refuse(dns.RcodeYXRrset, "prereq", "prerequisite: the set exists", "zone", origin, "name", name, "type", dns.TypeToString[h.Rrtype])
			}
		case dns.ClassINET:
			k := key{name, h.Rrtype}
			if _, ok := want[k]; !ok {
				order = append(order, k)
			}
			want[k] = append(want[k], rr)
		default:
			return refuse(dns.RcodeFormatError, "formerr", "a prerequisite's class must be IN, ANY or NONE (RFC 2136 §3.2.4)", "zone", origin, "name", name)
		}
	}
	for _, k := range order {
		var has []dns.RR
		for _, x := range view(k.name) {
			if x.Header().Rrtype == k.rtype {
				has = append(has, x)
			}
		}
		if !sameSet(has, want[k]) {
			return refuse(dns.RcodeNXRrset, "prereq", "prerequisite: the set is not as given", "zone", origin, "name", k.name, "type", dns.TypeToString[k.rtype])
		}
	}
	return nil
}

// sameSet compares two sets of records by their data, TTL aside.
func sameSet(a, b []dns.RR) bool {
	covers := func(x, y []dns.RR) bool {
		for _, r := range x {
			if !slices.ContainsFunc(y, func(s dns.RR) bool { return same(r, s) }) {
				return false
			}
		}
		return true
	}
	return covers(a, b) && covers(b, a)
}

// same compares two records' names, types and data, whatever their
// classes and TTLs: a delete carries class NONE.
func same(a, b dns.RR) bool {
	if a.Header().Rrtype != b.Header().Rrtype || !strings.EqualFold(a.Header().Name, b.Header().Name) {
		return false
	}
	a, b = dns.Copy(a), dns.Copy(b)
	a.Header().Class, b.Header().Class = dns.ClassINET, dns.ClassINET
	a.Header().Name, b.Header().Name = dns.CanonicalName(a.Header().Name), dns.CanonicalName(b.Header().Name)
	return dns.IsDuplicate(a, b)
}

// meta reports the types no update may name (RFC 2136 §3.4.1.3).
func meta(t uint16, anyToo bool) bool {
	switch t {
	case dns.TypeAXFR, dns.TypeIXFR, dns.TypeMAILA, dns.TypeMAILB, dns.TypeOPT, dns.TypeTSIG:
		return true
	}
	return anyToo && t == dns.TypeANY
}

// prescan checks the update section's form (§3.4.1).
func prescan(origin string, updates []dns.RR) *refusal {
	for _, rr := range updates {
		h := rr.Header()
		name := dns.CanonicalName(h.Name)
		if !inZone(origin, name) {
			return refuse(dns.RcodeNotZone, "notzone", "an update names a name outside the zone (RFC 2136 §3.4.1.3)", "zone", origin, "name", name)
		}
		bad := false
		switch h.Class {
		case dns.ClassINET:
			bad = meta(h.Rrtype, true)
		case dns.ClassANY:
			bad = h.Ttl != 0 || h.Rdlength != 0 || meta(h.Rrtype, false)
		case dns.ClassNONE:
			bad = h.Ttl != 0 || meta(h.Rrtype, true)
		default:
			bad = true
		}
		if bad {
			return refuse(dns.RcodeFormatError, "formerr", "an update record is malformed (RFC 2136 §3.4.1.3)", "zone", origin, "record", rr.String())
		}
	}
	return nil
}

// permitted checks every record of the update against the rules of the
// key and the zone as its files define it (§3.3, narrowed): one record
// not allowed refuses the whole update.
func permitted(snap *zone.Snapshot, pol *zone.Updates, key, origin string, updates []dns.RR) *refusal {
	for _, rr := range updates {
		h := rr.Header()
		name := dns.CanonicalName(h.Name)
		if h.Class == dns.ClassANY && h.Rrtype == dns.TypeANY {
			if len(pol.Types(key, name)) == 0 {
				return refuse(dns.RcodeRefused, "refused", "the name is not one the key may update", "zone", origin, "key", key, "name", name)
			}
			continue
		}
		if !pol.Permits(key, name, h.Rrtype) {
			what := "the name is not one the key may update"
			if len(pol.Types(key, name)) > 0 {
				what = "the key may not update records of that type there"
			}
			return refuse(dns.RcodeRefused, "refused", what, "zone", origin, "key", key, "name", name, "type", dns.TypeToString[h.Rrtype])
		}
		if h.Class != dns.ClassINET {
			continue // deleting what is not there is no harm
		}
		if err := snap.Updatable(origin, name, h.Rrtype); err != nil {
			return refuse(dns.RcodeRefused, "refused", "the zone cannot hold the record", "zone", origin, "name", name,
				"type", dns.TypeToString[h.Rrtype], "why", err)
		}
	}
	return nil
}

// apply carries out the update section (§3.4.2) on a copy of recs: adds
// that the zone does not hold yet, deletes of updated records (the
// files' are never deleted). typesAt gives the types the key may update
// at a name, fileAt the files' records there.
func apply(recs []zone.UpdatedRecord, updates []dns.RR, typesAt func(string) []uint16, fileAt func(string) []dns.RR,
	now time.Time) (out []zone.UpdatedRecord, added, deleted int) {
	out = slices.Clone(recs)
	drop := func(match func(dns.RR) bool) {
		n := len(out)
		out = slices.DeleteFunc(out, func(r zone.UpdatedRecord) bool { return match(r.RR) })
		deleted += n - len(out)
	}
	for _, rr := range updates {
		h := rr.Header()
		name := dns.CanonicalName(h.Name)
		switch {
		case h.Class == dns.ClassINET:
			held := slices.ContainsFunc(out, func(r zone.UpdatedRecord) bool { return same(r.RR, rr) }) ||
				slices.ContainsFunc(fileAt(name), func(x dns.RR) bool { return same(x, rr) })
			if held {
				continue // a duplicate is ignored (§3.4.2.2)
			}
			rr = dns.Copy(rr)
			rr.Header().Name = name
			out = append(out, zone.UpdatedRecord{RR: rr, Added: now})
			added++
		case h.Class == dns.ClassANY && h.Rrtype == dns.TypeANY:
			types := typesAt(name)
			drop(func(x dns.RR) bool { return x.Header().Name == name && slices.Contains(types, x.Header().Rrtype) })
		case h.Class == dns.ClassANY:
			drop(func(x dns.RR) bool { return x.Header().Name == name && x.Header().Rrtype == h.Rrtype })
		case h.Class == dns.ClassNONE:
			drop(func(x dns.RR) bool { return same(x, rr) })
		}
	}
	return out, added, deleted
}
