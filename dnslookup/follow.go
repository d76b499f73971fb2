package dnslookup

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/miekg/dns"
)

// MaxChain is how many CNAMEs Follow follows before it takes the chain
// for a loop.
const MaxChain = 8

// ErrLongChain is wrapped in an Answer's Err when the chain is longer
// than MaxChain.
var ErrLongChain = fmt.Errorf("CNAME chain longer than %d", MaxChain)

// Answer is one question's outcome after following CNAMEs.
type Answer struct {
	// Err says why there is no answer at all: the exchange's error (a
	// timeout, a refused connection) or ErrLongChain, each wrapped with
	// the question.
	Err   error
	Rcode int      // the last response's
	Final string   // the name the records belong to, after the chain
	Chain []string // the CNAME targets followed, in order
	RRs   []dns.RR // the records of the type asked, at Final
	Msg   *dns.Msg // the last response
}

// Follow asks name/qtype and follows CNAMEs: within the answer, and by
// asking again for the target when the server stopped at one (an
// authoritative server whose CNAME leads out of its zones). A question
// for CNAME itself is not followed.
func Follow(ctx context.Context, ex Exchange, name string, qtype uint16) *Answer {
	name = dns.CanonicalName(name)
	a := &Answer{Final: name}
	for {
		asked := a.Final
		resp, err := ex(ctx, Query(asked, qtype))
		if err == nil && resp == nil {
			err = errors.New("empty response")
		}
		if err != nil {
			a.Err = fmt.Errorf("%s %s: %w", bare(asked), dns.TypeToString[qtype], err)
			return a
		}
		a.Msg, a.Rcode = resp, resp.Rcode
		for qtype != dns.TypeCNAME {
			next := target(resp.Answer, a.Final)
			if next == "" {
				break
			}
			if len(a.Chain) == MaxChain {
				a.Err = fmt.Errorf("%s %s: %w", bare(name), dns.TypeToString[qtype], ErrLongChain)
				return a
			}
			a.Chain = append(a.Chain, next)
			a.Final = next
		}
		a.RRs = nil
		for _, rr := range resp.Answer {
			if rr.Header().Rrtype == qtype && dns.CanonicalName(rr.Header().Name) == a.Final {
				a.RRs = append(a.RRs, rr)
			}
		}
		if a.Final == asked || len(a.RRs) > 0 || resp.Rcode != dns.RcodeSuccess {
			return a
		}
		// The server stopped at a CNAME: the chain has grown, so this
		// ends by MaxChain.
	}
}

// target is where the CNAME at owner in rrs leads, "" when there is none.
func target(rrs []dns.RR, owner string) string {
	for _, rr := range rrs {
		if c, ok := rr.(*dns.CNAME); ok && dns.CanonicalName(c.Hdr.Name) == owner {
			return dns.CanonicalName(c.Target)
		}
	}
	return ""
}

func bare(name string) string { return strings.TrimSuffix(name, ".") }
