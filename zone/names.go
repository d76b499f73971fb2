package zone

import (
	"errors"
	"strings"

	"github.com/miekg/dns"
)

// canonicalName makes a name absolute and lower case; the model keeps every
// name that way so that matching is a plain string comparison.
func canonicalName(s string) (string, error) {
	if s == "" || strings.ContainsAny(s, " \t\r\n;") {
		return "", errors.New("want a domain name")
	}
	// Only ASCII letters fold (RFC 4343 §3); IsDomainName also refuses an
	// empty label, without mistaking an escaped dot ("a\..b") for one.
	name := dns.CanonicalName(s)
	if _, ok := dns.IsDomainName(name); !ok {
		return "", errors.New("want a domain name (no empty label, labels of at most 63 octets, 255 in all)")
	}
	return name, nil
}

// resolveName reads a name as written in a zone: "@" is the origin, a name
// ending in "." is absolute, anything else is relative to the origin.
func resolveName(s, origin string) (string, error) {
	switch {
	case s == "@":
		return origin, nil
	case s == ".":
		return ".", nil
	case strings.HasSuffix(s, "."):
		return canonicalName(s)
	default:
		if strings.HasPrefix(s, "@.") || strings.HasSuffix(s, ".@") {
			return "", errors.New(`"@" stands alone for the zone's origin`)
		}
		return canonicalName(s + "." + origin)
	}
}

// inZone reports whether name is origin or below it.
func inZone(name, origin string) bool {
	return dns.IsSubDomain(origin, name)
}

// parentName returns the name one label up, or "" above the root.
func parentName(name string) string {
	if name == "." {
		return ""
	}
	off, end := dns.NextLabel(name, 0)
	if end {
		return "."
	}
	return name[off:]
}
