package xfr

import (
	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/internal/rrwire"
)

// Changes are what IXFR sends a client: one difference sequence (RFC
// 1995 §4) from the version it holds to the one served, condensed from
// every version between them.
type Changes struct {
	From, To *dns.SOA
	Del, Add []dns.RR // the SOAs aside
}

// orderedSet is a set of records by wire form that remembers the order
// they came in.
type orderedSet struct {
	at  map[string]int
	rrs []dns.RR // nil where one was taken out
}

func newOrderedSet(n int) *orderedSet {
	return &orderedSet{at: make(map[string]int, n), rrs: make([]dns.RR, 0, n)}
}

func (s *orderedSet) add(k string, rr dns.RR) {
	if _, ok := s.at[k]; !ok {
		s.at[k] = len(s.rrs)
		s.rrs = append(s.rrs, rr)
	}
}

// take removes k and reports whether it was there.
func (s *orderedSet) take(k string) bool {
	i, ok := s.at[k]
	if ok {
		delete(s.at, k)
		s.rrs[i] = nil
	}
	return ok
}

func (s *orderedSet) list() []dns.RR {
	out := make([]dns.RR, 0, len(s.at))
	for _, rr := range s.rrs {
		if rr != nil {
			out = append(out, rr)
		}
	}
	return out
}

// condense makes one difference sequence of consecutive ones (each
// one's From the SOA the previous one goes To): a record deleted then
// added again, or added then deleted, is in neither list, so that a
// client never deletes what it lacks nor adds what it has.
func condense(seq []Changes) Changes {
	var p rrwire.Packer
	del, add := newOrderedSet(0), newOrderedSet(0)
	for _, c := range seq {
		for _, rr := range c.Del {
			if k := p.Key(rr); !add.take(k) {
				del.add(k, rr)
			}
		}
		for _, rr := range c.Add {
			if k := p.Key(rr); !del.take(k) {
				add.add(k, rr)
			}
		}
	}
	return Changes{From: seq[0].From, To: seq[len(seq)-1].To, Del: del.list(), Add: add.list()}
}

// apply gives base with each delta's changes made, in order: records
// deleted are taken out, records added go at the end.
func apply(base []dns.RR, deltas []*record) []dns.RR {
	var p rrwire.Packer
	s := newOrderedSet(len(base))
	for _, rr := range base {
		s.add(p.Key(rr), rr)
	}
	for _, d := range deltas {
		for _, rr := range d.del {
			s.take(p.Key(rr))
		}
		for _, rr := range d.add {
			s.add(p.Key(rr), rr)
		}
	}
	out := s.list()
	// The SOA goes first, as a transfer opens with it: the last delta's
	// new SOA, added at the end, replaced the base's.
	for i, rr := range out {
		if rr.Header().Rrtype == dns.TypeSOA {
			copy(out[1:i+1], out[:i])
			out[0] = rr
			break
		}
	}
	return out
}
