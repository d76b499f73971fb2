package answer

import (
	"bytes"

	"github.com/miekg/dns"
)

// The fast path answers a query datagram from the state's answer cache
// without unpacking it: parse the header and question, find the packed
// reply, copy it, patch id, RD/CD and the question's letter case. Every
// cached reply was made by the general path (reply and fit, packed for
// the lower-cased question), so both paths give the same bytes; a
// query of any unusual shape, or a reply too large for the client, takes
// the general path.

// fastAnswer appends the reply to query to out[:0] when the cache holds
// it in rotation rotate, and returns the entry it came from (nil on a
// miss, and always without a cache). q is scratch space that, on a miss,
// tells fillAfterMiss what the general path answered.
func (st *State) fastAnswer(query []byte, link int, rotate uint32, udp bool, q *wireQuery, out []byte) ([]byte, *cacheEntry) {
	if st.cache == nil || !parseWireQuery(query, link, q) {
		return nil, nil
	}
	reply, e := st.cache.get(q.key[:q.keyLen], rotate)
	if e == nil {
		return nil, nil
	}
	if udp && len(reply) > q.udpSize {
		return nil, nil // the general path truncates
	}
	out = append(out[:0], reply...)
	patchReply(out, query, q)
	return out, e
}

// fillAfterMiss offers the cache the reply the general path has just
// given a plain query (one parseWireQuery accepted): the bytes already
// packed, in the one rotation served, so a miss costs one lookup and one
// pack. The cache keeps them on the question's second miss. Without a
// cache fastAnswer did not parse the query, so q may still hold an
// earlier one: nothing is filled.
func (st *State) fillAfterMiss(q *wireQuery, a answered) {
	if st.cache == nil || q.keyLen == 0 || a.packed == nil || a.rotations == 0 {
		return // no cache, not a plain query, trimmed, or too many rotations to keep
	}
	st.cache.fill(q.key[:q.keyLen], canonicalReply{a.packed, q.nameEnd}, a.rotations, a.rotate, a.kind)
}

// canonicalReply is a reply as the general path wrote it, for the cache
// to copy in the form it keeps: id 0, RD and CD clear, the question name
// lower-cased (its wire form is the key's start). patchReply writes all
// of these from each query, so the form only keeps stored bytes alike.
type canonicalReply struct {
	packed  []byte
	nameEnd int // offset just past the question name
}

func (r canonicalReply) copyFor(key []byte) []byte {
	b := bytes.Clone(r.packed)
	b[0], b[1] = 0, 0
	b[2] &^= flagRD
	b[3] &^= flagCD
	if r.nameEnd <= len(b) {
		copy(b[headerLen:r.nameEnd], key)
	}
	return b
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
