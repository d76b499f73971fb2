package mailcheck

import (
	"context"
	"errors"
	"net"
	"strings"
	"syscall"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/dnslookup"
)

// resolver asks questions as a receiver's resolver would, following
// CNAMEs.
type resolver struct {
	ctx context.Context
	ex  Exchange
}

func newResolver(ctx context.Context, ex Exchange) *resolver {
	return &resolver{ctx: ctx, ex: dnslookup.Cached(ex)}
}

// answer is one question's outcome after following CNAMEs, as the
// checks read it.
type answer struct{ *dnslookup.Answer }

func (r *resolver) lookup(name string, qtype uint16) *answer {
	return &answer{dnslookup.Follow(r.ctx, r.ex, name, qtype)}
}

// failed says why the question has no usable answer, or "" when it has
// one (records, NODATA or NXDOMAIN).
func (a *answer) failed() string {
	switch {
	case a.Err != nil:
		// Err names the question, which every finding names already.
		return "no answer (" + describeErr(errors.Unwrap(a.Err)) + ")"
	case a.Rcode != dns.RcodeSuccess && a.Rcode != dns.RcodeNameError:
		return "the resolver answered " + dns.RcodeToString[a.Rcode]
	}
	return ""
}

// void reports a void lookup (RFC 7208 §4.6.4): NXDOMAIN, or NOERROR
// with no record of the type asked.
func (a *answer) void() bool {
	return a.Err == nil && (a.Rcode == dns.RcodeNameError || a.Rcode == dns.RcodeSuccess && len(a.RRs) == 0)
}

// txt returns the texts of the TXT records at name, each record's
// strings joined, as SPF, DMARC and the rest read them.
func (r *resolver) txt(name string) ([]string, *answer) {
	a := r.lookup(name, dns.TypeTXT)
	var out []string
	for _, rr := range a.RRs {
		out = append(out, strings.Join(rr.(*dns.TXT).Txt, ""))
	}
	return out, a
}

// addrs returns the A and AAAA addresses of name.
func (r *resolver) addrs(name string) (v4, v6 []string, problem string) {
	a4 := r.lookup(name, dns.TypeA)
	a6 := r.lookup(name, dns.TypeAAAA)
	for _, rr := range a4.RRs {
		v4 = append(v4, rr.(*dns.A).A.String())
	}
	for _, rr := range a6.RRs {
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
