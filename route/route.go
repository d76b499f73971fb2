// Package route works out where a sending MTA would deliver mail for a
// domain (RFC 5321 §5.1), by asking a DNS server the questions it asks.
// It knows nothing of mxdns: any server that answers will do.
package route

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/dnslookup"
)

// Exchange sends one query and returns the response.
type Exchange = dnslookup.Exchange

// Status says what kind of plan a domain has.
type Status string

const (
	StatusMX       Status = "mx"       // deliver to the MX hosts
	StatusImplicit Status = "implicit" // no MX: deliver to the domain's own address
	StatusNullMX   Status = "null-mx"  // the domain accepts no mail (RFC 7505)
	StatusNXDomain Status = "nxdomain" // the domain does not exist
	StatusNoRoute  Status = "no-route" // neither MX nor address: mail bounces
)

// Plan is the delivery plan for one domain.
type Plan struct {
	Domain   string   `json:"domain"`
	Status   Status   `json:"status"`
	CNAME    []string `json:"cname,omitempty"` // the chain followed at the domain itself
	Groups   []Group  `json:"groups"`
	Warnings []string `json:"warnings"`
}

// Group is the hosts of one preference; a sender tries them in random
// order before moving to the next group.
type Group struct {
	Preference uint16 `json:"preference"`
	Hosts      []Host `json:"hosts"`
}

// Host is one MX target (or the domain itself for an implicit MX).
type Host struct {
	Name      string    `json:"name"`
	CNAME     []string  `json:"cname,omitempty"`
	Addresses []Address `json:"addresses"`
	// Unknown is set when the server would not say (REFUSED, SERVFAIL).
	Unknown bool `json:"unknown,omitempty"`
	// DANE is its TLSA at _25._tcp and whether it validates; nil when
	// it publishes none.
	DANE *DANE `json:"dane,omitempty"`
}

// Address is one address of a host and the names its PTR gives.
type Address struct {
	IP  string   `json:"ip"`
	PTR []string `json:"ptr"`
	// PTRUnknown is set when the server does not answer for the reverse
	// zone (REFUSED or SERVFAIL): ask the server that does.
	PTRUnknown bool `json:"ptr_unknown,omitempty"`
}

// Resolve builds the delivery plan for domain.
func Resolve(ctx context.Context, ex Exchange, domain string) (*Plan, error) {
	name := dns.CanonicalName(domain)
	if _, ok := dns.IsDomainName(name); !ok {
		return nil, fmt.Errorf("%q is not a domain name", domain)
	}
	p := &Plan{Domain: name, Groups: []Group{}, Warnings: []string{}}
	r := resolver{ctx: ctx, ex: ex, plan: p}

	ans, err := r.follow(name, dns.TypeMX)
	if err != nil {
		return nil, err
	}
	p.CNAME = ans.Chain
	if ans.Rcode == dns.RcodeNameError {
		p.Status = StatusNXDomain
		return p, nil
	}
	var mxs []*dns.MX
	null := false
	for _, rr := range ans.RRs {
		mx := rr.(*dns.MX)
		if mx.Mx == "." {
			null = true
			continue
		}
		mxs = append(mxs, mx)
	}
	switch {
	case null && len(mxs) == 0:
		p.Status = StatusNullMX
		return p, nil
	case null:
		r.warn("%s publishes a null MX next to other MX records; RFC 7505 says a null MX must be alone, senders may treat the domain as accepting no mail", bare(name))
	}
	if len(mxs) == 0 {
		// No MX: the domain itself is the host, with preference 0 (RFC 5321 §5.1).
		h, err := r.host(ans.Final, false)
		if err != nil {
			return nil, err
		}
		if len(h.Addresses) == 0 {
			p.Status = StatusNoRoute
			return p, nil
		}
		p.Status = StatusImplicit
		p.Groups = append(p.Groups, Group{Preference: 0, Hosts: []Host{h}})
		return p, nil
	}
	p.Status = StatusMX
	sort.SliceStable(mxs, func(i, j int) bool {
		if mxs[i].Preference != mxs[j].Preference {
			return mxs[i].Preference < mxs[j].Preference
		}
		return mxs[i].Mx < mxs[j].Mx // equal preference: the sender picks at random
	})
	seen := make(map[string]bool)
	for _, mx := range mxs {
		target := dns.CanonicalName(mx.Mx)
		if seen[target] {
			continue // a host listed at two preferences is tried at the first
		}
		seen[target] = true
		if _, err := netip.ParseAddr(strings.TrimSuffix(target, ".")); err == nil {
			r.warn("MX %s of %s is an IP address, not a host name; senders look it up as a name and fail", bare(target), bare(name))
		}
		h, err := r.host(target, true)
		if err != nil {
			return nil, err
		}
		if !h.Unknown {
			h.DANE = r.dane(target)
		}
		if n := len(p.Groups); n == 0 || p.Groups[n-1].Preference != mx.Preference {
			p.Groups = append(p.Groups, Group{Preference: mx.Preference})
		}
		g := &p.Groups[len(p.Groups)-1]
		g.Hosts = append(g.Hosts, h)
	}
	reachable := false
	for _, g := range p.Groups {
		for _, h := range g.Hosts {
			reachable = reachable || len(h.Addresses) > 0 || h.Unknown
		}
	}
	if !reachable {
		r.warn("no MX host of %s has an address: mail waits in senders' queues and then bounces", bare(name))
	}
	return p, nil
}

type resolver struct {
	ctx  context.Context
	ex   Exchange
	plan *Plan
}

func (r *resolver) warn(format string, args ...any) {
	r.plan.Warnings = append(r.plan.Warnings, fmt.Sprintf(format, args...))
}

// follow asks name/qtype, following CNAMEs; an answer that says nothing
// about the name (REFUSED, SERVFAIL, ...) is an RcodeError.
func (r *resolver) follow(name string, qtype uint16) (*dnslookup.Answer, error) {
	a := dnslookup.Follow(r.ctx, r.ex, name, qtype)
	if a.Err != nil {
		return a, a.Err
	}
	if a.Rcode != dns.RcodeSuccess && a.Rcode != dns.RcodeNameError {
		return a, &RcodeError{Name: a.Final, Qtype: qtype, Rcode: a.Rcode}
	}
	return a, nil
}

// RcodeError is an answer that says nothing about the name: REFUSED from
// an authoritative server asked about someone else's zone, SERVFAIL, ...
type RcodeError struct {
	Name  string
	Qtype uint16
	Rcode int
}

func (e *RcodeError) Error() string {
	return fmt.Sprintf("%s %s: server answered %s", bare(e.Name), dns.TypeToString[e.Qtype], dns.RcodeToString[e.Rcode])
}

// host looks up a host's addresses and their PTRs.
func (r *resolver) host(name string, isMX bool) (Host, error) {
	h := Host{Name: name, Addresses: []Address{}}
	exists := false
	for _, t := range []uint16{dns.TypeA, dns.TypeAAAA} {
		a, err := r.follow(name, t)
		var re *RcodeError
		if errors.As(err, &re) && isMX {
			// An authoritative server asked about a host in a zone it does
			// not serve: the plan is still right, this host is just unknown.
			h.Unknown = true
			r.warn("this server does not answer for %s (%s): ask a resolver for its addresses", bare(re.Name), dns.RcodeToString[re.Rcode])
			return h, nil
		}
		if err != nil {
			return h, err
		}
		if h.CNAME == nil && len(a.Chain) > 0 {
			h.CNAME = a.Chain
		}
		exists = exists || a.Rcode != dns.RcodeNameError
		var addrs []netip.Addr
		for _, rr := range a.RRs {
			if ip := addrOf(rr); ip.IsValid() {
				addrs = append(addrs, ip)
			}
		}
		sort.Slice(addrs, func(i, j int) bool { return addrs[i].Less(addrs[j]) })
		for _, ip := range addrs {
			addr, err := r.address(name, ip, isMX)
			if err != nil {
				return h, err
			}
			h.Addresses = append(h.Addresses, addr)
		}
	}
	if isMX && len(h.CNAME) > 0 {
		r.warn("MX target %s is a CNAME (to %s); an MX must name the host itself (RFC 2181 §10.3), some senders refuse it", bare(name), bare(h.CNAME[len(h.CNAME)-1]))
	}
	switch {
	case isMX && !exists:
		r.warn("MX target %s does not exist (NXDOMAIN); senders skip it", bare(name))
	case isMX && len(h.Addresses) == 0:
		r.warn("MX target %s has no address (A or AAAA); senders skip it", bare(name))
	}
	return h, nil
}

// address looks up the PTR of ip and warns when receivers would dislike
// what they find: no PTR, or one that does not lead back to ip.
func (r *resolver) address(host string, ip netip.Addr, isMX bool) (Address, error) {
	a := Address{IP: ip.String(), PTR: []string{}}
	rev, err := dns.ReverseAddr(ip.String())
	if err != nil {
		return a, err
	}
	// Through CNAMEs: a classless reverse delegation (RFC 2317) puts the
	// PTR behind one, often in a zone another server holds.
	ans := dnslookup.Follow(r.ctx, r.ex, rev, dns.TypePTR)
	if ans.Err != nil && !errors.Is(ans.Err, dnslookup.ErrLongChain) {
		return a, fmt.Errorf("PTR %s: %w", ip, ans.Err)
	}
	for _, rr := range ans.RRs {
		if p, ok := rr.(*dns.PTR); ok {
			a.PTR = append(a.PTR, dns.CanonicalName(p.Ptr))
		}
	}
	sort.Strings(a.PTR)
	switch {
	case ans.Err != nil || ans.Rcode == dns.RcodeRefused || ans.Rcode == dns.RcodeServerFailure:
		a.PTRUnknown = true // this server does not answer for the reverse zone: nothing to judge
	case len(a.PTR) == 0:
		r.warn("%s (%s) has no PTR; many receivers refuse mail from an address without reverse DNS", ip, strings.TrimSuffix(host, "."))
	case isMX && !r.confirms(a.PTR, ip):
		r.warn("%s (%s): PTR %s does not resolve back to %s (forward-confirmed reverse DNS fails)", ip, strings.TrimSuffix(host, "."), strings.Join(trim(a.PTR), ", "), ip)
	}
	return a, nil
}

// confirms reports whether some PTR name has ip among its addresses,
// following CNAMEs as a receiver's resolver does, or whether that cannot
// be known from this server.
func (r *resolver) confirms(names []string, ip netip.Addr) bool {
	t := dns.TypeA
	if ip.Is6() {
		t = dns.TypeAAAA
	}
	for _, n := range names {
		a, err := r.follow(n, t)
		if err != nil {
			return true
		}
		if slices.ContainsFunc(a.RRs, func(rr dns.RR) bool { return addrOf(rr) == ip }) {
			return true
		}
	}
	return false
}

// addrOf returns the address of an A or AAAA record, or the zero Addr,
// which is not valid, when it has none: a record without data (rdlength
// 0, as in a dynamic update) reaches us with a nil address. The dns
// package may hold an A's address in 16-byte form, hence Unmap; an
// AAAA's is kept as it is, as before, even when it maps an IPv4 address.
func addrOf(rr dns.RR) netip.Addr {
	switch rr := rr.(type) {
	case *dns.A:
		if a, ok := netip.AddrFromSlice(rr.A); ok && a.Unmap().Is4() {
			return a.Unmap()
		}
	case *dns.AAAA:
		if a, ok := netip.AddrFromSlice(rr.AAAA); ok && a.Is6() {
			return a
		}
	}
	return netip.Addr{}
}

func bare(name string) string { return strings.TrimSuffix(name, ".") }
