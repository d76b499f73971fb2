package mailcheck

import (
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"strings"

	"github.com/miekg/dns"
)

// DKIM key sizes (RFC 8301 §3.2): verifiers refuse signatures made with
// RSA keys under 1024 bits, and signers should use 2048 or more.
const (
	dkimMinBits  = 1024
	dkimGoodBits = 2048
)

// dkim judges the key of one selector: there, one record, a public key
// of the kind its k= says, and large enough.
func (c *checker) dkim(s *domainState, selector string) {
	name := dns.CanonicalName(strings.ToLower(selector) + "._domainkey." + s.name)
	texts, a := c.res.txt(name)
	find := func(sev Severity, text, format string, args ...any) {
		c.at(s, "dkim", sev, name, dns.TypeTXT, text, format, args...)
	}
	if p := a.failed(); p != "" {
		find(Warning, "", "TXT at %s: %s; receivers cannot verify mail signed with selector %s", bare(name), p, selector)
		return
	}
	where := bare(name)
	if a.Final != name {
		where += " (a CNAME to " + bare(a.Final) + ")" // the key's host, a provider's
	}
	switch len(texts) {
	case 0:
		find(Error, "", "no key at %s: receivers fail every signature of selector %s", where, selector)
		return
	case 1:
	default:
		find(Warning, texts[1], "%d TXT records at %s: receivers may read either, and fail signatures with the other", len(texts), where)
		return
	}
	text := texts[0]
	tags := map[string]string{}
	for i, part := range strings.Split(text, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		tag, val, ok := strings.Cut(part, "=")
		tag = strings.TrimSpace(tag)
		if !ok {
			find(Error, text, "%q: want tag=value; receivers ignore the key (RFC 6376 §3.6.1)", part)
			return
		}
		if tag == "v" && (i != 0 || strings.TrimSpace(val) != "DKIM1") {
			find(Error, text, "v= must come first and be DKIM1; receivers ignore the key (RFC 6376 §3.6.1)")
			return
		}
		tags[tag] = strings.Join(strings.Fields(val), "")
	}
	p, ok := tags["p"]
	if !ok {
		find(Error, text, "no p= (public key); receivers ignore the record (RFC 6376 §3.6.1)")
		return
	}
	if p == "" {
		return // a revoked key (RFC 6376 §3.6.1): what it says
	}
	if h, ok := tags["h"]; ok && !strings.Contains(h, "sha256") {
		find(Warning, text, "h=%s allows only SHA-1, which verifiers refuse (RFC 8301 §3.1); drop h= or write h=sha256", h)
	}
	raw, err := base64.StdEncoding.DecodeString(p)
	if err != nil {
		find(Error, text, "p= is not base64; receivers fail every signature of selector %s", selector)
		return
	}
	k := tags["k"]
	if k == "" {
		k = "rsa"
	}
	switch k {
	case "rsa":
		bits, kind := rsaBits(raw)
		switch {
		case kind != "":
			find(Error, text, "k=rsa, but p= holds %s; receivers fail every signature of selector %s", kind, selector)
		case bits < dkimMinBits:
			find(Error, text, "a %d-bit RSA key: verifiers refuse keys under %d bits and fail the signatures (RFC 8301 §3.2); make a %d-bit key", bits, dkimMinBits, dkimGoodBits)
		case bits < dkimGoodBits:
			find(Warning, text, "a %d-bit RSA key: signers should use %d bits or more (RFC 8301 §3.2), and some receivers count shorter keys against the mail", bits, dkimGoodBits)
		}
	case "ed25519":
		if len(raw) == ed25519.PublicKeySize {
			return
		}
		if bits, kind := rsaBits(raw); kind == "" {
			find(Error, text, "k=ed25519, but p= holds a %d-bit RSA key; write k=rsa, or publish the 32-octet Ed25519 key (RFC 8463 §4.2)", bits)
			return
		}
		find(Error, text, "k=ed25519 wants a 32-octet key in p=, this one is %d octets (RFC 8463 §4.2)", len(raw))
	default:
		find(Error, text, "k=%s: receivers know rsa and ed25519 only, and ignore the key (RFC 6376 §3.6.1, RFC 8463)", k)
	}
}

// rsaBits reads an RSA public key as DKIM records hold it: a
// SubjectPublicKeyInfo (RFC 6376 §3.6.1), or the bare RSAPublicKey some
// publish. It returns the key's size, or says what the data is instead.
func rsaBits(raw []byte) (int, string) {
	if pub, err := x509.ParsePKIXPublicKey(raw); err == nil {
		switch k := pub.(type) {
		case *rsa.PublicKey:
			return k.N.BitLen(), ""
		case ed25519.PublicKey:
			return 0, "an Ed25519 key"
		default:
			return 0, "a key of another algorithm"
		}
	}
	if k, err := x509.ParsePKCS1PublicKey(raw); err == nil {
		return k.N.BitLen(), ""
	}
	if len(raw) == ed25519.PublicKeySize {
		return 0, "32 octets, an Ed25519 key's size"
	}
	return 0, "no public key that parses"
}
