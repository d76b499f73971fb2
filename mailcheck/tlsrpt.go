package mailcheck

import (
	"fmt"
	"strings"

	"github.com/miekg/dns"
)

// tlsRPT judges the domain's TLS-RPT record (RFC 8460): one, read as
// senders read it; and there at all when MTA-STS asks senders to check
// TLS, or nobody hears of their failures.
func (c *checker) tlsRPT(s *domainState) {
	name := "_smtp._tls." + s.name
	texts, a := c.res.txt(name)
	if p := a.failed(); p != "" {
		c.at(s, "tls-rpt", Warning, name, dns.TypeTXT, "", "TXT at %s: %s; senders send no TLS reports", bare(name), p)
		return
	}
	var recs []string
	for _, t := range texts {
		if strings.HasPrefix(t, "v=TLSRPTv1") {
			recs = append(recs, t)
		}
	}
	switch len(recs) {
	case 0:
		if s.stsMode == "enforce" || s.stsMode == "testing" {
			c.at(s, "tls-rpt", Warning, name, dns.TypeTXT, "", "%s has an MTA-STS policy but no TLS-RPT record at %s: you will not hear of senders that fail to deliver under it; add one, e.g. tls_rpt: \"mailto:tlsrpt@%s\" (RFC 8460 §3)", bare(s.name), bare(name), bare(s.name))
		}
		return
	case 1:
	default:
		c.at(s, "tls-rpt", Error, name, dns.TypeTXT, recs[1], "%d TLS-RPT records at %s: senders send no reports (RFC 8460 §3)", len(recs), bare(name))
		return
	}
	if p := tlsRPTProblem(recs[0]); p != "" {
		c.at(s, "tls-rpt", Error, name, dns.TypeTXT, recs[0], "%s; senders send no reports (RFC 8460 §3)", p)
	}
}

// tlsRPTProblem says what is wrong with a TLS-RPT record, or "".
func tlsRPTProblem(text string) string {
	rua := ""
	for i, part := range strings.Split(text, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		switch {
		case !ok:
			return fmt.Sprintf("%q: want field=value", part)
		case i == 0 && part != "v=TLSRPTv1":
			return "want v=TLSRPTv1 first"
		case k == "rua":
			rua = v
		}
	}
	if rua == "" {
		return "no rua=: say where reports go, e.g. rua=mailto:tlsrpt@example.com"
	}
	for _, u := range strings.Split(rua, ",") {
		u = strings.TrimSpace(u)
		if !strings.HasPrefix(u, "mailto:") && !strings.HasPrefix(u, "https://") {
			return fmt.Sprintf("rua %q: want mailto: or https: URIs", u)
		}
	}
	return ""
}
