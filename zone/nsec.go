package zone

import (
	"runtime"
	"slices"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/dnssec"
)

// nsecChain is a signed zone's NSEC owners in canonical order (RFC 4034
// §6.1): every name that holds records, none below a delegation (glue is
// not the zone's data) and no empty non-terminal (it owns nothing).
type nsecChain struct {
	names []string
	keys  []string // dnssec.CanonicalKey of each name, ascending
}

// nsecChain is made on first use and kept with the zone, which is never
// changed once built: a zone taken over by the next snapshot keeps it,
// and a patched one derives its own from it (derivedChain).
func (z *zoneData) nsecChain() *nsecChain {
	if c := z.chain.Load(); c != nil {
		return c
	}
	z.chainMu.Lock()
	defer z.chainMu.Unlock()
	if c := z.chain.Load(); c != nil {
		return c
	}
	c := &nsecChain{}
	for name, n := range z.nodes.all() {
		if z.ownsNSEC(name, n) {
			c.names = append(c.names, name)
		}
	}
	c.keys = make([]string, len(c.names))
	for i, name := range c.names {
		c.keys[i] = dnssec.CanonicalKey(name)
	}
	sort.Sort(byKey{c.names, c.keys})
	z.chain.Store(c)
	return c
}

// ownsNSEC reports whether name owns an NSEC: it holds records and is not
// below a delegation.
func (z *zoneData) ownsNSEC(name string, n *node) bool {
	return n != nil && len(n.sets) > 0 && (name == z.origin || z.cutAbove(name, false) == nil)
}

// deriveChain gives a patched zone the chain of prev, the zone it was
// patched from, with the names of changed placed again: a few names in a
// chain of hundreds of thousands, rather than all of them sorted anew. It
// does nothing when prev's chain was never made.
func (z *zoneData) deriveChain(prev *zoneData, changed map[string]bool) {
	pc := prev.chain.Load()
	if pc == nil || z.dnssec == nil || z.dnssec.NSEC3 {
		return
	}
	var add byKey
	for name := range changed {
		if z.ownsNSEC(name, z.nodes.at(name)) {
			add.names = append(add.names, name)
			add.keys = append(add.keys, dnssec.CanonicalKey(name))
		}
	}
	sort.Sort(add)
	c := &nsecChain{names: make([]string, 0, len(pc.names)+len(add.names)), keys: make([]string, 0, len(pc.names)+len(add.names))}
	j := 0
	for i, name := range pc.names {
		if changed[name] {
			continue
		}
		for j < len(add.names) && add.keys[j] < pc.keys[i] {
			c.names, c.keys = append(c.names, add.names[j]), append(c.keys, add.keys[j])
			j++
		}
		c.names, c.keys = append(c.names, name), append(c.keys, pc.keys[i])
	}
	c.names, c.keys = append(c.names, add.names[j:]...), append(c.keys, add.keys[j:]...)
	z.chain.Store(c)
}

type byKey struct{ names, keys []string }

func (b byKey) Len() int           { return len(b.names) }
func (b byKey) Less(i, j int) bool { return b.keys[i] < b.keys[j] }
func (b byKey) Swap(i, j int) {
	b.names[i], b.names[j] = b.names[j], b.names[i]
	b.keys[i], b.keys[j] = b.keys[j], b.keys[i]
}

// find gives the index of name in the chain, or of the name before it
// (the one whose NSEC covers it) when it is not there.
func (c *nsecChain) find(name string) (int, bool) {
	k := dnssec.CanonicalKey(name)
	i, found := slices.BinarySearch(c.keys, k)
	if found {
		return i, true
	}
	// The apex sorts before every name of the zone, so i > 0 for any
	// name in it.
	return max(i-1, 0), false
}

// nsecAt is the NSEC record of the chain's i-th name: the next name, and
// the types the name holds, RRSIG and NSEC with them. A delegation point
// holds only its NS (and DS) in this zone. Its TTL is the negative TTL
// (RFC 9077), the SOA's TTL or minimum, whichever is lower.
func (z *zoneData) nsecAt(c *nsecChain, i int) *dns.NSEC {
	name := c.names[i]
	n := z.nodes.at(name)
	types := make([]uint16, 0, len(n.sets)+2)
	for _, set := range n.sets {
		if !n.cut || set.rtype == dns.TypeNS || set.rtype == dns.TypeDS {
			types = append(types, set.rtype)
		}
	}
	types = append(types, dns.TypeRRSIG, dns.TypeNSEC)
	slices.Sort(types)
	return &dns.NSEC{
		Hdr:        dns.RR_Header{Name: name, Rrtype: dns.TypeNSEC, Class: dns.ClassINET, Ttl: z.negSOA.Hdr.Ttl},
		NextDomain: c.names[(i+1)%len(c.names)],
		TypeBitMap: types,
	}
}

// signed reports whether this lookup proves what it says: the client
// asked for DNSSEC (DO) and the zone is signed.
func (l *lookup) signed() bool { return l.client.DNSSEC && l.zone.dnssec != nil }

// addNSEC puts the NSEC of the chain's i-th name into authority, once.
func (l *lookup) addNSEC(c *nsecChain, i int) {
	name := c.names[i]
	for _, rr := range l.res.Ns {
		if rr.Header().Rrtype == dns.TypeNSEC && rr.Header().Name == name {
			return
		}
	}
	l.res.Ns = append(l.res.Ns, l.zone.nsecAt(c, i))
}

// proveNoName proves that name does not exist (RFC 4035 §3.1.3.2): the
// NSEC covering it, and the NSEC covering the wildcard at its closest
// encloser, which would otherwise have answered.
func (l *lookup) proveNoName(name string) {
	if l.zone.dnssec.NSEC3 {
		l.prove3NoName(name)
		return
	}
	c := l.zone.nsecChain()
	i, _ := c.find(name)
	l.addNSEC(c, i)
	ce := parentName(name)
	for ce != l.zone.origin && l.zone.nodes.at(ce) == nil {
		ce = parentName(ce)
	}
	j, _ := c.find("*." + ce)
	l.addNSEC(c, j)
}

// proveNoType proves that n, found for name, holds no set of the type
// asked (RFC 4035 §3.1.3.1): n's own NSEC, or for an empty non-terminal
// the NSEC whose span holds it; from a wildcard, also the proof that name
// itself does not exist (§3.1.3.4).
func (l *lookup) proveNoType(name string, n *node, wild bool) {
	if l.zone.dnssec.NSEC3 {
		l.prove3NoType(name, n, wild)
		return
	}
	c := l.zone.nsecChain()
	if wild {
		l.proveSynthesised(name)
	}
	i, _ := c.find(n.name)
	l.addNSEC(c, i)
}

// proveSynthesised proves that a wildcard answered for name because name
// does not exist (RFC 4035 §3.1.3.3): the NSEC covering it.
func (l *lookup) proveSynthesised(name string) {
	if l.zone.dnssec.NSEC3 {
		l.prove3Synthesised(name)
		return
	}
	c := l.zone.nsecChain()
	i, _ := c.find(name)
	l.addNSEC(c, i)
}

// proveNoDS proves that a delegation is insecure: the NSEC at the cut,
// which lists NS and no DS (RFC 4035 §3.1.4.1).
func (l *lookup) proveNoDS(cut *node) {
	if l.zone.dnssec.NSEC3 {
		l.prove3NoDS(cut)
		return
	}
	c := l.zone.nsecChain()
	if i, ok := c.find(cut.name); ok {
		l.addNSEC(c, i)
	}
}

// nsecOf answers a query for the NSEC type at a name of the chain.
func (l *lookup) nsecOf(name string) []dns.RR {
	if l.zone.dnssec.NSEC3 {
		return nil
	}
	c := l.zone.nsecChain()
	if i, ok := c.find(name); ok {
		return []dns.RR{l.zone.nsecAt(c, i)}
	}
	return nil
}

// NSECRecords is the NSEC chain of the signed zone origin, for a transfer
// of the signed zone; nil for a zone not signed.
func (s *Snapshot) NSECRecords(origin string) []dns.RR {
	z := s.zones[origin]
	if z == nil || z.dnssec == nil || z.dnssec.NSEC3 {
		return nil
	}
	c := z.nsecChain()
	out := make([]dns.RR, len(c.names))
	for i := range c.names {
		out[i] = z.nsecAt(c, i)
	}
	return out
}

// IsCut reports whether name is a delegation point of the zone origin:
// its NS there is the child's, which the zone does not sign.
func (s *Snapshot) IsCut(origin, name string) bool {
	z := s.zones[origin]
	if z == nil {
		return false
	}
	n := z.nodes.at(name)
	return n != nil && n.cut
}

// PrepareDenial makes the NSEC or NSEC3 chain of every signed zone that
// has none yet, over as many goroutines as the process has cores. A
// chain is otherwise made by the first DO query that needs one, and the
// queries behind it wait: 0.6 s for a reverse zone of 430,000 names. The
// server calls this after a load and before serving it, so that no
// answer waits for a chain. Zones taken over from the previous snapshot,
// and patched ones, have theirs already.
func (s *Snapshot) PrepareDenial() {
	var todo []*zoneData
	for _, z := range s.zones {
		switch {
		case z.dnssec == nil:
		case z.dnssec.NSEC3 && z.chain3.Load() == nil, !z.dnssec.NSEC3 && z.chain.Load() == nil:
			todo = append(todo, z)
		}
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(todo)) {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < len(todo); i = int(next.Add(1)) - 1 {
				if todo[i].dnssec.NSEC3 {
					todo[i].nsec3Chain()
				} else {
					todo[i].nsecChain()
				}
			}
		})
	}
	wg.Wait()
}
