package zone

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/miekg/dns"
	"gopkg.in/yaml.v3"
)

// Mail helpers are owner keys that expand to the standard records a mail
// domain publishes. What they produce is ordinary data: every query, check
// and export sees it as if it had been written as txt or mx.
//
// A helper that places its record at another name (dmarc at _dmarc, dkim at
// <selector>._domainkey, ...) refuses to share that name with a txt written
// by hand: each of those protocols reads exactly one record there, and a
// merge would silently publish two.

// mailOwner is what the helpers of one name wrote.
type mailOwner struct {
	generated []*parsedOwner // records at other names
}

func init() {
	for key, fn := range map[string]keyReader{
		"spf":     parseSPFHelper,
		"dmarc":   parseDMARCHelper,
		"dkim":    parseDKIMHelper,
		"mta_sts": parseMTASTSHelper,
		"tls_rpt": parseTLSRPTHelper,
		"null_mx": parseNullMXHelper,
	} {
		ownerKeys[key] = fn
	}
}

// generate adds a TXT record at prefix.owner on behalf of helper.
func (o *parsedOwner) generate(prefix string, text string, pos at, helper string) {
	name := prefix + "." + o.name
	rec := parsedRecord{rr: &dns.TXT{Hdr: header(name, dns.TypeTXT), Txt: txtStrings(text)}, pos: pos}
	for _, g := range o.mail.generated {
		if g.name == name {
			g.records = append(g.records, rec)
			return
		}
	}
	o.mail.generated = append(o.mail.generated, &parsedOwner{name: name, pos: pos, helper: helper, records: []parsedRecord{rec}})
}

// mergeGenerated adds the helpers' records to the zone's names.
func (r *reader) mergeGenerated(z *parsedZone) {
	byName := make(map[string]*parsedOwner, len(z.owners))
	for _, o := range z.owners {
		if _, dup := byName[o.name]; !dup {
			byName[o.name] = o
		}
	}
	// range reads z.owners once: the names appended below are not visited,
	// and need not be, as a generated name holds no helpers of its own.
	for _, o := range z.owners {
		for _, g := range o.mail.generated {
			// Only now is every key of o read: ttl may follow the helper.
			g.ttl = o.ttl
			if strings.HasPrefix(o.name, "*.") {
				r.diags.add(g.pos, Error, "%s on the wildcard %s: the record would sit below the wildcard, where no query finds it; write it on each name", g.helper, o.name)
				continue
			}
			if _, ok := dns.IsDomainName(g.name); !ok || len(g.name) > 255 {
				r.diags.add(g.pos, Error, "%s: %s is too long for a domain name (255 octets, 63 per label)", g.helper, g.name)
				continue
			}
			dst, ok := byName[g.name]
			if !ok {
				z.owners = append(z.owners, g)
				byName[g.name] = g
				continue
			}
			if dst.helper == "" {
				if txt := firstOfType(dst.records, dns.TypeTXT); txt != nil {
					r.diags.add(g.pos, Error, "%s: %s already has txt written at %s; publish it once, either with %s or as txt there",
						g.helper, strings.TrimSuffix(g.name, "."), txt.pos, g.helper)
					continue
				}
			}
			dst.records = append(dst.records, g.records...)
		}
	}
}

func firstOfType(recs []parsedRecord, t uint16) *parsedRecord {
	for i := range recs {
		if recs[i].rr.Header().Rrtype == t {
			return &recs[i]
		}
	}
	return nil
}

func parseSPFHelper(r *reader, o *parsedOwner, _ string, k, v *yaml.Node) {
	written, ok := r.scalar(v, "spf")
	if !ok {
		return
	}
	f := strings.Fields(written)
	if len(f) > 0 && strings.EqualFold(f[0], "v=spf1") {
		f = f[1:]
	}
	s := strings.Join(f, " ")
	if s == "" {
		r.diags.add(r.pos(k), Error, `spf: want the mechanisms, e.g. "mx -all"`)
		return
	}
	// links stands for the outbound addresses of every link, known only
	// when the zone is built with the configuration (outbound.go).
	plain := slices.DeleteFunc(slices.Clone(f), func(t string) bool { _, ok := spfLinksTerm(t); return ok })
	o.spfLinks = o.spfLinks || len(plain) < len(f)
	if _, err := parseSPF(strings.Join(append([]string{"v=spf1"}, plain...), " ")); err != nil {
		r.diags.add(r.pos(k), Error, "spf %q: %v", written, err)
		return
	}
	rr := &dns.TXT{Hdr: header(o.name, dns.TypeTXT), Txt: txtStrings("v=spf1 " + s)}
	o.records = append(o.records, parsedRecord{rr: rr, pos: r.pos(k)})
}

func parseNullMXHelper(r *reader, o *parsedOwner, _ string, k, v *yaml.Node) {
	if !r.boolValue(v, "null_mx") {
		return
	}
	rr := &dns.MX{Hdr: header(o.name, dns.TypeMX), Preference: 0, Mx: "."}
	o.records = append(o.records, parsedRecord{rr: rr, pos: r.pos(k)})
}

// boolValue reads true or false; anything else is reported as false.
func (r *reader) boolValue(n *yaml.Node, what string) bool {
	s, _ := r.choice(n, what, "true", "false")
	return s == "true"
}

// dmarcTags are the tags of RFC 7489 §6.3 in the order they are published
// (v first, p second, as §6.4 requires; the rest fixed so output is stable).
var dmarcTags = []string{"p", "sp", "adkim", "aspf", "pct", "fo", "rf", "ri", "rua", "ruf"}

func parseDMARCHelper(r *reader, o *parsedOwner, _ string, k, v *yaml.Node) {
	if n := deref(v); n.Kind == yaml.ScalarNode {
		// The record as text, e.g. "p=reject; rua=mailto:d@example.com".
		text := strings.TrimSpace(n.Value)
		first, _, _ := strings.Cut(text, ";")
		if tag, _, _ := dmarcTag(first); tag != "v" {
			text = "v=DMARC1; " + text
		}
		if err := checkDMARCRecord(strings.Split(text, ";")); err != nil {
			r.diags.add(r.pos(k), Error, "dmarc %q: %v", n.Value, err)
			return
		}
		o.generate("_dmarc", text, r.pos(k), "dmarc")
		return
	}
	if !r.isMapping(r.pos(k), v, "dmarc", "{p: reject, rua: \"mailto:dmarc@example.com\"}") {
		return
	}
	tags := make(map[string]string)
	bad := false
	for _, p := range r.pairs(v, "dmarc") {
		val, ok := r.dmarcValue(p.v, p.key)
		if !ok {
			bad = true
			continue
		}
		if err := checkDMARCTag(p.key, val); err != nil {
			r.errorf(p.k, "dmarc: %v", err)
			bad = true
			continue
		}
		tags[p.key] = val
	}
	if bad {
		return
	}
	if tags["p"] == "" {
		r.diags.add(r.pos(k), Error, "dmarc: want p: none, quarantine or reject (RFC 7489 §6.3)")
		return
	}
	o.generate("_dmarc", formatDMARC(tags), r.pos(k), "dmarc")
}

// dmarcValue reads a tag's value; rua and ruf may be lists.
func (r *reader) dmarcValue(n *yaml.Node, tag string) (string, bool) {
	if (tag == "rua" || tag == "ruf") && deref(n).Kind == yaml.SequenceNode {
		return strings.Join(r.strings(n, "dmarc "+tag), ","), true
	}
	return r.scalar(n, "dmarc "+tag)
}

func formatDMARC(tags map[string]string) string {
	parts := []string{"v=DMARC1"}
	for _, t := range dmarcTags {
		if v, ok := tags[t]; ok {
			parts = append(parts, t+"="+v)
		}
	}
	return strings.Join(parts, "; ")
}

// checkDMARCTag validates one tag of a DMARC record (RFC 7489 §6.3).
func checkDMARCTag(tag, val string) error {
	oneOf := func(words ...string) error {
		for _, w := range words {
			if strings.EqualFold(val, w) { // ABNF literals, RFC 7489 §6.4
				return nil
			}
		}
		return fmt.Errorf("%s %q: want one of %s", tag, val, strings.Join(words, ", "))
	}
	switch tag {
	case "p", "sp":
		return oneOf("none", "quarantine", "reject")
	case "adkim", "aspf":
		return oneOf("r", "s")
	case "pct":
		if n, err := strconv.Atoi(val); err != nil || n < 0 || n > 100 {
			return fmt.Errorf("pct %q: want a whole number from 0 to 100", val)
		}
	case "ri":
		if _, err := strconv.ParseUint(val, 10, 32); err != nil {
			return fmt.Errorf("ri %q: want a number of seconds", val)
		}
	case "fo":
		for _, f := range strings.Split(strings.ToLower(val), ":") {
			if f != "0" && f != "1" && f != "d" && f != "s" {
				return fmt.Errorf("fo %q: want 0, 1, d or s, several joined by ':'", val)
			}
		}
	case "rf":
		if !strings.EqualFold(val, "afrf") {
			return fmt.Errorf("rf %q: want afrf", val)
		}
	case "rua", "ruf":
		for _, u := range strings.Split(val, ",") {
			u = strings.TrimSpace(u)
			if !strings.HasPrefix(u, "mailto:") && !strings.HasPrefix(u, "https:") {
				if strings.Contains(u, "@") {
					return fmt.Errorf("%s %q: want a URI, e.g. \"mailto:%s\"", tag, u, u)
				}
				return fmt.Errorf("%s %q: want a mailto: URI, e.g. \"mailto:dmarc@example.com\"", tag, u)
			}
		}
	case "v":
		return fmt.Errorf("v: leave it out, v=DMARC1 is written for you")
	default:
		return fmt.Errorf("unknown tag %q; DMARC knows %s (RFC 7489 §6.3)", tag, strings.Join(dmarcTags, ", "))
	}
	return nil
}

// dmarcTag splits one "tag=value" of a DMARC record. The tag comes back
// lower case: tag names are ABNF literals, which match in any case (RFC
// 7489 §6.4, RFC 5234 §2.3), and blanks may surround the "=".
func dmarcTag(part string) (tag, val string, ok bool) {
	tag, val, ok = strings.Cut(part, "=")
	return strings.ToLower(strings.TrimSpace(tag)), strings.TrimSpace(val), ok
}

// checkDMARCRecord validates a DMARC record written as text, by hand as txt
// or in the dmarc helper's short form. It takes the record split at ';' so
// that checkDMARCText, which reads the parts too, splits only once.
func checkDMARCRecord(parts []string) error {
	// The version's value is spelled in octets: DMARC1 in capitals only.
	if tag, val, _ := dmarcTag(parts[0]); tag != "v" || val != "DMARC1" {
		return fmt.Errorf("want v=DMARC1 first")
	}
	hasP := false
	for _, part := range parts[1:] {
		if strings.TrimSpace(part) == "" {
			continue
		}
		tag, val, ok := dmarcTag(part)
		if !ok {
			return fmt.Errorf("%q: want tag=value", strings.TrimSpace(part))
		}
		if tag == "p" {
			hasP = true
		}
		if err := checkDMARCTag(tag, val); err != nil {
			return err
		}
	}
	if !hasP {
		return fmt.Errorf("want p=none, quarantine or reject (RFC 7489 §6.3)")
	}
	return nil
}

func parseDKIMHelper(r *reader, o *parsedOwner, _ string, k, v *yaml.Node) {
	items := []*yaml.Node{v}
	list := deref(v).Kind == yaml.SequenceNode
	if list {
		items = deref(v).Content
	}
	seen := make(map[string]at)
	for _, item := range items {
		// A finding about one key of a list points at that item.
		pos := r.pos(k)
		if list {
			pos = r.pos(item)
		}
		if !r.isMapping(pos, item, "dkim", "{selector: s1, key: <base64 public key>}") {
			continue
		}
		var selector, key, flags string
		alg := "rsa"
		var selNode *yaml.Node
		ok := true // false once a value was reported: one mistake, one finding
		read := func(v string, good bool) string { ok = ok && good; return v }
		r.fields(item, "dkim", map[string]func(*yaml.Node){
			"selector": func(v *yaml.Node) { selector = read(r.scalar(v, "dkim selector")); selNode = v },
			"key":      func(v *yaml.Node) { key = read(r.scalar(v, "dkim key")) },
			"k":        func(v *yaml.Node) { alg = read(r.choice(v, "dkim k", "rsa", "ed25519")) },
			"t":        func(v *yaml.Node) { flags = read(r.choice(v, "dkim t", "y", "s", "y:s")) },
		})
		if !ok {
			continue
		}
		if selector == "" || key == "" {
			r.diags.add(pos, Error, "dkim: want {selector: s1, key: <base64 public key>}")
			continue
		}
		sel := strings.ToLower(selector)
		if !validSelector(sel) {
			r.errorf(selNode, "dkim selector %q: want a name such as s1 or 2026a: letters, digits and inner '-', parts joined by '.' (RFC 6376 §3.1)", selector)
			continue
		}
		if p, dup := seen[sel]; dup {
			r.errorf(selNode, "dkim selector %q is written twice (first at %s); give each key its own selector", selector, p)
			continue
		}
		seen[sel] = r.pos(selNode)
		key = strings.Join(strings.Fields(key), "")
		raw, err := base64.StdEncoding.DecodeString(key)
		if err != nil || len(raw) == 0 {
			r.diags.add(pos, Error, "dkim %s: key is not base64; paste the p= value of the public key (without the BEGIN/END lines)", selector)
			continue
		}
		if alg == "ed25519" && len(raw) != 32 {
			r.diags.add(pos, Error, "dkim %s: an ed25519 key is 32 octets, this one is %d (RFC 8463)", selector, len(raw))
			continue
		}
		text := "v=DKIM1; k=" + alg + "; "
		if flags != "" {
			text += "t=" + flags + "; "
		}
		o.generate(sel+"._domainkey", text+"p="+key, pos, "dkim")
	}
}

// validSelector reports whether s (lower case) is a DKIM selector:
// sub-domains of RFC 5321 §4.1.2 joined by dots (RFC 6376 §3.1). Anything
// wider would publish more than a key: "*" a wildcard under _domainkey.
func validSelector(s string) bool {
	for _, l := range strings.Split(s, ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, c := range l {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

func parseMTASTSHelper(r *reader, o *parsedOwner, _ string, k, v *yaml.Node) {
	var id string
	var ok bool
	if deref(v).Kind == yaml.ScalarNode {
		id, ok = r.mtaSTSID(v, "mta_sts") // mta_sts: "20261123" is short for {id: "20261123"}
	} else {
		ok = deref(v).Kind == yaml.MappingNode // fields reports anything else
		r.fields(v, "mta_sts", map[string]func(*yaml.Node){
			"id": func(v *yaml.Node) { id, ok = r.mtaSTSID(v, "mta_sts id") },
		})
	}
	if !ok {
		return // reported where it was written
	}
	if id == "" || len(id) > 32 || strings.IndexFunc(id, func(c rune) bool {
		return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9')
	}) >= 0 {
		r.diags.add(r.pos(k), Error, "mta_sts: want {id: ...} of 1 to 32 letters and digits, changed whenever the policy changes, e.g. id: \"20261123\" (RFC 8461 §3.1)")
		return
	}
	o.generate("_mta-sts", "v=STSv1; id="+id, r.pos(k), "mta_sts")
}

// mtaSTSID reads a policy id. The id is text, but YAML reads a bare true
// or false as a yes/no, whose spelling would be published as the id
// without anyone having meant it: refuse it, as scalar refuses null.
func (r *reader) mtaSTSID(n *yaml.Node, what string) (string, bool) {
	s, ok := r.scalar(n, what)
	if ok && deref(n).Tag == "!!bool" {
		r.errorf(n, "%s: want the policy id, e.g. \"20261123\", got the yes/no value %s (quote it if it is the id)", what, s)
		return "", false
	}
	return s, ok
}

func parseTLSRPTHelper(r *reader, o *parsedOwner, _ string, k, v *yaml.Node) {
	uris := r.strings(v, "tls_rpt")
	if len(uris) == 0 {
		return
	}
	for _, u := range uris {
		if !strings.HasPrefix(u, "mailto:") && !strings.HasPrefix(u, "https://") {
			r.diags.add(r.pos(k), Error, "tls_rpt %q: want a mailto: or https:// URI, e.g. \"mailto:tlsrpt@example.com\" (RFC 8460 §3)", u)
			return
		}
	}
	o.generate("_smtp._tls", "v=TLSRPTv1; rua="+strings.Join(uris, ","), r.pos(k), "tls_rpt")
}

// isMapping reports whether n is a mapping, explaining the expected form
// when it is not.
func (r *reader) isMapping(pos at, n *yaml.Node, what, example string) bool {
	if deref(n).Kind == yaml.MappingNode {
		return true
	}
	r.diags.add(pos, Error, "%s: want a mapping such as %s, got %s", what, example, kindName(deref(n)))
	return false
}
