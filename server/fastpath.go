package server

import (
	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/zone"
)

// The fast path answers a query datagram from the state's answer cache
// without unpacking it: parse the header and question, find the packed
// reply, copy it, patch id, RD/CD and the question's letter case. Every
// cached reply was made by the general path (reply, then packCanonical)
// for the lower-cased question, so both paths give the same bytes; a
// query of any unusual shape, or a reply too large for the client, takes
// the general path.

// fastAnswer appends the reply to query to out[:0] when the cache holds
// it. q is scratch space that, on a miss, tells fillCache what to add.
func (st *state) fastAnswer(query []byte, link int, rotate uint32, udp bool, q *wireQuery, out []byte) ([]byte, bool) {
	if !parseWireQuery(query, link, q) {
		return nil, false
	}
	e := st.cache.get(q.key[:q.keyLen])
	if e == nil {
		return nil, false
	}
	reply := e.variants[rotate%uint32(len(e.variants))]
	if udp && len(reply) > q.udpSize {
		return nil, false // the general path truncates
	}
	out = append(out[:0], reply...)
	patchReply(out, query, q)
	return out, true
}

// answer is the reply to a raw query: from the cache when it holds it,
// else from the general path, which then fills the cache for the next
// time. ok is false when the query is not a plain one (q.keyLen == 0 and
// nothing cached): the caller then decides (the general path or a
// handler).
func (st *state) answer(query []byte, link int, rotate uint32, udp bool, q *wireQuery, out []byte) []byte {
	if reply, ok := st.fastAnswer(query, link, rotate, udp, q, out); ok {
		return reply
	}
	reply := st.generalAnswer(query, link, rotate, udp)
	if q.keyLen > 0 && st.cache.get(q.key[:q.keyLen]) == nil {
		st.fillCache(q, link)
	}
	return reply
}

// fillCache makes and stores every rotation of the reply to the query
// parsed into q, as the general path would give it to a lower-cased
// question with RD and CD clear. It is called after a miss, off the
// critical part of the general path.
func (st *state) fillCache(q *wireQuery, link int) {
	key := append([]byte(nil), q.key[:q.keyLen]...)
	name, _, err := dns.UnpackDomainName(key, 0)
	if err != nil {
		return
	}
	req := new(dns.Msg)
	req.Question = []dns.Question{{Name: name, Qtype: q.qtype, Qclass: dns.ClassINET}}
	if q.edns != ednsNone {
		req.Extra = []dns.RR{newOPT(q.edns == ednsDO)}
	}
	first, rotations := st.replyBytes(req, link, 0)
	if first == nil || rotations == 0 {
		return // too many rotations to enumerate: always the general path
	}
	e := &cacheEntry{key: key, variants: [][]byte{first}}
	for r := uint32(1); r < rotations; r++ {
		b, _ := st.replyBytes(req, link, r)
		if b == nil {
			return
		}
		e.variants = append(e.variants, b)
	}
	st.cache.put(e)
}

// replyBytes is the general path for a canonical request: the full reply
// (as over TCP) packed, with the rotation count the lookup reported.
func (st *state) replyBytes(req *dns.Msg, link int, rotate uint32) ([]byte, uint32) {
	rotations := uint32(1)
	resp := reply(req, func(q dns.Question) zone.Result {
		res := st.snap.Lookup(q, zone.Client{Link: link, Up: st.up, Rotate: rotate})
		rotations = res.Rotations
		return res
	})
	fit(resp, req, false)
	b, err := resp.Pack()
	if err != nil {
		return nil, 0
	}
	return b, rotations
}

// generalAnswer is the general path for a raw query: unpack, answer the
// lower-cased question, fit the transport, pack, and give the question
// back its letter case. nil means no reply (a response, or no header).
func (st *state) generalAnswer(query []byte, link int, rotate uint32, udp bool) []byte {
	req := new(dns.Msg)
	if err := req.Unpack(query); err != nil {
		return formErr(query)
	}
	if req.Response {
		return nil
	}
	asked := ""
	if len(req.Question) == 1 {
		asked = req.Question[0].Name
		req.Question[0].Name = lowerASCII(asked)
	}
	resp := reply(req, func(q dns.Question) zone.Result {
		return st.snap.Lookup(q, zone.Client{Link: link, Up: st.up, Rotate: rotate})
	})
	fit(resp, req, udp)
	b, err := resp.Pack()
	if err != nil {
		return nil
	}
	restoreQuestionCase(b, asked)
	return b
}

// formErr answers a query whose header can be read but whose body cannot.
func formErr(query []byte) []byte {
	if len(query) < headerLen || query[2]&flagQR != 0 {
		return nil
	}
	b := make([]byte, headerLen)
	copy(b, query[:4])
	b[2] = b[2]&(opcodeBit|flagRD) | flagQR
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

func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
