package zone

import (
	"reflect"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/internal/rrwire"
)

// TransferDiff gives what a transfer of the zone origin carries
// differently in s than in prev: del, the records only prev's holds, and
// add, those only s's holds, each as Transferred gives it, the SOA
// aside. Names whose node the two share are passed over unread: a
// reverse zone patched for one edit among hundreds of thousands of names
// costs the names the patch wrote, not a pass over the zone. ok is false
// when either snapshot does not serve the zone, or transfers it under
// transfer_view: current, where what a node's sets transfer depends on
// the links and on other zones: compare Transferred whole then.
func (s *Snapshot) TransferDiff(prev *Snapshot, origin string) (del, add []dns.RR, ok bool) {
	z, pz := s.zones[origin], prev.zones[origin]
	if z == nil || pz == nil || s.viewed(z) || prev.viewed(pz) {
		return nil, nil, false
	}
	if z == pz {
		return nil, nil, true
	}
	var names []string
	for name := range z.nodes.differing(&pz.nodes) {
		names = append(names, name)
	}
	sortCanonical(names)
	var p rrwire.Packer
	for _, name := range names {
		before, after := transferRecords(pz.nodes.at(name)), transferRecords(z.nodes.at(name))
		gone, came := p.Diff(before, after)
		del, add = append(del, gone...), append(add, came...)
	}
	return del, add, true
}

// transferRecords are a node's records as zoneRecords gives them: copies,
// each with its set's TTL as written, the SOA left out.
func transferRecords(n *node) []dns.RR {
	if n == nil {
		return nil
	}
	var out []dns.RR
	for _, set := range n.sets {
		if set.rtype == dns.TypeSOA {
			continue
		}
		for _, rr := range set.rrs {
			rr = dns.Copy(rr)
			rr.Header().Ttl = set.ttl
			out = append(out, rr)
		}
	}
	return out
}

// differing yields every key whose value m and o do not share: in one of
// them only, or another value. Shards the two share, as a map shares
// them with the one it was cloned from, are skipped unread.
func (m *cowMap[K, V]) differing(o *cowMap[K, V]) func(yield func(K) bool) {
	return func(yield func(K) bool) {
		if m.shards != nil && o.shards != nil && len(m.shards) == len(o.shards) && m.seed == o.seed {
			for i := range m.shards {
				if sameMap(m.shards[i], o.shards[i]) {
					continue
				}
				if !differingIn(m.shards[i], o.shards[i], yield) {
					return
				}
			}
			return
		}
		for k, v := range m.all() {
			if ov, ok := o.get(k); !ok || !sameValue(v, ov) {
				if !yield(k) {
					return
				}
			}
		}
		for k := range o.all() {
			if _, ok := m.get(k); !ok {
				if !yield(k) {
					return
				}
			}
		}
	}
}

func differingIn[K comparable, V any](a, b map[K]V, yield func(K) bool) bool {
	for k, v := range a {
		if bv, ok := b[k]; !ok || !sameValue(v, bv) {
			if !yield(k) {
				return false
			}
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			if !yield(k) {
				return false
			}
		}
	}
	return true
}

// sameValue compares the values of a cowMap, pointers in every use.
func sameValue[V any](a, b V) bool { return any(a) == any(b) }

// sameMap reports whether a and b are the one map: Go has no == for maps.
func sameMap[K comparable, V any](a, b map[K]V) bool {
	return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}

// SOA is the SOA record of the zone origin, shared: read it only.
func (s *Snapshot) SOA(origin string) (*dns.SOA, bool) {
	z := s.zones[origin]
	if z == nil {
		return nil, false
	}
	return z.soa, true
}

// Version is the serial and content digest of the zone origin, as
// Serials gives them.
func (s *Snapshot) Version(origin string) (SerialRecord, bool) {
	z := s.zones[origin]
	if z == nil {
		return SerialRecord{}, false
	}
	return SerialRecord{Serial: z.soa.Serial, Hash: z.hash}, true
}
