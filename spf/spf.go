// Package spf evaluates an SPF policy for one sending address the way a
// receiver does (RFC 7208 §4.6), against any source of DNS data: the
// zones being built, or a DNS server. It answers Unknown where a
// receiver's result would depend on data the source does not hold (a
// zone served elsewhere) or on the message (macros, exists), rather than
// guessing.
package spf

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Result is an SPF result (RFC 7208 §2.6), or Unknown.
type Result string

const (
	Pass      Result = "pass"
	Fail      Result = "fail"
	SoftFail  Result = "softfail"
	Neutral   Result = "neutral"
	None      Result = "none"
	PermError Result = "permerror"
	// Unknown: the source cannot say (a zone it does not hold, a macro,
	// exists:), so neither can we.
	Unknown Result = "unknown"
)

// Resolver answers the questions an evaluation asks, following CNAMEs.
// known is false when the source does not hold the name's data; a name
// that does not exist is known, with nothing found.
type Resolver interface {
	TXT(name string) (texts []string, known bool)
	Addrs(name string, ipv6 bool) (addrs []netip.Addr, known bool)
	MX(name string) (hosts []string, known bool)
}

// Check evaluates domain's SPF policy for a message sent from ip, and
// says why: the term that decided, or what could not be known.
func Check(r Resolver, domain string, ip netip.Addr) (Result, string) {
	e := &eval{r: r, ip: ip.Unmap()}
	return e.check(canonical(domain), 0)
}

type eval struct {
	r       Resolver
	ip      netip.Addr
	lookups int
}

func canonical(name string) string {
	name = strings.ToLower(name)
	if !strings.HasSuffix(name, ".") {
		name += "."
	}
	return name
}

func bare(name string) string { return strings.TrimSuffix(name, ".") }

// record finds the one SPF record of domain.
func (e *eval) record(domain string) (string, Result, string) {
	texts, known := e.r.TXT(domain)
	if !known {
		return "", Unknown, "the SPF record of " + bare(domain) + " is not known here"
	}
	var found []string
	for _, t := range texts {
		if IsRecord(t) {
			found = append(found, t)
		}
	}
	switch len(found) {
	case 0:
		return "", None, bare(domain) + " has no SPF record"
	case 1:
		return found[0], "", ""
	}
	return "", PermError, bare(domain) + " has more than one SPF record"
}

func (e *eval) check(domain string, depth int) (Result, string) {
	if depth > LookupLimit {
		return PermError, "include or redirect loop"
	}
	text, res, why := e.record(domain)
	if res != "" {
		return res, why
	}
	terms, err := Parse(text)
	if err != nil {
		return PermError, "the SPF of " + bare(domain) + ": " + err.Error()
	}
	var redirect string
	for _, t := range terms {
		if t.Qualifier == 0 {
			if t.Name == "redirect" {
				redirect = t.Domain
			}
			continue
		}
		q := qualifiers[t.Qualifier]
		match, res, why := e.mechanism(domain, t.Text, depth)
		if res != "" {
			return res, why
		}
		if match {
			return q, "matched " + qualifierText(q) + t.Text + " in the SPF of " + bare(domain)
		}
	}
	if redirect != "" {
		if strings.Contains(redirect, "%") {
			return Unknown, "redirect=" + redirect + " uses a macro"
		}
		if e.lookups++; e.lookups > LookupLimit {
			return PermError, "more than 10 DNS-querying terms"
		}
		res, why := e.check(canonical(redirect), depth+1)
		if res == None {
			return PermError, "redirect=" + redirect + ": " + why
		}
		return res, why
	}
	return Neutral, "nothing in the SPF of " + bare(domain) + " matched"
}

var qualifiers = map[byte]Result{'+': Pass, '-': Fail, '~': SoftFail, '?': Neutral}

func qualifierText(q Result) string {
	switch q {
	case Fail:
		return "-"
	case SoftFail:
		return "~"
	case Neutral:
		return "?"
	}
	return ""
}

// mechanism reports whether one mechanism matches; a result other than ""
// ends the evaluation.
func (e *eval) mechanism(domain, term string, depth int) (bool, Result, string) {
	name, arg, _ := strings.Cut(term, ":")
	cidr := ""
	if i := strings.IndexByte(name, '/'); i >= 0 {
		name, cidr = name[:i], name[i+1:]
	} else if i := strings.IndexByte(arg, '/'); i >= 0 {
		arg, cidr = arg[:i], arg[i+1:]
	}
	name = strings.ToLower(name)
	switch name {
	case "all":
		return true, "", ""
	case "ip4", "ip6":
		p, err := parsePrefix(arg, cidr)
		if err != nil {
			return false, PermError, fmt.Sprintf("%s: %v", term, err)
		}
		return p.Contains(e.ip), "", ""
	}
	if strings.Contains(arg, "%") {
		return false, Unknown, term + " uses a macro, which depends on the message"
	}
	if e.lookups++; e.lookups > LookupLimit {
		return false, PermError, "more than 10 DNS-querying terms"
	}
	target := domain
	if arg != "" {
		target = canonical(arg)
	}
	switch name {
	case "a":
		return e.hostMatches(target, cidr, term)
	case "mx":
		hosts, known := e.r.MX(target)
		if !known {
			return false, Unknown, "the MX of " + bare(target) + " is not known here"
		}
		for i, h := range hosts {
			if i == MXLimit {
				return false, PermError, "mx of " + bare(target) + ": more than 10 hosts"
			}
			if m, res, why := e.hostMatches(canonical(h), cidr, term); m || res != "" {
				return m, res, why
			}
		}
		return false, "", ""
	case "include":
		res, why := e.check(target, depth+1)
		switch res {
		case Pass:
			return true, "", ""
		case Fail, SoftFail, Neutral:
			return false, "", ""
		case None:
			return false, PermError, "include:" + arg + ": " + why
		}
		return false, res, why
	case "exists", "ptr":
		return false, Unknown, term + " depends on more than the address"
	}
	return false, PermError, "unknown mechanism " + term
}

// hostMatches reports whether ip is among host's addresses, within cidr.
func (e *eval) hostMatches(host, cidr, term string) (bool, Result, string) {
	addrs, known := e.r.Addrs(host, e.ip.Is6())
	if !known {
		return false, Unknown, "the addresses of " + bare(host) + " (" + term + ") are not known here"
	}
	bits := e.ip.BitLen()
	v4, v6, _ := strings.Cut(cidr, "/") // "24", "/64" (from "//64") or "24//64"
	want := v4
	if e.ip.Is6() {
		want = strings.TrimPrefix(v6, "/")
	}
	if want != "" {
		n, err := strconv.Atoi(want)
		if err != nil || n < 0 || n > bits {
			return false, PermError, term + ": bad prefix length"
		}
		bits = n
	}
	for _, a := range addrs {
		if p, err := a.Unmap().Prefix(bits); err == nil && p.Contains(e.ip) {
			return true, "", ""
		}
	}
	return false, "", ""
}

func parsePrefix(addr, bits string) (netip.Prefix, error) {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("not an address")
	}
	n := a.BitLen()
	if bits != "" {
		if n, err = strconv.Atoi(bits); err != nil || n < 0 || n > a.BitLen() {
			return netip.Prefix{}, fmt.Errorf("bad prefix length")
		}
	}
	return a.Unmap().Prefix(n)
}
