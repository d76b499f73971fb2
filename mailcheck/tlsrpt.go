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
	text, ok := c.theRecord(s, "tls-rpt", name, "v=TLSRPTv1", "TLS-RPT", "senders send no reports", " (RFC 8460 §3)")
	if !ok {
		return
	}
	if text == "" {
		if s.stsMode == "enforce" || s.stsMode == "testing" {
			c.at(s, "tls-rpt", Warning, name, dns.TypeTXT, "", "%s has an MTA-STS policy but no TLS-RPT record at %s: you will not hear of senders that fail to deliver under it; add one, e.g. tls_rpt: \"mailto:tlsrpt@%s\" (RFC 8460 §3)", bare(s.name), bare(name), bare(s.name))
		}
		return
	}
	if p := tlsRPTProblem(text); p != "" {
		c.at(s, "tls-rpt", Error, name, dns.TypeTXT, text, "%s; senders send no reports (RFC 8460 §3)", p)
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
