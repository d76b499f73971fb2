package dnslookup

import (
	"strings"

	"github.com/miekg/dns"
	"golang.org/x/net/publicsuffix"
)

// OrgDomain is the organizational domain of name (RFC 7489 §3.2): one
// label below its public suffix, from the public suffix list; name
// itself, canonical, when it has none. DMARC falls back to its record.
func OrgDomain(name string) string {
	org, err := publicsuffix.EffectiveTLDPlusOne(strings.TrimSuffix(name, "."))
	if err != nil {
		return dns.CanonicalName(name)
	}
	return dns.CanonicalName(org)
}
