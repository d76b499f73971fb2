package mailcheck

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"mime"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/dnslookup"
)

// bimiLogoLimit is the largest logo BIMI wants (draft-brand-indicators-
// for-message-identification: 32 KiB); bimiEvidenceLimit bounds what is
// read of a certificate.
const (
	bimiLogoLimit     = 32 * 1024
	bimiEvidenceLimit = 64 * 1024
)

// bimi judges the domain's BIMI record at default._bimi: its form, the
// DMARC policy receivers want before they show a logo, and the logo and
// mark certificate it points at.
func (c *checker) bimi(s *domainState) {
	name := "default._bimi." + s.name
	text, ok := c.theRecord(s, "bimi", name, "v=BIMI1", "BIMI", "receivers show no logo", "")
	if !ok || text == "" {
		return
	}
	find := func(sev Severity, format string, args ...any) {
		c.at(s, "bimi", sev, name, dns.TypeTXT, text, format, args...)
	}
	tags := map[string]string{}
	for i, part := range strings.Split(text, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok || i == 0 && part != "v=BIMI1" {
			find(Error, "%q: want v=BIMI1 first, then tag=value; receivers show no logo", part)
			return
		}
		tags[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
	}
	logo, evidence := tags["l"], tags["a"]
	if logo == "" && evidence == "" {
		return // the domain declines to show a logo
	}
	for _, tu := range [][2]string{{"l", logo}, {"a", evidence}} {
		if pu, err := url.Parse(tu[1]); tu[1] != "" && (err != nil || pu.Scheme != "https" || pu.Host == "") {
			find(Error, "%s=%s: want an https:// URL; receivers show no logo", tu[0], tu[1])
			return
		}
	}
	c.bimiPolicy(s, find)
	if logo == "" {
		find(Error, "no l= (the logo's URL): receivers show no logo")
	} else {
		c.bimiLogo(logo, find)
	}
	if evidence == "" {
		find(Warning, "no a= (the mark certificate's URL): Gmail and Apple Mail show no logo without a VMC or CMC")
	} else {
		c.bimiEvidence(evidence, find)
	}
}

// bimiPolicy holds the domain to the DMARC policy receivers want before
// they show a logo: quarantine or reject, on all of the mail.
func (c *checker) bimiPolicy(s *domainState, find func(Severity, string, ...any)) {
	rec, _ := c.readDMARC(s, s.name, false)
	policy, said := "", ""
	if rec != nil {
		policy = rec.tags["p"]
		said = "p=" + policy
	} else if org := dnslookup.OrgDomain(s.name); org != s.name {
		if rec, _ = c.readDMARC(s, org, false); rec != nil {
			tag := "sp"
			if rec.tags[tag] == "" {
				tag = "p"
			}
			policy = rec.tags[tag]
			said = fmt.Sprintf("%s=%s, of %s", tag, policy, bare(org))
		}
	}
	switch strings.ToLower(policy) {
	case "":
		find(Warning, "%s has no DMARC policy: receivers show a logo only for mail that passes DMARC at quarantine or reject", bare(s.name))
	case "none":
		find(Warning, "the DMARC policy of %s is %s: receivers show a logo only at quarantine or reject", bare(s.name), said)
	}
	if rec != nil {
		if n, err := strconv.Atoi(rec.tags["pct"]); err == nil && n < 100 {
			find(Warning, "the DMARC record of %s has pct=%d: receivers show a logo only when the policy applies to all mail", bare(s.name), n)
		}
	}
}

// bimiLogo fetches the logo: an SVG, in the Tiny PS profile BIMI wants.
func (c *checker) bimiLogo(u string, find func(Severity, string, ...any)) {
	f, problem := c.fetch(u, bimiLogoLimit)
	switch {
	case c.opts.HTTP == nil:
		find(Note, "the logo at %s is not fetched", u)
		return
	case problem != "":
		find(Error, "the logo at %s cannot be fetched: %s", u, problem)
		return
	case f.status != 200:
		find(Error, "the logo at %s answers %d, not 200", u, f.status)
		return
	}
	if mt, _, err := mime.ParseMediaType(f.contentType); err != nil || mt != "image/svg+xml" {
		find(Warning, "the logo at %s is served as %q, not image/svg+xml", u, f.contentType)
	}
	switch {
	case f.tooLong:
		find(Warning, "the logo at %s is over %d KiB, which receivers may refuse", u, bimiLogoLimit/1024)
	case !bytes.Contains(f.body, []byte("<svg")):
		find(Error, "the logo at %s is not an SVG image", u)
	case !bytes.Contains(f.body, []byte(`baseProfile="tiny-ps"`)):
		find(Warning, "the logo at %s is not SVG Tiny PS (no baseProfile=\"tiny-ps\"), which receivers want", u)
	}
}

// bimiEvidence fetches the mark certificate: PEM, and valid now.
func (c *checker) bimiEvidence(u string, find func(Severity, string, ...any)) {
	f, problem := c.fetch(u, bimiEvidenceLimit)
	switch {
	case c.opts.HTTP == nil:
		find(Note, "the certificate at %s is not fetched", u)
		return
	case problem != "":
		find(Error, "the certificate at %s cannot be fetched: %s", u, problem)
		return
	case f.status != 200:
		find(Error, "the certificate at %s answers %d, not 200", u, f.status)
		return
	}
	var leaf *x509.Certificate
	rest := f.body
	for leaf == nil {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type == "CERTIFICATE" {
			cert, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				find(Error, "the certificate at %s does not parse: %v", u, err)
				return
			}
			leaf = cert
		}
	}
	now := c.opts.Now()
	switch {
	case leaf == nil:
		find(Error, "%s holds no PEM certificate (-----BEGIN CERTIFICATE-----)", u)
	case now.After(leaf.NotAfter):
		find(Error, "the mark certificate at %s expired on %s: receivers show no logo", u, leaf.NotAfter.UTC().Format(time.DateOnly))
	case leaf.NotAfter.Sub(now) < 14*24*time.Hour:
		find(Warning, "the mark certificate at %s expires on %s, in %s", u, leaf.NotAfter.UTC().Format(time.DateOnly), daysLeft(leaf.NotAfter, now))
	}
}
