package mailcheck

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"syscall"

	"github.com/miekg/dns"
)

// Cached returns ex with a cache of its answers and errors, for one run:
// every check of a run that asks a question gets the first answer, and the
// network is asked once. It is safe for concurrent use.
func Cached(ex Exchange) Exchange {
	type key struct {
		name  string
		qtype uint16
		do    bool
	}
	type entry struct {
		once sync.Once
		resp *dns.Msg
		err  error
	}
	var mu sync.Mutex
	cache := map[key]*entry{}
	return func(ctx context.Context, q *dns.Msg) (*dns.Msg, error) {
		if len(q.Question) != 1 {
			return ex(ctx, q)
		}
		qq := q.Question[0]
		k := key{strings.ToLower(dns.Fqdn(qq.Name)), qq.Qtype, q.IsEdns0() != nil && q.IsEdns0().Do()}
		mu.Lock()
		e := cache[k]
		if e == nil {
			e = &entry{}
			cache[k] = e
		}
		mu.Unlock()
		e.once.Do(func() { e.resp, e.err = ex(ctx, q) })
		if e.resp == nil {
			return nil, e.err
		}
		r := e.resp.Copy()
		r.Id = q.Id
		return r, e.err
	}
}

// resolver asks questions as a receiver's resolver would, following
// CNAMEs.
type resolver struct {
	ctx context.Context
	ex  Exchange
}

func newResolver(ctx context.Context, ex Exchange) *resolver {
	return &resolver{ctx: ctx, ex: Cached(ex)}
}

// answer is one question's outcome after following CNAMEs.
type answer struct {
	err   error    // no answer at all: a timeout, a refused connection
	rcode int      // the final response's
	final string   // the name the records belong to
	rrs   []dns.RR // the records of the type asked, at final
	msg   *dns.Msg // the final response
}

// failed says why the question has no usable answer, or "" when it has
// one (records, NODATA or NXDOMAIN).
func (a *answer) failed() string {
	switch {
	case a.err != nil:
		return "no answer (" + describeErr(a.err) + ")"
	case a.rcode != dns.RcodeSuccess && a.rcode != dns.RcodeNameError:
		return "the resolver answered " + dns.RcodeToString[a.rcode]
	}
	return ""
}

// void reports a void lookup (RFC 7208 §4.6.4): NXDOMAIN, or NOERROR
// with no record of the type asked.
func (a *answer) void() bool {
	return a.err == nil && (a.rcode == dns.RcodeNameError || a.rcode == dns.RcodeSuccess && len(a.rrs) == 0)
}

const maxChain = 8 // CNAMEs followed before giving up on a loop

// lookup asks name/qtype, following CNAMEs in the answer and asking again
// when the server stopped at one.
func (r *resolver) lookup(name string, qtype uint16) *answer {
	a := &answer{final: dns.CanonicalName(name)}
	for range maxChain {
		q := new(dns.Msg)
		q.SetQuestion(a.final, qtype)
		q.RecursionDesired = true
		q.SetEdns0(1232, false)
		resp, err := r.ex(r.ctx, q)
		if err != nil {
			a.err = err
			return a
		}
		if resp == nil {
			a.err = errors.New("empty response")
			return a
		}
		a.msg, a.rcode = resp, resp.Rcode
		owner := a.final
		for hops := 0; hops <= maxChain; hops++ {
			next := ""
			for _, rr := range resp.Answer {
				if c, ok := rr.(*dns.CNAME); ok && dns.CanonicalName(c.Hdr.Name) == owner {
					next = dns.CanonicalName(c.Target)
					break
				}
			}
			if next == "" || qtype == dns.TypeCNAME {
				break
			}
			owner = next
		}
		a.rrs = nil
		for _, rr := range resp.Answer {
			if rr.Header().Rrtype == qtype && dns.CanonicalName(rr.Header().Name) == owner {
				a.rrs = append(a.rrs, rr)
			}
		}
		if owner == a.final || len(a.rrs) > 0 || resp.Rcode != dns.RcodeSuccess {
			a.final = owner
			return a
		}
		a.final = owner // stopped at a CNAME: ask for its target
	}
	a.err = errors.New("a CNAME chain longer than 8")
	return a
}

// txt returns the texts of the TXT records at name, each record's
// strings joined, as SPF, DMARC and the rest read them.
func (r *resolver) txt(name string) ([]string, *answer) {
	a := r.lookup(name, dns.TypeTXT)
	var out []string
	for _, rr := range a.rrs {
		out = append(out, strings.Join(rr.(*dns.TXT).Txt, ""))
	}
	return out, a
}

// addrs returns the A and AAAA addresses of name.
func (r *resolver) addrs(name string) (v4, v6 []string, problem string) {
	a4 := r.lookup(name, dns.TypeA)
	a6 := r.lookup(name, dns.TypeAAAA)
	for _, rr := range a4.rrs {
		v4 = append(v4, rr.(*dns.A).A.String())
	}
	for _, rr := range a6.rrs {
		v6 = append(v6, rr.(*dns.AAAA).AAAA.String())
	}
	if p := a4.failed(); p != "" && len(v6) == 0 {
		return v4, v6, p
	}
	if p := a6.failed(); p != "" && len(v4) == 0 {
		return v4, v6, p
	}
	return v4, v6, ""
}

// describeErr says what went wrong on the network in words that do not
// change from run to run (no port numbers).
func describeErr(err error) string {
	var ne net.Error
	var dnsErr *net.DNSError
	var noAddr *noAddressError
	switch {
	case errors.As(err, &noAddr):
		return noAddr.Error()
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timed out"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
		return "no route to the host"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.As(err, &dnsErr):
		return dnsErr.Err
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err.Error()
	}
	return err.Error()
}
