// Package outbound reports what a receiver sees of mail sent over each
// link: the sending address's PTR, the HELO name and its addresses
// (forward-confirmed reverse DNS), and whether SPF and DMARC pass for a
// domain. It asks any DNS exchange function (dnslookup.Exchange) and
// knows nothing of mxdns: the links' identities are given to it.
package outbound

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/dnslookup"
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
	Domain string `json:"domain,omitempty"`
	Links  []Link `json:"links"`
	DMARC  *DMARC `json:"dmarc,omitempty"` // of Domain
	// DMARCUnknown: the server would not say (REFUSED, SERVFAIL) whether
	// Domain publishes DMARC.
	DMARCUnknown bool     `json:"dmarc_unknown,omitempty"`
	Warnings     []string `json:"warnings"`
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
	// could make it pass; "none" without a DMARC record; "unknown" where
	// the server would not say.
	DMARC string `json:"dmarc,omitempty"`
}

// DMARC is the DMARC record that applies to a domain: its own, or, when
// it publishes none, its organizational domain's (RFC 7489 §6.6.3), whose
// sp= then gives the policy if it has one.
type DMARC struct {
	Record string `json:"record,omitempty"`
	Policy string `json:"policy,omitempty"`
	// Org is the organizational domain whose record applies; "" when
	// the domain's own does.
	Org string `json:"org,omitempty"`
}

// Resolve asks ex about every identity and, when domain is not "", about
// domain's SPF and DMARC for each sending address.
func Resolve(ctx context.Context, ex dnslookup.Exchange, ids []Identity, domain string) (*Report, error) {
	// Every sending address's SPF evaluation asks the same questions.
	q := &asker{ctx: ctx, ex: dnslookup.Cached(ex)}
	rep := &Report{Links: []Link{}, Warnings: []string{}}
	if domain != "" {
		rep.Domain = dns.CanonicalName(domain)
		if _, ok := dns.IsDomainName(rep.Domain); !ok {
			return nil, fmt.Errorf("%q is not a domain name", domain)
		}
		d, known, err := q.dmarc(rep.Domain)
		if err != nil {
			return nil, err
		}
		rep.DMARC, rep.DMARCUnknown = d, !known
		if !known {
			rep.warn("DMARC of %s: this server does not answer for _dmarc.%s: ask one that does, or a resolver", bare(rep.Domain), bare(rep.Domain))
		}
	}
	for _, id := range ids {
		l := Link{Name: id.Link, HELO: id.HELO, HELOAddresses: []string{}, Addresses: []Address{}}
		var helo []netip.Addr
		known := true
		for _, ipv6 := range []bool{false, true} {
			addrs, ok := q.Addrs(id.HELO, ipv6)
			helo, known = append(helo, addrs...), known && ok
		}
		if q.err != nil {
			return nil, q.err
		}
		slices.SortFunc(helo, netip.Addr.Compare)
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
	// A PTR may stand behind a CNAME: RFC 2317 delegates reverse zones
	// smaller than a /24 so.
	ptrs, known := q.lookup(rev, dns.TypePTR)
	if q.err != nil {
		return a, q.err
	}
	for _, rr := range ptrs {
		a.PTR = append(a.PTR, dns.CanonicalName(rr.(*dns.PTR).Ptr))
	}
	slices.Sort(a.PTR)
	a.PTRUnknown = !known
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
	case rep.DMARCUnknown:
		a.DMARC = "unknown"
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
	ex  dnslookup.Exchange
	err error
}

// lookup returns the records of qtype at name after CNAMEs, and whether
// the server holds them (REFUSED and SERVFAIL say it does not).
func (q *asker) lookup(name string, qtype uint16) ([]dns.RR, bool) {
	a := dnslookup.Follow(q.ctx, q.ex, name, qtype)
	switch {
	case errors.Is(a.Err, dnslookup.ErrLongChain):
		return nil, false // a receiver's resolver answers SERVFAIL
	case a.Err != nil:
		if q.err == nil {
			q.err = a.Err
		}
		return nil, false
	case a.Rcode != dns.RcodeSuccess && a.Rcode != dns.RcodeNameError:
		return nil, false
	}
	return a.RRs, true
}

// dmarc returns the DMARC record that applies to domain, nil when none
// does, and whether the server says (REFUSED and SERVFAIL do not: "none"
// would be a guess).
func (q *asker) dmarc(domain string) (*DMARC, bool, error) {
	d, known, err := q.dmarcAt(domain, "p")
	if d != nil || !known || err != nil {
		return d, known, err
	}
	org := dnslookup.OrgDomain(domain)
	if org == domain {
		return nil, true, nil
	}
	d, known, err = q.dmarcAt(org, "sp", "p")
	if d != nil {
		d.Org = org
	}
	return d, known, err
}

// dmarcAt reads the DMARC record at _dmarc.domain: its policy is the
// first of tags it has.
func (q *asker) dmarcAt(domain string, tags ...string) (*DMARC, bool, error) {
	texts, known := q.TXT("_dmarc." + domain)
	if q.err != nil {
		return nil, false, q.err
	}
	for _, text := range texts {
		if !strings.HasPrefix(strings.ToUpper(strings.TrimSpace(text)), "V=DMARC1") {
			continue
		}
		values := map[string]string{}
		for _, part := range strings.Split(text, ";") {
			if k, v, ok := strings.Cut(strings.TrimSpace(part), "="); ok {
				values[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
			}
		}
		d := &DMARC{Record: text}
		for _, tag := range tags {
			if v, ok := values[tag]; ok {
				d.Policy = v
				break
			}
		}
		return d, true, nil
	}
	return nil, known, nil
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
		var ip []byte
		switch rr := rr.(type) {
		case *dns.A:
			ip = rr.A
		case *dns.AAAA:
			ip = rr.AAAA
		}
		// Unmap: the dns package may hold an A's address in 16 bytes, and
		// an AAAA mapping an IPv4 address gives that address back to the
		// HELO name's FCrDNS. A record without data has no address.
		if a, ok := netip.AddrFromSlice(ip); ok {
			out = append(out, a.Unmap())
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
