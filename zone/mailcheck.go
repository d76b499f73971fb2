package zone

import (
	"fmt"
	"math/bits"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/spf"
)

// checkMail runs the checks that catch the mistakes mail hosting is bitten
// by: broken SPF and DMARC, an apex that receives mail by accident, MX
// sets that hang on one link, and backups nobody filters.
func (s *Snapshot) checkMail(pz *parsedZone, diags *Diagnostics) {
	apex := s.zones[pz.origin].nodes.at(pz.origin) // buildZone always makes it
	implicitMX := !isReverse(pz.origin) && apex.hasAddress() && apex.set(dns.TypeMX) == nil
	for _, o := range pz.owners {
		s.checkSPF(o, diags)
		checkDMARCText(o, diags)
		s.checkMXSet(pz, o, diags)
		s.checkMTASTS(o, diags)
		s.checkDANE(pz, o, diags)
		if implicitMX && o.name == pz.origin {
			diags.add(o.pos, Warning, "%s has an address but no mx: senders deliver its mail to that address (implicit MX, RFC 5321 §5.1); add mx, or null_mx: true if it takes no mail", o.name)
		}
	}
}

// checkDANE warns of TLSA records that cannot do what they are for: in
// a zone not signed, no sender trusts them (RFC 7672 §2.2); for SMTP at
// a host no MX of our zones names, senders never look them up (§2.2.2).
func (s *Snapshot) checkDANE(pz *parsedZone, o *parsedOwner, diags *Diagnostics) {
	var first *parsedRecord
	for i := range o.records {
		if o.records[i].rr.Header().Rrtype == dns.TypeTLSA {
			first = &o.records[i]
			break
		}
	}
	if first == nil {
		return
	}
	if z := s.zones[pz.origin]; z.dnssec == nil {
		diags.add(first.pos, Warning, "tlsa at %s: DANE needs DNSSEC: senders ignore TLSA records in a zone that is not signed; sign it with dnssec: on", strings.TrimSuffix(o.name, "."))
	}
	if host, ok := strings.CutPrefix(o.name, "_25._tcp."); ok && !s.isMXTarget(host) {
		diags.add(first.pos, Warning, "tlsa at %s: no MX of these zones names %s: senders look up _25._tcp TLSA only at MX hosts (RFC 7672 §2.2.2)",
			strings.TrimSuffix(o.name, "."), strings.TrimSuffix(host, "."))
	}
}

// checkMTASTS warns when a name publishes an MTA-STS record, by hand or
// with mta_sts, but the policy host has no address to fetch it from.
func (s *Snapshot) checkMTASTS(o *parsedOwner, diags *Diagnostics) {
	domain, ok := strings.CutPrefix(o.name, "_mta-sts.")
	if !ok {
		return
	}
	for _, rec := range o.records {
		if txt, isTXT := rec.rr.(*dns.TXT); !isTXT || !strings.HasPrefix(txtText(txt), "v=STSv1") {
			continue
		}
		host := "mta-sts." + domain
		if t, ok := s.resolveTarget(host); ok && (t.node == nil || !t.node.hasAddress() && t.node.set(dns.TypeCNAME) == nil) {
			diags.add(rec.pos, Warning, "mta_sts: %s has no address; senders fetch the policy from https://%s/.well-known/mta-sts.txt (RFC 8461 §3.2)", host, strings.TrimSuffix(host, "."))
		}
		return
	}
}

// nullMX returns a name's null MX (RFC 7505), written by hand or with
// null_mx: its only MX, naming the root. A null MX beside others is an
// error of its own, reported when the zone is built.
func nullMX(o *parsedOwner) *parsedRecord {
	var found *parsedRecord
	for i, rec := range o.records {
		if mx, ok := rec.rr.(*dns.MX); ok {
			if found != nil || mx.Mx != "." {
				return nil
			}
			found = &o.records[i]
		}
	}
	return found
}

// failsAll reports whether an SPF record's all, the first one as receivers
// read it, is -all.
func failsAll(terms []spf.Term) bool {
	for _, t := range terms {
		if t.Name == "all" {
			return t.Qualifier == '-'
		}
	}
	return false
}

// spfText returns the SPF records among a name's records.
func spfRecords(o *parsedOwner) []parsedRecord {
	var out []parsedRecord
	for _, rec := range o.records {
		if txt, ok := rec.rr.(*dns.TXT); ok && spf.IsRecord(txtText(txt)) {
			out = append(out, rec)
		}
	}
	return out
}

// txtText is a TXT record's strings as one text, unescaped.
func txtText(txt *dns.TXT) string {
	return strings.ReplaceAll(strings.Join(txt.Txt, ""), `\\`, `\`)
}

func (s *Snapshot) checkSPF(o *parsedOwner, diags *Diagnostics) {
	null := nullMX(o)
	recs := spfRecords(o)
	for i, rec := range recs {
		if i > 0 {
			diags.add(rec.pos, Error, "%s has more than one SPF record (first at %s); receivers then fail every check with permerror (RFC 7208 §4.5): merge them into one", o.name, recs[0].pos)
			continue
		}
		text := txtText(o.spfLinksRR(rec.rr, s.spfTerms()).(*dns.TXT))
		terms, err := spf.Parse(text)
		if err != nil {
			if slices.ContainsFunc(strings.Fields(text), func(f string) bool { _, ok := spfLinksTerm(f); return ok }) {
				err = fmt.Errorf("%v; links is a term of the spf helper: write spf: instead of txt:", err)
			}
			diags.add(rec.pos, Error, "spf: %v", err)
			continue
		}
		if o.spfLinks && len(s.spfTerms()) == 0 {
			diags.add(rec.pos, Warning, "spf: the links term adds nothing: no link has outbound addresses (links.NAME.outbound)")
		}
		for _, t := range terms {
			if t.Name == "ptr" {
				diags.add(rec.pos, Warning, "spf: the ptr mechanism is slow and unreliable, and must not be used (RFC 7208 §5.5); list the addresses with ip4:/ip6: or a/mx")
			}
		}
		n, err := s.spfLookups(terms, map[string]bool{o.name: true})
		switch {
		case err != nil:
			diags.add(rec.pos, Error, "spf: %v", err)
		case n > spf.LookupLimit:
			diags.add(rec.pos, Error, "spf: %d DNS-querying terms (include, a, mx, ptr, exists, redirect, counting through includes of names we serve); receivers give up after %d with permerror (RFC 7208 §4.6.4): replace some with ip4:/ip6:", n, spf.LookupLimit)
		}
		if null != nil && !failsAll(terms) {
			diags.add(rec.pos, Warning, "%s has a null MX but its SPF does not end in -all; a name that sends no mail should publish spf: \"-all\"", o.name)
		}
	}
	if null != nil && len(recs) == 0 {
		diags.add(null.pos, Warning, "%s takes no mail (null MX) but has no SPF; add spf: \"-all\" so that nobody can send as it either (RFC 7505 §4.2)", o.name)
	}
}

// spfLookups counts the DNS-querying terms a receiver evaluates, following
// include: and redirect= into the names we serve.
func (s *Snapshot) spfLookups(terms []spf.Term, visiting map[string]bool) (int, error) {
	n := 0
	hasAll := false
	for _, t := range terms {
		hasAll = hasAll || t.Name == "all"
	}
	for _, t := range terms {
		if !t.Queries() || t.Name == "redirect" && hasAll {
			continue // redirect= is ignored when all is present (RFC 7208 §6.1)
		}
		n++
		if t.Name != "include" && t.Name != "redirect" || strings.Contains(t.Domain, "%") {
			continue
		}
		d, err := canonicalName(t.Domain)
		if err != nil {
			return 0, fmt.Errorf("%s %q: %v", t.Name, t.Domain, err)
		}
		target, ok := s.followCNAMEs(d) // receivers follow a CNAME to the SPF record like any resolver
		if !ok {
			continue
		}
		if visiting[d] {
			return 0, fmt.Errorf("%s %s leads back to itself; receivers fail with permerror", t.Name, strings.TrimSuffix(d, "."))
		}
		text, found := spfAt(target.node)
		if !found {
			return 0, fmt.Errorf("%s %s: we serve that name and it has no SPF record; receivers fail with permerror (RFC 7208 §5.2)", t.Name, strings.TrimSuffix(d, "."))
		}
		sub, err := spf.Parse(text)
		if err != nil {
			continue // reported at its own record
		}
		visiting[d] = true
		m, err := s.spfLookups(sub, visiting)
		delete(visiting, d)
		if err != nil {
			return 0, err
		}
		n += m
	}
	return n, nil
}

func spfAt(n *node) (string, bool) {
	if n == nil {
		return "", false
	}
	set := n.set(dns.TypeTXT)
	if set == nil {
		return "", false
	}
	for _, rr := range set.rrs {
		if text := txtText(rr.(*dns.TXT)); spf.IsRecord(text) {
			return text, true
		}
	}
	return "", false
}

// checkDMARCText validates DMARC records written by hand as txt.
func checkDMARCText(o *parsedOwner, diags *Diagnostics) {
	if !strings.HasPrefix(o.name, "_dmarc.") {
		return
	}
	for _, rec := range o.records {
		txt, ok := rec.rr.(*dns.TXT)
		if !ok {
			continue
		}
		text := txtText(txt)
		parts := strings.Split(text, ";")
		if tag, val, _ := dmarcTag(parts[0]); tag != "v" || !strings.HasPrefix(strings.ToUpper(val), "DMARC1") {
			continue
		}
		if err := checkDMARCRecord(parts); err != nil {
			diags.add(rec.pos, Error, "dmarc record: %v", err)
			continue
		}
		// checkDMARCRecord found p, so a second part exists.
		if tag, _, _ := dmarcTag(parts[1]); tag != "p" {
			diags.add(rec.pos, Warning, "dmarc record: put p= right after v=DMARC1 (RFC 7489 §6.4); strict receivers ignore the record otherwise")
		}
	}
}

// checkMXSet warns about MX sets that look healthy but are fragile.
func (s *Snapshot) checkMXSet(pz *parsedZone, o *parsedOwner, diags *Diagnostics) {
	mxRec := firstOfType(o.records, dns.TypeMX)
	if mxRec == nil {
		return
	}
	z := s.zones[pz.origin]
	n := z.nodes.at(o.name)
	if n == nil || n.set(dns.TypeMX) == nil {
		return
	}
	set := n.set(dns.TypeMX)
	if len(set.rrs) == 0 || set.rrs[0].(*dns.MX).Mx == "." {
		return
	}
	var links LinkSet
	health := s.mxLinked.at(set).health // nil: no target depends on a link
	always := health == nil
	for _, h := range health {
		always = always || h.always
		links |= h.links
	}
	if !always && bits.OnesCount64(uint64(links)) == 1 {
		name := s.settings.Links[bits.TrailingZeros64(uint64(links))].Name
		diags.add(mxRec.pos, Warning, "every mx of %s is reachable only through link %s: while it is down no MX host answers and mail waits in senders' queues (single point of failure); give a host an address on another link", o.name, name)
	}
	primary := set.rrs[0].(*dns.MX).Preference
	for _, rec := range o.records {
		mx, ok := rec.rr.(*dns.MX)
		if !ok || mx.Preference == primary || mx.Mx == "." {
			continue
		}
		if s.findZone(mx.Mx) != nil { // ours, this zone's included
			continue
		}
		diags.add(rec.pos, Warning, "backup mx %s is in another domain: make sure it filters spam and knows your valid recipients like the primary does, or spammers will deliver through it", mx.Mx)
	}
}
