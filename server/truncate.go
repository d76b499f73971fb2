package server

import (
	"slices"
	"sort"

	"github.com/miekg/dns"
)

// truncate makes resp fit size octets the way Knot and NSD do (RFC 2181
// §9, RFC 9471). Additional data that does not fit is left out without TC:
// the answer stays complete and the client can look the rest up. If the
// answer or authority does not fit, TC is set and every section is
// emptied (the OPT stays), so that no partial RRset is ever handed out
// for caching; the client retries over TCP. A referral whose glue inside
// the delegated zone does not all fit keeps what fits and sets TC, as
// RFC 9471 §3 requires: a resolver may not reach the child without it.
// It returns resp packed: only packing tells whether resp fits (Msg.Len
// can overestimate), so the bytes of that first pack are the reply
// unless they are too large.
func truncate(resp *dns.Msg, size int) ([]byte, error) {
	resp.Compress = true
	if b, err := resp.Pack(); err == nil && len(b) <= size {
		return b, nil
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
	// The largest prefix of the additional section that fits (the length
	// grows with every record kept, so a binary search finds it), then,
	// as Knot does, any later record small enough for the space left.
	keep := sort.Search(len(extra)+1, func(n int) bool {
		resp.Extra = withOPT(extra[:n], opt)
		return packedLen(resp) > size
	}) - 1
	if keep < 0 {
		resp.Truncated = true
		resp.Answer, resp.Ns = nil, nil
		resp.Extra = withOPT(nil, opt)
		return resp.Pack()
	}
	kept, dropped := slices.Clone(extra[:keep]), []dns.RR(nil)
	resp.Extra = withOPT(kept, opt)
	used := packedLen(resp)
	for i, rr := range extra[keep:] {
		if size-used < minRRLen {
			// No room left for even an A record.
			dropped = append(dropped, extra[keep+i:]...)
			break
		}
		resp.Extra = withOPT(append(kept, rr), opt)
		if n := packedLen(resp); n <= size {
			kept, used = append(kept, rr), n
		} else {
			dropped = append(dropped, rr)
		}
	}
	resp.Truncated = referralGlueCut(resp, dropped)
	resp.Extra = withOPT(kept, opt)
	return resp.Pack()
}

// minRRLen is the smallest record the additional section carries: an A
// record with a compressed owner (2 + 10 + 4 octets).
const minRRLen = 16

func withOPT(rrs []dns.RR, opt *dns.OPT) []dns.RR {
	out := slices.Clone(rrs)
	if opt != nil {
		out = append(out, opt)
	}
	return out
}

// referralGlueCut reports whether resp is a referral and dropped holds an
// address at or below the delegated name: in-domain glue (RFC 9471 §2.1).
func referralGlueCut(resp *dns.Msg, dropped []dns.RR) bool {
	if resp.Authoritative || len(resp.Answer) != 0 || len(resp.Ns) == 0 {
		return false
	}
	cut := resp.Ns[0]
	if cut.Header().Rrtype != dns.TypeNS {
		return false
	}
	for _, rr := range dropped {
		if dns.IsSubDomain(cut.Header().Name, rr.Header().Name) {
			return true
		}
	}
	return false
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
