package server

import (
	"bytes"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/zone"
)

// The fast path answers a query datagram from the state's answer cache
// without unpacking it: parse the header and question, find the packed
// reply, copy it, patch id, RD/CD and the question's letter case. Every
// cached reply was made by the general path (reply and fit, packed for
// the lower-cased question), so both paths give the same bytes; a
// query of any unusual shape, or a reply too large for the client, takes
// the general path.

// fastAnswer appends the reply to query to out[:0] when the cache holds
// it, and returns the entry it came from (nil on a miss, and always
// without a cache). q is scratch space that, on a miss, tells fillCache
// what to add.
func (st *state) fastAnswer(query []byte, link int, rotate uint32, udp bool, q *wireQuery, out []byte) ([]byte, *cacheEntry) {
	if st.cache == nil || !parseWireQuery(query, link, q) {
		return nil, nil
	}
	e := st.cache.get(q.key[:q.keyLen])
	if e == nil {
		return nil, nil
	}
	reply := e.variants[rotate%uint32(len(e.variants))]
	if udp && len(reply) > q.udpSize {
		return nil, nil // the general path truncates
	}
	out = append(out[:0], reply...)
	patchReply(out, query, q)
	return out, e
}

// fillAfterMiss fills the cache for a plain query (one parseWireQuery
// accepted) that the general path has just answered, unless another
// reader filled it meanwhile. Without a cache fastAnswer did not parse
// the query, so q may still hold an earlier one: nothing is filled.
func (st *state) fillAfterMiss(q *wireQuery, link int) {
	if st.cache != nil && q.keyLen > 0 && st.cache.get(q.key[:q.keyLen]) == nil {
		st.fillCache(q, link)
	}
}

// fillCache makes and stores every rotation of the reply to the query
// parsed into q, as the general path would give it to a lower-cased
// question with RD and CD clear. It is called after a miss, off the
// critical part of the general path.
func (st *state) fillCache(q *wireQuery, link int) {
	key := bytes.Clone(q.key[:q.keyLen])
	name, _, err := dns.UnpackDomainName(key, 0)
	if err != nil {
		return
	}
	req := new(dns.Msg)
	req.Question = []dns.Question{{Name: name, Qtype: q.qtype, Qclass: dns.ClassINET}}
	if q.edns != ednsNone {
		req.Extra = []dns.RR{newOPT(q.edns == ednsDO)}
	}
	first, rotations, kind := st.replyBytes(req, link, 0)
	if first == nil || rotations == 0 {
		return // too many rotations to enumerate: always the general path
	}
	e := &cacheEntry{key: key, variants: [][]byte{first}, kind: kind}
	for r := uint32(1); r < rotations; r++ {
		b, _, _ := st.replyBytes(req, link, r)
		if b == nil {
			return
		}
		e.variants = append(e.variants, b)
	}
	st.cache.put(e)
}

// replyBytes is the general path for a canonical request: the full reply
// (as over TCP) packed, the rotation count the lookup reported, and the
// reply's kind for rate limiting.
func (st *state) replyBytes(req *dns.Msg, link int, rotate uint32) ([]byte, uint32, answerKind) {
	rotations := uint32(1)
	var res *zone.Result
	resp := reply(req, func(q dns.Question) zone.Result {
		r := st.snap.Lookup(q, zone.Client{Link: link, Up: st.up, Rotate: rotate})
		rotations, res = r.Rotations, &r
		return r
	})
	b, err := fit(resp, req, false, res)
	if err != nil {
		return nil, 0, answerKind{}
	}
	return b, rotations, classify(resp, res)
}

// formErr answers a query whose header can be read but whose body cannot.
func formErr(query []byte) []byte {
	if len(query) < headerLen || query[2]&flagQR != 0 {
		return nil
	}
	b := make([]byte, headerLen)
	copy(b, query[:4])
	keep := byte(opcodeBit)
	if query[2]&opcodeBit == 0 { // RD is defined for QUERY only (see header)
		keep |= flagRD
	}
	b[2] = b[2]&keep | flagQR
	b[3] = dns.RcodeFormatError
	return b
}

// restoreQuestionCase writes the question name back as the client wrote
// it into a reply packed from the lower-cased question.
func restoreQuestionCase(reply []byte, asked string) {
	if asked == "" || len(reply) <= headerLen {
		return
	}
	var buf [256]byte
	n, err := dns.PackDomainName(asked, buf[:], 0, nil, false)
	if err != nil || headerLen+n > len(reply) {
		return
	}
	copy(reply[headerLen:headerLen+n], buf[:n])
}
