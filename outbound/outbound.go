// Package outbound reports what a receiver sees of mail sent over each
// link: the sending address's PTR, the HELO name and its addresses
// (forward-confirmed reverse DNS), and whether SPF and DMARC pass for a
// domain. It asks any DNS exchange function (route.Exchange) and knows
// nothing of mxdns: the links' identities are given to it.
package outbound

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/route"
	"github.com/mxdns/mxdns/spf"
)

// Identity is what a link sends mail as.
type Identity struct {
	Link  string
	HELO  string // absolute
	Addrs []netip.Addr
}

// Report is the outbound side of every link, for one domain or none.
type Report struct {
	Domain   string   `json:"domain,omitempty"`
	Links    []Link   `json:"links"`
	DMARC    *DMARC   `json:"dmarc,omitempty"` // of Domain
	Warnings []string `json:"warnings"`
}

// Link is one link's identity as the DNS shows it.
type Link struct {
	Name          string    `json:"link"`
	HELO          string    `json:"helo"`
	HELOAddresses []string  `json:"helo_addresses"`
	HELOUnknown   bool      `json:"helo_unknown,omitempty"` // the server would not say
	Addresses     []Address `json:"addresses"`
}

// Address is one sending address.
type Address struct {
	IP         string   `json:"ip"`
	PTR        []string `json:"ptr"`
	PTRUnknown bool     `json:"ptr_unknown,omitempty"` // the server does not answer for the reverse zone
	// PTRIsHELO: the PTR names the HELO name.
	PTRIsHELO bool `json:"ptr_is_helo"`
	// FCrDNS: the HELO name has this address back.
	FCrDNS bool `json:"fcrdns"`
	// SPF is the result for Domain (pass, fail, softfail, neutral, none,
	// permerror, or unknown where the server does not hold the data),
	// SPFWhy what decided it.
	SPF    string `json:"spf,omitempty"`
	SPFWhy string `json:"spf_why,omitempty"`
	// DMARC is "pass" when SPF passes for Domain, which is then aligned
	// (the envelope sender and From both Domain); "fail" when only DKIM
	// could make it pass; "none" without a DMARC record.
	DMARC string `json:"dmarc,omitempty"`
}

// DMARC is a domain's DMARC record.
type DMARC struct {
	Record string `json:"record,omitempty"`
	Policy string `json:"policy,omitempty"` // p=
}

// Resolve asks ex about every identity and, when domain is not "", about
// domain's SPF and DMARC for each sending address.
func Resolve(ctx context.Context, ex route.Exchange, ids []Identity, domain string) (*Report, error) {
	q := &asker{ctx: ctx, ex: ex}
	rep := &Report{Links: []Link{}, Warnings: []string{}}
	if domain != "" {
		rep.Domain = dns.CanonicalName(domain)
		if _, ok := dns.IsDomainName(rep.Domain); !ok {
			return nil, fmt.Errorf("%q is not a domain name", domain)
		}
		d, err := q.dmarc(rep.Domain)
		if err != nil {
			return nil, err
		}
		rep.DMARC = d
	}
	for _, id := range ids {
		l := Link{Name: id.Link, HELO: id.HELO, HELOAddresses: []string{}, Addresses: []Address{}}
		helo, known, err := q.addrs(id.HELO)
		if err != nil {
			return nil, err
		}
		l.HELOUnknown = !known
		for _, a := range helo {
			l.HELOAddresses = append(l.HELOAddresses, a.String())
		}
		for _, ip := range id.Addrs {
			a, err := q.address(rep, id, ip, helo, known)
			if err != nil {
				return nil, err
			}
			l.Addresses = append(l.Addresses, a)
		}
		rep.Links = append(rep.Links, l)
	}
	if q.err != nil {
		return nil, q.err
	}
	return rep, nil
}

func (q *asker) address(rep *Report, id Identity, ip netip.Addr, helo []netip.Addr, heloKnown bool) (Address, error) {
	a := Address{IP: ip.String(), PTR: []string{}}
	rev, _ := dns.ReverseAddr(ip.String())
	r, err := q.ask(rev, dns.TypePTR)
	if err != nil {
		return a, err
	}
	for _, rr := range r.Answer {
		if p, ok := rr.(*dns.PTR); ok && dns.CanonicalName(p.Hdr.Name) == rev {
			a.PTR = append(a.PTR, dns.CanonicalName(p.Ptr))
		}
	}
	slices.Sort(a.PTR)
	a.PTRUnknown = r.Rcode == dns.RcodeRefused || r.Rcode == dns.RcodeServerFailure
	a.PTRIsHELO = len(a.PTR) > 0 && !slices.ContainsFunc(a.PTR, func(p string) bool { return p != id.HELO })
	a.FCrDNS = slices.Contains(helo, ip)
	where := fmt.Sprintf("%s %s", id.Link, ip)
	switch {
	case a.PTRUnknown:
		rep.warn("%s: this server does not answer for its reverse zone: ask one that does, or a resolver", where)
	case len(a.PTR) == 0:
		rep.warn("%s has no PTR: many receivers refuse mail from an address without reverse DNS; publish PTR %s → %s", where, ip, bare(id.HELO))
	case !a.PTRIsHELO:
		rep.warn("%s: PTR %s is not the HELO name %s: receivers that compare the two treat the mail as suspect", where, strings.Join(trim(a.PTR), ", "), bare(id.HELO))
	}
	if heloKnown && !a.FCrDNS {
		rep.warn("%s: HELO name %s does not have this address: forward-confirmed reverse DNS fails", where, bare(id.HELO))
	}
	if rep.Domain == "" {
		return a, nil
	}
	res, why := spf.Check(q, rep.Domain, ip)
	a.SPF, a.SPFWhy = string(res), why
	switch {
	case rep.DMARC == nil:
		a.DMARC = "none"
	case res == spf.Pass:
		a.DMARC = "pass"
	default:
		a.DMARC = "fail"
	}
	if res != spf.Pass && res != spf.Unknown {
		rep.warn("%s: SPF of %s gives %s (%s): mail sent over %s fails SPF", where, bare(rep.Domain), res, why, id.Link)
	}
	return a, nil
}

func (r *Report) warn(format string, args ...any) {
	r.Warnings = append(r.Warnings, fmt.Sprintf(format, args...))
}

// asker asks questions through an Exchange, following CNAMEs, and
// answers an SPF evaluation's (spf.Resolver). The first failure to get
// an answer at all is kept in err: the report then fails.
type asker struct {
	ctx context.Context
	ex  route.Exchange
	err error
}

func (q *asker) ask(name string, qtype uint16) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.RecursionDesired = true // harmless to an authoritative server, needed by a resolver
	m.SetEdns0(1232, false)
	r, err := q.ex(q.ctx, m)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", bare(name), dns.TypeToString[qtype], err)
	}
	return r, nil
}

// lookup returns the records of qtype at name after CNAMEs, and whether
// the server holds them (REFUSED and SERVFAIL say it does not).
func (q *asker) lookup(name string, qtype uint16) ([]dns.RR, bool) {
	name = dns.CanonicalName(name)
	for range 8 {
		r, err := q.ask(name, qtype)
		if err != nil {
			if q.err == nil {
				q.err = err
			}
			return nil, false
		}
		if r.Rcode != dns.RcodeSuccess && r.Rcode != dns.RcodeNameError {
			return nil, false
		}
		var out []dns.RR
		next := name
		for _, rr := range r.Answer {
			owner := dns.CanonicalName(rr.Header().Name)
			if c, ok := rr.(*dns.CNAME); ok && owner == next {
				next = dns.CanonicalName(c.Target)
			}
		}
		for _, rr := range r.Answer {
			if rr.Header().Rrtype == qtype && dns.CanonicalName(rr.Header().Name) == next {
				out = append(out, rr)
			}
		}
		if next == name || len(out) > 0 || r.Rcode != dns.RcodeSuccess {
			return out, true
		}
		name = next // the server stopped at a CNAME: ask for its target
	}
	return nil, true
}

func (q *asker) addrs(name string) ([]netip.Addr, bool, error) {
	var out []netip.Addr
	known := true
	for _, t := range []uint16{dns.TypeA, dns.TypeAAAA} {
		rrs, ok := q.lookup(name, t)
		known = known && ok
		for _, rr := range rrs {
			switch rr := rr.(type) {
			case *dns.A:
				a, _ := netip.AddrFromSlice(rr.A.To4())
				out = append(out, a)
			case *dns.AAAA:
				a, _ := netip.AddrFromSlice(rr.AAAA)
				out = append(out, a.Unmap())
			}
		}
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return out, known, q.err
}

func (q *asker) dmarc(domain string) (*DMARC, error) {
	rrs, _ := q.lookup("_dmarc."+domain, dns.TypeTXT)
	if q.err != nil {
		return nil, q.err
	}
	for _, rr := range rrs {
		text := strings.Join(rr.(*dns.TXT).Txt, "")
		if !strings.HasPrefix(strings.ToUpper(strings.TrimSpace(text)), "V=DMARC1") {
			continue
		}
		d := &DMARC{Record: text}
		for _, part := range strings.Split(text, ";") {
			if k, v, ok := strings.Cut(strings.TrimSpace(part), "="); ok && strings.EqualFold(strings.TrimSpace(k), "p") {
				d.Policy = strings.TrimSpace(v)
			}
		}
		return d, nil
	}
	return nil, nil
}

// TXT, Addrs and MX answer an SPF evaluation (spf.Resolver).
func (q *asker) TXT(name string) ([]string, bool) {
	rrs, known := q.lookup(name, dns.TypeTXT)
	var out []string
	for _, rr := range rrs {
		out = append(out, strings.Join(rr.(*dns.TXT).Txt, ""))
	}
	return out, known
}

func (q *asker) Addrs(name string, ipv6 bool) ([]netip.Addr, bool) {
	t := dns.TypeA
	if ipv6 {
		t = dns.TypeAAAA
	}
	rrs, known := q.lookup(name, t)
	var out []netip.Addr
	for _, rr := range rrs {
		switch rr := rr.(type) {
		case *dns.A:
			a, _ := netip.AddrFromSlice(rr.A.To4())
			out = append(out, a)
		case *dns.AAAA:
			a, _ := netip.AddrFromSlice(rr.AAAA)
			out = append(out, a)
		}
	}
	return out, known
}

func (q *asker) MX(name string) ([]string, bool) {
	rrs, known := q.lookup(name, dns.TypeMX)
	var out []string
	for _, rr := range rrs {
		if mx := rr.(*dns.MX).Mx; mx != "." {
			out = append(out, mx)
		}
	}
	return out, known
}

// ErrNoIdentity says no link has an outbound identity to report on.
var ErrNoIdentity = errors.New("no link has outbound addresses (links.NAME.outbound)")

func bare(name string) string { return strings.TrimSuffix(name, ".") }

func trim(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = bare(n)
	}
	return out
}
