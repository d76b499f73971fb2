package mailcheck

import (
	"strings"

	"github.com/miekg/dns"
)

// theRecord finds the one TXT record at name that starts with version,
// as receivers and senders look for it (BIMI, MTA-STS, TLS-RPT). A
// lookup that fails and more than one record are findings of check,
// what (BIMI, MTA-STS...) naming the record and consequence what its
// readers then do, ref the RFC that says so; ok is false after either.
// text is "" where there is no record.
func (c *checker) theRecord(s *domainState, check, name, version, what, consequence, ref string) (text string, ok bool) {
	texts, a := c.res.txt(name)
	if p := a.failed(); p != "" {
		c.at(s, check, Warning, name, dns.TypeTXT, "", "TXT at %s: %s; %s", bare(name), p, consequence)
		return "", false
	}
	var recs []string
	for _, t := range texts {
		if strings.HasPrefix(t, version) {
			recs = append(recs, t)
		}
	}
	switch len(recs) {
	case 0:
		return "", true
	case 1:
		return recs[0], true
	}
	c.at(s, check, Error, name, dns.TypeTXT, recs[1], "%d %s records at %s: %s%s; keep one", len(recs), what, bare(name), consequence, ref)
	return "", false
}
