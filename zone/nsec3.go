package zone

import (
	"slices"
	"sort"
	"strings"

	"github.com/miekg/dns"
)

// nsec3Chain is a zone's names hashed (RFC 5155, SHA-1, no extra
// iterations and no salt, as RFC 9276 asks), in hash order: every name
// of the zone, empty non-terminals and delegations included (no opt-out),
// none below a delegation.
type nsec3Chain struct {
	hashes []string // lower-case base32hex, ascending
	names  []string
}

func (c *nsec3Chain) Len() int           { return len(c.hashes) }
func (c *nsec3Chain) Less(i, j int) bool { return c.hashes[i] < c.hashes[j] }
func (c *nsec3Chain) Swap(i, j int) {
	c.hashes[i], c.hashes[j] = c.hashes[j], c.hashes[i]
	c.names[i], c.names[j] = c.names[j], c.names[i]
}

func nsec3Hash(name string) string {
	return strings.ToLower(dns.HashName(name, dns.SHA1, 0, ""))
}

// nsec3Chain is made on first use and kept with the zone.
func (z *zoneData) nsec3Chain() *nsec3Chain {
	if c := z.chain3.Load(); c != nil {
		return c
	}
	z.chainMu.Lock()
	defer z.chainMu.Unlock()
	if c := z.chain3.Load(); c != nil {
		return c
	}
	c := &nsec3Chain{}
	for name := range z.nodes.all() {
		if name == z.origin || z.cutAbove(name, false) == nil {
			c.names = append(c.names, name)
			c.hashes = append(c.hashes, nsec3Hash(name))
		}
	}
	sort.Sort(c)
	z.chain3.Store(c)
	return c
}

// find gives the index of the hash of name, or of the hash before it,
// whose NSEC3 covers it (the last one when it sorts first: the chain
// wraps).
func (c *nsec3Chain) find(name string) (int, bool) {
	h := nsec3Hash(name)
	i, found := slices.BinarySearch(c.hashes, h)
	if found {
		return i, true
	}
	if i == 0 {
		return len(c.hashes) - 1, false
	}
	return i - 1, false
}

// nsec3At is the NSEC3 record of the chain's i-th hash: the next hash and
// the types of its name (RRSIG with them when it holds any; an empty
// non-terminal holds none).
func (z *zoneData) nsec3At(c *nsec3Chain, i int) *dns.NSEC3 {
	n := z.nodes.at(c.names[i])
	var types []uint16
	for _, set := range n.sets {
		if !n.cut || set.rtype == dns.TypeNS || set.rtype == dns.TypeDS {
			types = append(types, set.rtype)
		}
	}
	if len(types) > 0 && !(n.cut && len(types) == 1) {
		types = append(types, dns.TypeRRSIG)
	}
	slices.Sort(types)
	return &dns.NSEC3{
		Hdr:        dns.RR_Header{Name: c.hashes[i] + "." + z.origin, Rrtype: dns.TypeNSEC3, Class: dns.ClassINET, Ttl: z.negSOA.Hdr.Ttl},
		Hash:       dns.SHA1,
		HashLength: 20,
		NextDomain: strings.ToUpper(c.hashes[(i+1)%len(c.hashes)]),
		TypeBitMap: types,
	}
}

// addNSEC3 puts the chain's i-th NSEC3 into authority, once.
func (l *lookup) addNSEC3(c *nsec3Chain, i int) {
	rr := l.zone.nsec3At(c, i)
	for _, x := range l.res.Ns {
		if x.Header().Rrtype == dns.TypeNSEC3 && x.Header().Name == rr.Hdr.Name {
			return
		}
	}
	l.res.Ns = append(l.res.Ns, rr)
}

// closestEncloser is the longest existing ancestor of name, and the next
// closer name: the one a label longer, toward name.
func (l *lookup) closestEncloser(name string) (ce, nextCloser string) {
	nextCloser = name
	ce = parentName(name)
	for ce != l.zone.origin && l.zone.nodes.at(ce) == nil {
		nextCloser, ce = ce, parentName(ce)
	}
	return ce, nextCloser
}

// prove3NoName is the closest encloser proof (RFC 5155 §7.2.1): the NSEC3
// matching the closest encloser, the one covering the next closer name,
// and the one covering the wildcard that would otherwise have answered.
func (l *lookup) prove3NoName(name string) {
	c := l.zone.nsec3Chain()
	ce, next := l.closestEncloser(name)
	for _, n := range []string{ce, next, "*." + ce} {
		i, _ := c.find(n)
		l.addNSEC3(c, i)
	}
}

// prove3NoType proves that n, found for name, holds no set of the type
// asked: its NSEC3 (§7.2.3, §7.2.4 for an empty non-terminal, whose hash
// is in the chain too); from a wildcard, the closest encloser proof and
// the wildcard's NSEC3 (§7.2.5).
func (l *lookup) prove3NoType(name string, n *node, wild bool) {
	c := l.zone.nsec3Chain()
	if wild {
		ce, next := l.closestEncloser(name)
		for _, x := range []string{ce, next} {
			i, _ := c.find(x)
			l.addNSEC3(c, i)
		}
	}
	i, _ := c.find(n.name)
	l.addNSEC3(c, i)
}

// prove3Synthesised proves that a wildcard answered for name (§7.2.6):
// the NSEC3 covering the next closer name.
func (l *lookup) prove3Synthesised(name string) {
	c := l.zone.nsec3Chain()
	_, next := l.closestEncloser(name)
	i, _ := c.find(next)
	l.addNSEC3(c, i)
}

// prove3NoDS proves a delegation insecure: the NSEC3 matching the cut,
// which lists NS and no DS (§7.2.7, without opt-out).
func (l *lookup) prove3NoDS(cut *node) {
	c := l.zone.nsec3Chain()
	if i, ok := c.find(cut.name); ok {
		l.addNSEC3(c, i)
	}
}

// NSEC3Records is the NSEC3 chain of the zone origin, for a transfer of
// the signed zone; nil unless it is signed with NSEC3.
func (s *Snapshot) NSEC3Records(origin string) []dns.RR {
	z := s.zones[origin]
	if z == nil || z.dnssec == nil || !z.dnssec.NSEC3 {
		return nil
	}
	c := z.nsec3Chain()
	out := make([]dns.RR, len(c.hashes))
	for i := range c.hashes {
		out[i] = z.nsec3At(c, i)
	}
	return out
}
