package route

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/dnslookup"
)

// DANE is what an MX host publishes for DANE (RFC 7672): its TLSA records
// at _25._tcp, and whether they can be trusted.
type DANE struct {
	// Status is "validated" (the server asked, a validating resolver,
	// set AD), "signed" (an authoritative server's signatures verify
	// under the zone's own DNSKEY set; the chain above it is a
	// resolver's to check), "unsigned" (senders ignore the records),
	// "bogus" (signatures do not verify: DANE senders defer mail) or
	// "unknown" (the server does not answer for the name).
	Status string   `json:"status"`
	TLSA   []string `json:"tlsa,omitempty"`
	Detail string   `json:"detail,omitempty"`
}

// dane asks for the TLSA of host's SMTP port with the DO bit, as a DANE
// sender does; nil when there is none.
func (r *resolver) dane(host string) *DANE {
	name := "_25._tcp." + host
	resp, err := r.ex(r.ctx, queryDO(name, dns.TypeTLSA))
	if err != nil {
		return &DANE{Status: "unknown", Detail: err.Error()}
	}
	if resp.Rcode != dns.RcodeSuccess && resp.Rcode != dns.RcodeNameError {
		return &DANE{Status: "unknown", Detail: "the server answered " + dns.RcodeToString[resp.Rcode]}
	}
	var tlsa []dns.RR
	var sigs []*dns.RRSIG
	for _, rr := range resp.Answer {
		switch rr := rr.(type) {
		case *dns.TLSA:
			if dns.CanonicalName(rr.Hdr.Name) == name {
				tlsa = append(tlsa, rr)
			}
		case *dns.RRSIG:
			if rr.TypeCovered == dns.TypeTLSA {
				sigs = append(sigs, rr)
			}
		}
	}
	if len(tlsa) == 0 {
		return nil
	}
	d := &DANE{}
	for _, rr := range tlsa {
		t := rr.(*dns.TLSA)
		d.TLSA = append(d.TLSA, fmt.Sprintf("%d %d %d %s", t.Usage, t.Selector, t.MatchingType, t.Certificate))
	}
	switch {
	case resp.AuthenticatedData:
		d.Status = "validated"
	case len(sigs) == 0:
		d.Status = "unsigned"
		r.warn("TLSA at %s is not signed: senders ignore it, DANE needs DNSSEC (RFC 7672 §2.2)", bare(name))
	default:
		if err := r.verify(tlsa, sigs); err != nil {
			d.Status, d.Detail = "bogus", err.Error()
			r.warn("TLSA at %s does not validate (%v): DANE senders defer mail to %s", bare(name), err, bare(host))
		} else {
			d.Status = "signed"
			d.Detail = "signatures verify under the zone's DNSKEY set; ask a validating resolver for the chain to the root"
		}
	}
	return d
}

// verify checks sigs over set with the signer's DNSKEY set, itself signed
// by one of its key-signing keys, as the server gives them.
func (r *resolver) verify(set []dns.RR, sigs []*dns.RRSIG) error {
	signer := sigs[0].SignerName
	resp, err := r.ex(r.ctx, queryDO(signer, dns.TypeDNSKEY))
	if err != nil {
		return fmt.Errorf("DNSKEY of %s: %w", bare(signer), err)
	}
	var keys []dns.RR
	var keySigs []*dns.RRSIG
	for _, rr := range resp.Answer {
		switch rr := rr.(type) {
		case *dns.DNSKEY:
			keys = append(keys, rr)
		case *dns.RRSIG:
			if rr.TypeCovered == dns.TypeDNSKEY {
				keySigs = append(keySigs, rr)
			}
		}
	}
	now := time.Now()
	if !verifiedBy(keys, keySigs, keys, true, now) {
		return errors.New("the DNSKEY set of " + bare(signer) + " is not signed by its own key-signing key")
	}
	if !verifiedBy(set, sigs, keys, false, now) {
		return errors.New("no RRSIG verifies under the DNSKEY set of " + bare(signer) + ", or none is valid now")
	}
	return nil
}

// verifiedBy reports whether some signature over set verifies with one of
// keys (with sep, a key-signing key) and is valid at now.
func verifiedBy(set []dns.RR, sigs []*dns.RRSIG, keys []dns.RR, sep bool, now time.Time) bool {
	for _, sig := range sigs {
		for _, k := range keys {
			key := k.(*dns.DNSKEY)
			if key.KeyTag() != sig.KeyTag || sep && key.Flags&dns.SEP == 0 {
				continue
			}
			if sig.Verify(key, set) == nil && sig.ValidityPeriod(now) {
				return true
			}
		}
	}
	return false
}

// queryDO is dnslookup.Query with the DO bit: what a DANE sender's resolver asks.
func queryDO(name string, qtype uint16) *dns.Msg {
	q := dnslookup.Query(name, qtype)
	q.IsEdns0().SetDo()
	return q
}

// daneLine is the DANE state of a host for people.
func daneLine(d *DANE) string {
	s := "DANE: " + d.Status
	if len(d.TLSA) > 0 {
		s += ", TLSA " + strings.Join(shortTLSA(d.TLSA), ", ")
	}
	if d.Detail != "" && d.Status != "validated" {
		s += " (" + d.Detail + ")"
	}
	return s
}

func shortTLSA(recs []string) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		if len(r) > 22 {
			r = r[:22] + "..."
		}
		out[i] = r
	}
	return out
}
