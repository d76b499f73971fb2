package zone

import (
	"strings"

	"github.com/miekg/dns"
)

// rrIndex finds, among the records of one RRset, one equal to a given
// record as dns.IsDuplicate sees it (RFC 2181 §5: a set holds no two equal
// records), in constant time. Records are bucketed by a key of their
// data, and dns.IsDuplicate has the last word within a bucket, so the
// index never calls equal what IsDuplicate would not, nor the reverse:
// the key folds case, which IsDuplicate does for names only.
type rrIndex map[string][]dns.RR

// find returns the record held that equals rr, or nil.
func (ix rrIndex) find(rr dns.RR) dns.RR {
	for _, x := range ix[rdataKey(rr)] {
		if dns.IsDuplicate(x, rr) {
			return x
		}
	}
	return nil
}

// add holds rr, which find does not know.
func (ix rrIndex) add(rr dns.RR) {
	k := rdataKey(rr)
	ix[k] = append(ix[k], rr)
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
