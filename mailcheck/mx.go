package mailcheck

import (
	"sort"

	"github.com/miekg/dns"
)

// mxSet reads the domain's MX records for the checks that need them (the
// MTA-STS patterns, the hosts). It is false when the domain does not
// exist: nothing else is worth asking then.
func (c *checker) mxSet(s *domainState, planShown bool) bool {
	a := c.res.lookup(s.name, dns.TypeMX)
	if p := a.failed(); p != "" {
		c.at(s, "mx", Warning, s.name, dns.TypeMX, "", "MX at %s: %s", bare(s.name), p)
		return true
	}
	if a.Rcode == dns.RcodeNameError {
		if !planShown {
			c.at(s, "mx", Error, s.name, dns.TypeMX, "", "%s does not exist (NXDOMAIN): mail to it bounces", bare(s.name))
		}
		return false
	}
	mxs := make([]*dns.MX, 0, len(a.RRs))
	for _, rr := range a.RRs {
		mxs = append(mxs, rr.(*dns.MX))
	}
	sort.SliceStable(mxs, func(i, j int) bool {
		if mxs[i].Preference != mxs[j].Preference {
			return mxs[i].Preference < mxs[j].Preference
		}
		return dns.CanonicalName(mxs[i].Mx) < dns.CanonicalName(mxs[j].Mx)
	})
	seen := map[string]bool{}
	for _, mx := range mxs {
		host := dns.CanonicalName(mx.Mx)
		if host == "." {
			s.nullMX = true
			continue
		}
		if !seen[host] {
			seen[host] = true
			s.mx = append(s.mx, host)
		}
	}
	if len(s.mx) > 0 {
		s.nullMX = false // a null MX among others is no null MX: zone's error, or the plan's warning
	}
	return true
}

// mxHosts judges each MX host: an address, IPv6, and with SMTP its
// answer on port 25.
func (c *checker) mxHosts(s *domainState, planShown bool) {
	for _, host := range s.mx {
		v4, v6, p := c.res.addrs(host)
		switch {
		case p != "":
			c.at(s, "mx", Warning, host, dns.TypeA, "", "MX host %s: %s", bare(host), p)
			continue
		case len(v4)+len(v6) == 0:
			if !planShown && !c.ours(host) {
				c.at(s, "mx", Error, host, dns.TypeA, "", "MX host %s has no address (A or AAAA): senders skip it", bare(host))
			}
			continue
		case len(v6) == 0:
			c.at(s, "mx", Warning, host, dns.TypeAAAA, "", "MX host %s has no IPv6 address (AAAA): senders with IPv6 only cannot reach it", bare(host))
		}
		if c.opts.SMTP == nil {
			continue
		}
		for _, ip := range v4 {
			c.smtp(s, host, ip, dns.TypeA)
		}
		for _, ip := range v6 {
			c.smtp(s, host, ip, dns.TypeAAAA)
		}
	}
}
