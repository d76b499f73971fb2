package answer

import (
	"encoding/binary"
	"hash/maphash"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/zone"
)

// Response rate limiting with BIND's and NSD's semantics: replies are
// counted per client prefix (/24 for IPv4, /56 for IPv6) and per kind of
// answer, so a reflection attack aimed at one victim with one question is
// cut to the configured rate while everybody else is answered as usual.
// Only UDP is limited: over TCP the source address is proven.

type rrlAction uint8

const (
	rrlSend rrlAction = iota
	rrlDrop
	rrlSlip // send an empty truncated reply: a real client retries over TCP
)

// rrlKind is the answer kind part of a bucket key.
type rrlKind uint8

const (
	kindPositive rrlKind = iota // keyed by (qname or wildcard, qtype)
	kindNXDomain                // keyed by zone
	kindNoData                  // keyed by zone
	kindReferral                // keyed by the delegation
	kindError                   // keyed by nothing but the prefix
	kindTransfer                // a transfer to an allowed client: never limited
)

// rrlTableSize bounds the limiter's memory: a fixed table of buckets,
// whatever the number of clients. A colliding key takes a bucket over; a
// flood cannot grow the table, only churn it.
const (
	rrlTableSize = 1 << 16
	rrlShards    = 64
)

type rrlBucket struct {
	key     uint64
	last    int64 // unix nanoseconds of the last update
	balance int64 // responses of credit (negative: debt), in milli-responses
	drops   uint32
}

type rrlShard struct {
	mu      sync.Mutex
	buckets [rrlTableSize / rrlShards]rrlBucket
	_       [64]byte // keep shards' locks on separate cache lines
}

type limiter struct {
	seed   maphash.Seed
	shards [rrlShards]rrlShard
	now    func() time.Time // tests drive the clock
}

func newLimiter() *limiter {
	return &limiter{seed: maphash.MakeSeed(), now: time.Now}
}

// answerKind is how rate limiting classifies a reply. Its name is lower
// case: the question's, lowered before the lookup (lowerQuestion, or the
// cache key), or a zone, wildcard or delegation name of the model, which
// keeps every name that way.
type answerKind struct {
	kind  rrlKind
	name  string
	qtype uint16
}

// key hashes the client prefix and an answer kind; it allocates nothing,
// for the fast path.
func (l *limiter) key(client netip.Addr, k answerKind) uint64 {
	var h maphash.Hash
	h.SetSeed(l.seed)
	bits := 24
	if client.Is6() && !client.Is4In6() {
		bits = 56
	}
	p, _ := client.Unmap().Prefix(bits)
	if a := p.Addr(); a.Is4() {
		b := a.As4()
		h.Write(b[:])
	} else {
		b := a.As16()
		h.Write(b[:])
	}
	h.WriteByte(byte(k.kind))
	h.WriteString(k.name)
	h.WriteByte(byte(k.qtype >> 8))
	h.WriteByte(byte(k.qtype))
	return h.Sum64()
}

// classify names the kind of answer resp is, from what the lookup said
// it is (res, nil when nothing was looked up), as BIND and NSD count
// them: positive answers by the name that holds the data (the wildcard
// for synthesised ones, so random names under a wildcard share one
// bucket), NXDOMAIN and NODATA by zone, referrals by the delegation (a
// CNAME into one too: its message has an answer and AA, but what it
// amplifies is the delegation's glue), and errors all together. A CNAME
// ending in NODATA is a non-empty reply and counts as positive, as BIND's
// "responses-per-second" does.
func classify(resp *dns.Msg, res *zone.Result) answerKind {
	if res == nil {
		return answerKind{kind: kindError} // FORMERR, NOTIMP, BADVERS, a class refused
	}
	switch res.Kind {
	case zone.KindNXDomain:
		return answerKind{kindNXDomain, res.Zone, 0}
	case zone.KindReferral:
		return answerKind{kindReferral, res.Cut, 0}
	case zone.KindNoData:
		if len(res.Answer) == 0 {
			return answerKind{kindNoData, res.Zone, 0}
		}
		fallthrough
	case zone.KindAnswer:
		q := resp.Question[0]
		if res.Wildcard != "" {
			return answerKind{kindPositive, res.Wildcard, q.Qtype}
		}
		return answerKind{kindPositive, q.Name, q.Qtype}
	}
	return answerKind{kind: kindError}
}

// decide debits the bucket of key and says what to do with the reply.
// The balance earns rate responses a second up to rate; every reply,
// sent or not, costs one; debt is capped at window*rate, so a flood stays
// limited until it has kept under the rate for a while (BIND's window).
func (l *limiter) decide(key uint64, cfg zone.RRL) rrlAction {
	const milli = 1000
	rate := int64(cfg.ResponsesPerSecond) * milli
	floor := -rate * int64(cfg.Window/time.Second)
	now := l.now().UnixNano()

	sh := &l.shards[key%rrlShards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	b := &sh.buckets[(key/rrlShards)%uint64(len(sh.buckets))]
	if b.key != key || b.last == 0 {
		*b = rrlBucket{key: key, last: now, balance: rate}
	} else if elapsed := now - b.last; elapsed > 0 {
		// Earned credit, in milli-responses: rate per second of elapsed time.
		earned := int64(float64(rate) * float64(elapsed) / float64(time.Second))
		b.balance = min(rate, b.balance+earned)
		b.last = now
	}
	b.balance = max(floor, b.balance-milli)
	if b.balance >= 0 {
		b.drops = 0
		return rrlSend
	}
	b.drops++
	if cfg.Slip > 0 && b.drops%uint32(cfg.Slip) == 0 {
		return rrlSlip
	}
	return rrlDrop
}

// exempt reports whether client is in one of the exempt prefixes.
func exempt(client netip.Addr, list []netip.Prefix) bool {
	client = client.Unmap()
	for _, p := range list {
		if p.Contains(client) {
			return true
		}
	}
	return false
}

// AddrOf is the IP address of a client, unmapped from IPv4-in-IPv6.
func AddrOf(a net.Addr) (netip.Addr, bool) {
	var ip net.IP
	switch a := a.(type) {
	case *net.UDPAddr:
		ip = a.IP
	case *net.TCPAddr:
		ip = a.IP
	default:
		if ap, err := netip.ParseAddrPort(a.String()); err == nil {
			return ap.Addr().Unmap(), true
		}
		return netip.Addr{}, false
	}
	addr, ok := netip.AddrFromSlice(ip)
	return addr.Unmap(), ok
}

// limit applies RRL to reply, an answer of kind k to from over UDP, and
// counts what it did: it returns reply, or reply cut to a slip in place,
// or nil to send nothing. It takes the peer, not its address, so that
// with RRL off (the usual case) no address is decoded at all.
func (a *Answerer) limit(cfg *zone.RRL, from Peer, k answerKind, reply []byte) []byte {
	if !cfg.Enabled() {
		return reply
	}
	client := from.Addr()
	if !client.IsValid() || exempt(client, cfg.Exempt) {
		return reply
	}
	switch a.rrl.decide(a.rrl.key(client, k), *cfg) {
	case rrlDrop:
		a.counters.RRLDropped.Add(1)
		return nil
	case rrlSlip:
		if reply = slip(reply); reply == nil {
			a.counters.RRLDropped.Add(1)
			return nil
		}
		a.counters.RRLSlipped.Add(1)
	}
	return reply
}

// slip cuts reply, in place, to the rate limiter's "slip": its header
// with TC set, its question and its OPT, so that a real client retries
// over TCP while a spoofed victim gets nothing worth amplifying. A signed
// reply gives nil, to be dropped instead: cutting it would void its MAC,
// and a client that signed its query discards a reply that does not
// verify. So does a reply that does not parse, which we never make.
func slip(reply []byte) []byte {
	if len(reply) < headerLen {
		return nil
	}
	off := headerLen
	for range binary.BigEndian.Uint16(reply[4:]) {
		if off = skipName(reply, off); off < 0 || off+4 > len(reply) {
			return nil
		}
		off += 4
	}
	end := off // of the question
	var opt []byte
	records := int(binary.BigEndian.Uint16(reply[6:])) + int(binary.BigEndian.Uint16(reply[8:])) + int(binary.BigEndian.Uint16(reply[10:]))
	for range records {
		start := off
		if off = skipName(reply, off); off < 0 || off+10 > len(reply) {
			return nil
		}
		rrtype := binary.BigEndian.Uint16(reply[off:])
		if off += 10 + int(binary.BigEndian.Uint16(reply[off+8:])); off > len(reply) {
			return nil
		}
		switch rrtype {
		case dns.TypeOPT:
			opt = reply[start:off]
		case dns.TypeTSIG:
			return nil
		}
	}
	const flagTC = 0x02
	reply[2] |= flagTC
	binary.BigEndian.PutUint16(reply[6:], 0)
	binary.BigEndian.PutUint16(reply[8:], 0)
	binary.BigEndian.PutUint16(reply[10:], 0)
	if opt != nil {
		binary.BigEndian.PutUint16(reply[10:], 1)
	}
	return reply[:end+copy(reply[end:], opt)]
}

// skipName is the offset just past the name at off in msg, or -1 when
// the name runs past the end.
func skipName(msg []byte, off int) int {
	for off < len(msg) {
		switch l := int(msg[off]); {
		case l == 0:
			return off + 1
		case l&0xC0 == 0xC0:
			if off+2 > len(msg) {
				return -1
			}
			return off + 2
		default:
			off += 1 + l
		}
	}
	return -1
}
