package mailcheck

import (
	"fmt"
	"strings"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/dnslookup"
)

// dmarcRecord is a DMARC record read into its tags.
type dmarcRecord struct {
	name string // where it was found: _dmarc.<domain>
	text string
	tags map[string]string // lower-case tag → value
	keys []string          // the tags in the order written
}

// policyRank orders DMARC policies from the weakest.
var policyRank = map[string]int{"none": 0, "quarantine": 1, "reject": 2}

// readDMARC finds the DMARC record at _dmarc.domain. A problem is what
// keeps it from being read: it is said at the name, and nil returned.
func (c *checker) readDMARC(s *domainState, domain string, say bool) (*dmarcRecord, bool) {
	name := "_dmarc." + domain
	texts, a := c.res.txt(name)
	if p := a.failed(); p != "" {
		if say {
			c.at(s, "dmarc", Warning, name, dns.TypeTXT, "", "TXT at %s: %s; receivers get temperror and apply no policy", bare(name), p)
		}
		return nil, false
	}
	var recs []string
	for _, t := range texts {
		if strings.HasPrefix(strings.TrimSpace(t), "v=DMARC1") {
			recs = append(recs, t)
		}
	}
	switch {
	case len(recs) == 0:
		return nil, true
	case len(recs) > 1:
		if say {
			c.at(s, "dmarc", Error, name, dns.TypeTXT, recs[1], "%d DMARC records at %s; receivers apply none of them (RFC 7489 §6.6.3): keep one", len(recs), bare(name))
		}
		return nil, false
	}
	r := &dmarcRecord{name: name, text: recs[0], tags: map[string]string{}}
	for i, part := range strings.Split(recs[0], ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		tag, val, ok := strings.Cut(part, "=")
		tag, val = strings.ToLower(strings.TrimSpace(tag)), strings.TrimSpace(val)
		if !ok || i == 0 && val != "DMARC1" {
			if say && !c.ours(name) {
				c.at(s, "dmarc", Error, name, dns.TypeTXT, r.text, "%q: want tag=value; receivers ignore the record (RFC 7489 §6.4)", part)
			}
			return nil, false
		}
		if _, dup := r.tags[tag]; !dup {
			r.keys = append(r.keys, tag)
		}
		r.tags[tag] = val
	}
	if _, ok := policyRank[strings.ToLower(r.tags["p"])]; !ok && say && !c.ours(name) {
		c.at(s, "dmarc", Error, name, dns.TypeTXT, r.text, "p=%s: want p=none, quarantine or reject right after v=DMARC1; receivers ignore the record (RFC 7489 §6.3)", r.tags["p"])
		return nil, false
	}
	return r, true
}

// dmarc judges the domain's DMARC record, or the one of its
// organizational domain that receivers fall back to.
func (c *checker) dmarc(s *domainState) {
	rec, ok := c.readDMARC(s, s.name, true)
	if !ok {
		return
	}
	org := dnslookup.OrgDomain(s.name)
	var orgRec *dmarcRecord
	if org != s.name {
		orgRec, _ = c.readDMARC(s, org, rec == nil)
	}
	if rec == nil {
		if orgRec == nil {
			also := ""
			if org != s.name {
				also = " nor at _dmarc." + bare(org) + ", its organizational domain"
			}
			c.at(s, "dmarc", Warning, "_dmarc."+s.name, dns.TypeTXT, "", "no DMARC record at _dmarc.%s%s: receivers cannot act on failed SPF and DKIM, and send no reports; publish one, e.g. dmarc: {p: none, rua: \"mailto:dmarc@%s\"} (RFC 7489 §6.1)", bare(s.name), also, bare(org))
		}
		return
	}
	find := func(sev Severity, format string, args ...any) {
		c.at(s, "dmarc", sev, rec.name, dns.TypeTXT, rec.text, format, args...)
	}
	for _, tag := range rec.keys {
		switch tag {
		case "pct":
			find(Warning, "pct=%s is removed by DMARCbis, and receivers that follow it ignore it; to try a policy, write t=y instead", rec.tags[tag])
		case "rf":
			find(Warning, "rf=%s is removed by DMARCbis: failure reports come in one format; drop it", rec.tags[tag])
		case "ri":
			find(Warning, "ri=%s is removed by DMARCbis: aggregate reports come daily whatever it says; drop it", rec.tags[tag])
		}
	}
	p := strings.ToLower(rec.tags["p"])
	if p == "none" && rec.tags["rua"] == "" {
		find(Warning, "p=none without rua: the record enforces nothing and asks for no reports, so it tells you nothing; add rua=mailto:... (RFC 7489 §6.3)")
	}
	if sp, ok := rec.tags["sp"]; ok && s.name == org && policyRank[strings.ToLower(sp)] < policyRank[p] {
		find(Warning, "sp=%s is weaker than p=%s: receivers judge mail from every subdomain of %s by the weaker policy", sp, rec.tags["p"], bare(s.name))
	}
	if orgRec != nil {
		sub, which := orgRec.tags["sp"], "sp"
		if sub == "" {
			sub, which = orgRec.tags["p"], "p"
		}
		if policyRank[p] < policyRank[strings.ToLower(sub)] {
			find(Warning, "p=%s is weaker than the %s=%s that %s sets for its subdomains: this record lets more forged mail through", rec.tags["p"], which, sub, bare(org))
		}
	}
	for _, tag := range []string{"rua", "ruf"} {
		for _, uri := range strings.Split(rec.tags[tag], ",") {
			c.reportAddress(s, rec, tag, strings.TrimSpace(uri), find)
		}
	}
}

// reportAddress checks that a report address in another organization has
// agreed to take the domain's reports (RFC 7489 §7.1).
func (c *checker) reportAddress(s *domainState, rec *dmarcRecord, tag, uri string, find func(Severity, string, ...any)) {
	addr, ok := strings.CutPrefix(uri, "mailto:")
	if !ok {
		return
	}
	if i := strings.LastIndexByte(addr, '!'); i >= 0 {
		addr = addr[:i] // a size limit, "!10m"
	}
	_, host, ok := strings.Cut(addr, "@")
	if !ok {
		return
	}
	dest, err := domainName(host)
	if err != nil {
		return
	}
	if dnslookup.OrgDomain(dest) == dnslookup.OrgDomain(s.name) {
		return
	}
	auth := bare(s.name) + "._report._dmarc." + dest
	texts, a := c.res.txt(auth)
	if p := a.failed(); p != "" {
		find(Warning, "%s %s: the authorisation at %s cannot be read: %s", tag, uri, bare(auth), p)
		return
	}
	for _, t := range texts {
		if strings.HasPrefix(strings.TrimSpace(t), "v=DMARC1") {
			return
		}
	}
	fix := ""
	switch zone := c.zoneOf(dest); {
	case zone == dest:
		fix = fmt.Sprintf("; add dmarc_reports_for: [%s] to zone %s", bare(s.name), bare(zone))
	case zone != "":
		fix = fmt.Sprintf("; publish txt: \"v=DMARC1\" at %s", bare(auth))
	}
	find(Warning, "%s %s is at another organization, which has not agreed to take reports for %s: receivers send it none (no TXT \"v=DMARC1\" at %s, RFC 7489 §7.1)%s", tag, uri, bare(s.name), bare(auth), fix)
}

// zoneOf is the origin of our zone holding name, or "".
func (c *checker) zoneOf(name string) string {
	if c.opts.Zone == nil {
		return ""
	}
	if z := c.opts.Zone(name); z != "" {
		return dns.CanonicalName(z)
	}
	return ""
}
