package zone

import (
	"strings"

	"github.com/miekg/dns"
)

// rrIndex finds, among the records of one RRset, one equal to a given
// record as dns.IsDuplicate sees it (RFC 2181 §5: a set holds no two equal
// records). A small set is scanned; past indexFrom records they are
// bucketed by a key of their data, so that a set of 20,000 is not
// quadratic, and dns.IsDuplicate has the last word within a bucket, so the
// index never calls equal what IsDuplicate would not, nor the reverse: the
// key folds case, which IsDuplicate does for names only. The key costs a
// record's text, more than scanning the few records most sets hold.
type rrIndex struct {
	small []dns.RR
	m     map[string][]dns.RR // once the set has more than indexFrom records
}

const indexFrom = 16

// find returns the record held that equals rr, or nil.
func (ix *rrIndex) find(rr dns.RR) dns.RR {
	if ix.m == nil {
		for _, x := range ix.small {
			if dns.IsDuplicate(x, rr) {
				return x
			}
		}
		return nil
	}
	for _, x := range ix.m[rdataKey(rr)] {
		if dns.IsDuplicate(x, rr) {
			return x
		}
	}
	return nil
}

// add holds rr, which find does not know.
func (ix *rrIndex) add(rr dns.RR) {
	if ix.m == nil {
		ix.small = append(ix.small, rr)
		if len(ix.small) <= indexFrom {
			return
		}
		ix.m = make(map[string][]dns.RR, 2*len(ix.small))
		for _, x := range ix.small {
			k := rdataKey(x)
			ix.m[k] = append(ix.m[k], x)
		}
		ix.small = nil
		return
	}
	k := rdataKey(rr)
	ix.m[k] = append(ix.m[k], rr)
}

// rdataKey is the data of rr, without the header that every record of a
// set shares: the address bytes for A and AAAA, the commonest large sets;
// the text form, case folded, for the rest.
func rdataKey(rr dns.RR) string {
	switch rr := rr.(type) {
	case *dns.A:
		return string(rr.A.To4())
	case *dns.AAAA:
		return string(rr.AAAA.To16())
	}
	s := rr.String()
	return strings.ToLower(strings.TrimPrefix(s, rr.Header().String()))
}
