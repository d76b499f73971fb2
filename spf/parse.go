package spf

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Term is one directive or modifier of an SPF record (RFC 7208 §4.6.1).
type Term struct {
	Qualifier byte   // '+', '-', '~' or '?' for a mechanism; 0 for a modifier
	Name      string // lower case
	Domain    string // the domain-spec, "" when the term has none
	Text      string // as written, without its qualifier
}

// The limits of one evaluation (RFC 7208 §4.6.4): DNS-querying terms,
// void lookups, and the MX records an mx mechanism may look at.
const (
	LookupLimit = 10
	VoidLimit   = 2
	MXLimit     = 10
)

// Queries reports whether the term costs a DNS query, and so counts
// against LookupLimit.
func (t Term) Queries() bool {
	switch t.Name {
	case "include", "a", "mx", "ptr", "exists", "redirect":
		return true
	}
	return false
}

// Macro reports whether the term's domain depends on the mail being
// checked (a macro, RFC 7208 §7).
func (t Term) Macro() bool { return strings.Contains(t.Domain, "%") }

// IsRecord reports whether a TXT record's text is an SPF record (RFC 7208 §4.5).
func IsRecord(text string) bool {
	return strings.EqualFold(text, "v=spf1") || len(text) > 7 && strings.EqualFold(text[:7], "v=spf1 ")
}

// Parse reads an SPF record's terms, or says what is wrong with it. A
// receiver that meets any syntax error returns permerror before it looks
// at a term (RFC 7208 §4.6), so the whole record is read first.
func Parse(text string) ([]Term, error) {
	fields := strings.Fields(text)
	if len(fields) == 0 || !strings.EqualFold(fields[0], "v=spf1") {
		return nil, fmt.Errorf("want v=spf1 first")
	}
	var terms []Term
	seen := map[string]bool{}
	for _, f := range fields[1:] {
		t, err := parseTerm(f)
		if err != nil {
			return nil, fmt.Errorf("%q: %v (RFC 7208 §5)", f, err)
		}
		if t.Qualifier == 0 && (t.Name == "redirect" || t.Name == "exp") {
			if seen[t.Name] {
				return nil, fmt.Errorf("%s= appears twice; it may appear once (RFC 7208 §6)", t.Name)
			}
			seen[t.Name] = true
		}
		terms = append(terms, t)
	}
	return terms, nil
}

func parseTerm(f string) (Term, error) {
	// A modifier is name=value, name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ).
	if i := strings.IndexAny(f, "=:/"); i > 0 && f[i] == '=' {
		name := strings.ToLower(f[:i])
		if !isName(name) {
			return Term{}, fmt.Errorf("not a mechanism or modifier")
		}
		val := f[i+1:]
		if (name == "redirect" || name == "exp") && val == "" {
			return Term{}, fmt.Errorf("%s= wants a domain", name)
		}
		return Term{Name: name, Domain: val, Text: f}, nil
	}
	t := Term{Qualifier: '+'}
	if strings.IndexByte("+-~?", f[0]) >= 0 {
		t.Qualifier, f = f[0], f[1:]
	}
	t.Text = f
	name, arg, hasArg := f, "", false
	if i := strings.IndexAny(f, ":/"); i >= 0 {
		name, arg, hasArg = f[:i], f[i:], true
	}
	t.Name = strings.ToLower(name)
	switch t.Name {
	case "all":
		if hasArg {
			return t, fmt.Errorf("all takes no argument")
		}
	case "include", "exists":
		d, ok := strings.CutPrefix(arg, ":")
		if !ok || d == "" {
			return t, fmt.Errorf("%s wants a domain, e.g. %s:_spf.example.com", t.Name, t.Name)
		}
		t.Domain = d
	case "a", "mx":
		d, cidr, _ := strings.Cut(arg, "/")
		if hasArg && arg[0] == '/' {
			d, cidr = "", arg[1:]
		} else if hasArg {
			d = strings.TrimPrefix(d, ":")
			if d == "" {
				return t, fmt.Errorf("%q has no domain after its colon", t.Name+":")
			}
		}
		if strings.Contains(arg, "/") && !validDualCIDR(cidr) {
			return t, fmt.Errorf("prefix length: want /0-32, //0-128 or both, e.g. %s/24", t.Name)
		}
		t.Domain = d
	case "ptr":
		t.Domain = strings.TrimPrefix(arg, ":")
	case "ip4", "ip6":
		a, ok := strings.CutPrefix(arg, ":")
		if !ok {
			return t, fmt.Errorf("%s wants an address, e.g. ip4:192.0.2.0/24", t.Name)
		}
		addr, bits, hasBits := strings.Cut(a, "/")
		ip, err := netip.ParseAddr(addr)
		if err != nil || (t.Name == "ip4") != ip.Is4() {
			return t, fmt.Errorf("not an %s address", map[string]string{"ip4": "IPv4", "ip6": "IPv6"}[t.Name])
		}
		if hasBits {
			n, err := strconv.Atoi(bits)
			if err != nil || n < 0 || n > ip.BitLen() {
				return t, fmt.Errorf("prefix length %q: want 0 to %d", bits, ip.BitLen())
			}
		}
	default:
		return t, fmt.Errorf("unknown mechanism; SPF knows all, include, a, mx, ptr, ip4, ip6, exists and the modifiers redirect= and exp=")
	}
	return t, nil
}

func isName(s string) bool {
	for i, c := range s {
		if !(c >= 'a' && c <= 'z' || i > 0 && (c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.')) {
			return false
		}
	}
	return s != ""
}

// validDualCIDR reads "24", "/64" (from "//64") or "24//64".
func validDualCIDR(s string) bool {
	v4, v6, both := strings.Cut(s, "//")
	if strings.HasPrefix(s, "/") {
		v4, v6, both = "", s[1:], true
	}
	ok := func(x string, max int) bool { n, err := strconv.Atoi(x); return err == nil && n >= 0 && n <= max }
	return (v4 == "" || ok(v4, 32)) && (!both || ok(v6, 128)) && (v4 != "" || both)
}
