package answer

import (
	"sort"

	"github.com/miekg/dns"
)

// truncate makes resp fit size octets the way RFC 2181 §9 and RFC 9471
// ask, and as Knot and NSD do: only whole RRsets are ever sent, because a
// resolver caches what it receives as the complete set.
//
//   - If the answer and authority sections do not fit, TC is set and every
//     section is emptied (the OPT stays); the client retries over TCP.
//   - Otherwise the additional section keeps the longest run of whole
//     RRsets that fits, in order of importance: for a referral (cut is the
//     delegated name, "" for any other answer) the glue inside the
//     delegated zone first, then the rest in the order the lookup gave
//     them (glue, then MX, SRV and NS target addresses in answer order).
//     A host whose RRset does not fit is passed over (its AAAA is not
//     tried after its A) and the next host's may take the space, as in
//     Knot.
//   - Additional data left out sets no TC (RFC 2181 §9): the answer stays
//     complete and the client can look the rest up. The one exception is
//     in-domain glue of a referral (RFC 9471 §3): a resolver cannot reach
//     the child without it, so TC tells it to ask again over TCP. Sibling
//     glue left out sets no TC (RFC 9471 §3.2).
//
// It returns resp packed: only packing tells whether resp fits (Msg.Len
// can overestimate), so the bytes of that first pack are the reply
// unless they are too large. whole says they are: nothing was left out,
// so the answer cache may keep them.
func truncate(resp *dns.Msg, size int, cut string) (b []byte, whole bool, err error) {
	resp.Compress = true
	if b, err := resp.Pack(); err == nil && len(b) <= size {
		return b, true, nil
	}
	var opt *dns.OPT
	extra := make([]dns.RR, 0, len(resp.Extra))
	for _, rr := range resp.Extra {
		if o, ok := rr.(*dns.OPT); ok {
			opt = o
			continue
		}
		extra = append(extra, rr)
	}
	sets := rrsets(extra)
	if cut != "" {
		sort.SliceStable(sets, func(i, j int) bool { return inDomain(cut, sets[i]) && !inDomain(cut, sets[j]) })
	}
	// The longest prefix of whole RRsets that fits (the length grows with
	// every set kept, so a binary search finds it), then, as Knot does,
	// each later host's sets that still fit: a host whose set does not
	// fit is passed over, its AAAA not tried after its A.
	keep := sort.Search(len(sets)+1, func(n int) bool {
		resp.Extra = joinSets(sets[:n], opt)
		return packedLen(resp) > size
	}) - 1
	if keep < 0 {
		resp.Truncated = true
		resp.Answer, resp.Ns = nil, nil
		resp.Extra = joinSets(nil, opt)
		b, err = resp.Pack()
		return b, false, err
	}
	kept, dropped := sets[:keep:keep], [][]dns.RR(nil)
	resp.Extra = joinSets(kept, opt)
	used, failed := packedLen(resp), ""
	for _, set := range sets[keep:] {
		owner := set[0].Header().Name
		if size-used < minRRLen || equalName(owner, failed) {
			// No room left for even an A record, or the host's
			// earlier set did not fit.
			dropped = append(dropped, set)
			continue
		}
		resp.Extra = joinSets(append(kept, set), opt)
		if n := packedLen(resp); n <= size {
			kept, used = append(kept, set), n
		} else {
			dropped, failed = append(dropped, set), owner
		}
	}
	resp.Truncated = false
	for _, set := range dropped {
		if cut != "" && inDomain(cut, set) {
			resp.Truncated = true
		}
	}
	resp.Extra = joinSets(kept, opt)
	b, err = resp.Pack()
	return b, false, err
}

// rrsets groups rrs into RRsets (owner, type and class), each where its
// first record stands; the lookup writes a set's records together, but a
// set spread out is gathered rather than split. An RRSIG goes with the
// set it covers, so that a set and its signatures are kept or left out
// together.
func rrsets(rrs []dns.RR) [][]dns.RR {
	var sets [][]dns.RR
	for _, rr := range rrs {
		h := rr.Header()
		rtype := h.Rrtype
		if sig, ok := rr.(*dns.RRSIG); ok {
			rtype = sig.TypeCovered
		}
		found := false
		for i := len(sets) - 1; i >= 0; i-- {
			if s := sets[i][0].Header(); s.Rrtype == rtype && s.Class == h.Class && equalName(s.Name, h.Name) {
				sets[i], found = append(sets[i], rr), true
				break
			}
		}
		if !found {
			sets = append(sets, []dns.RR{rr})
		}
	}
	return sets
}

// minRRLen is the smallest record the additional section carries: an A
// record with a compressed owner (2 + 10 + 4 octets).
const minRRLen = 16

func equalName(a, b string) bool {
	return len(a) == len(b) && dns.CanonicalName(a) == dns.CanonicalName(b)
}

// inDomain reports whether set is owned at or below cut: in-domain glue
// of a referral to cut (RFC 9471 §2.1).
func inDomain(cut string, set []dns.RR) bool {
	return dns.IsSubDomain(cut, set[0].Header().Name)
}

func joinSets(sets [][]dns.RR, opt *dns.OPT) []dns.RR {
	var out []dns.RR
	for _, s := range sets {
		out = append(out, s...)
	}
	if opt != nil {
		out = append(out, opt)
	}
	return out
}

// packedLen is the exact length of m on the wire. Msg.Len is a cheap upper
// bound that can overestimate compressed names, enough to cost a record.
func packedLen(m *dns.Msg) int {
	b, err := m.Pack()
	if err != nil {
		return m.Len()
	}
	return len(b)
}
