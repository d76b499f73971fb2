package zone

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/miekg/dns"
	"gopkg.in/yaml.v3"
)

// keyReader reads the value v of key k into the owner. Findings about the
// value as a whole point at k, where the reader looks for a helper.
type keyReader func(r *reader, o *parsedOwner, origin string, k, v *yaml.Node)

// ownerKeys are the keys a name's mapping may hold; each reads its value
// into the owner. Helpers that expand to standard records add theirs here.
var ownerKeys = map[string]keyReader{
	"ttl": func(r *reader, o *parsedOwner, _ string, _, v *yaml.Node) {
		if t, ok := r.uint32Value(v, "ttl", 0, maxTTL); ok {
			o.ttl = &t
		}
	},
	"link_mode": func(r *reader, o *parsedOwner, _ string, _, v *yaml.Node) {
		if s, _ := r.choice(v, "link_mode", "balance", "failover"); s == "failover" {
			o.linkMode = linkFailover
		}
	},
	"mx_publish": func(r *reader, o *parsedOwner, _ string, _, v *yaml.Node) {
		switch s, _ := r.choice(v, "mx_publish", "all", "healthy", "primary"); s {
		case "all":
			o.mxPublish = publishAll
		case "primary":
			o.mxPublish = publishPrimary
		}
	},
	"a":    func(r *reader, o *parsedOwner, _ string, _, v *yaml.Node) { r.addresses(o, v, dns.TypeA) },
	"aaaa": func(r *reader, o *parsedOwner, _ string, _, v *yaml.Node) { r.addresses(o, v, dns.TypeAAAA) },
	"mx":   eachValue("mx", parseMX),
	"srv":  eachValue("srv", parseSRV),
	"ptr":  eachValue("ptr", parsePTR),
	"txt":  eachValue("txt", parseTXT),
	"ns":   eachValue("ns", parseNS),
	"caa":  eachValue("caa", parseCAA),
	"ds":   eachValue("ds", parseDS),
	"tlsa": readTLSA,
	"cname": func(r *reader, o *parsedOwner, origin string, k, v *yaml.Node) {
		if n := deref(v); n.Kind == yaml.SequenceNode && len(n.Content) > 1 {
			r.errorf(v, "cname: a name has at most one CNAME (RFC 2181 §10.1)")
			return
		}
		eachValue("cname", parseCNAME)(r, o, origin, k, v)
	},
}

// valueParser turns one written value into a record for owner, or explains
// what was expected.
type valueParser func(owner, origin, value string) (dns.RR, error)

func eachValue(key string, parse valueParser) keyReader {
	return func(r *reader, o *parsedOwner, origin string, _, v *yaml.Node) {
		for _, item := range r.list(v, key) {
			rr, err := parse(o.name, origin, item.Value)
			if err != nil {
				r.errorf(item, "%s %q: %v", key, item.Value, err)
				continue
			}
			if r.countRecord(item) {
				o.records = append(o.records, parsedRecord{rr: rr, pos: r.pos(item)})
			}
		}
	}
}

func (r *reader) owner(origin string, k, v *yaml.Node) *parsedOwner {
	name, err := resolveName(k.Value, origin)
	if err != nil {
		r.errorf(k, "name %q: %v", k.Value, err)
		return nil
	}
	if !inZone(name, origin) {
		r.errorf(k, "name %q is outside zone %s", k.Value, strings.TrimSuffix(origin, "."))
		return nil
	}
	labels := dns.SplitDomainName(name)
	for i, l := range labels {
		if l == "*" && i > 0 {
			r.errorf(k, "name %q: a wildcard '*' must be the leftmost label", k.Value)
			return nil
		}
	}
	o := &parsedOwner{name: name, pos: r.pos(k)}
	what := "name " + k.Value
	if n := deref(v); n.Kind == yaml.ScalarNode {
		r.errorf(v, "%s: want a mapping of record keys such as {a: 192.0.2.1}, got %s", what, kindName(n))
		return nil
	}
	if n := deref(v); n.Kind == yaml.MappingNode && len(n.Content) == 0 {
		r.warnf(v, "%s has no records", what)
	}
	if r.probe != nil {
		walk(r.probe, v, ownerKeys, func(key string, fn keyReader, v *yaml.Node) {
			fn(r, o, origin, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, v)
		})
		return o
	}
	for _, p := range r.pairs(v, what) {
		fn, ok := ownerKeys[p.key]
		if !ok {
			r.errorf(p.k, "%s: unknown key %q; want one of %s", what, p.key, keyList(ownerKeys))
			continue
		}
		fn(r, o, origin, p.k, p.v)
	}
	return o
}

// addresses reads an a or aaaa value: one address, a list, or a mapping
// from link names to one address or a list.
func (r *reader) addresses(o *parsedOwner, v *yaml.Node, t uint16) {
	key := strings.ToLower(dns.TypeToString[t])
	add := func(items []*yaml.Node, link string, linkPos at) {
		for _, item := range items {
			rr, err := parseAddress(o.name, t, item.Value)
			if err != nil {
				r.errorf(item, "%s %q: %v", key, item.Value, err)
				continue
			}
			if r.countRecord(item) {
				o.records = append(o.records, parsedRecord{rr: rr, pos: r.pos(item), link: link, linkPos: linkPos})
			}
		}
	}
	if n := deref(v); n.Kind == yaml.MappingNode {
		for _, p := range r.pairs(n, key) {
			add(r.list(p.v, key+" on "+p.key), p.key, r.pos(p.k))
		}
		return
	}
	add(r.list(v, key), "", at{})
}

func header(owner string, t uint16) dns.RR_Header {
	return dns.RR_Header{Name: owner, Rrtype: t, Class: dns.ClassINET}
}

func parseAddress(owner string, t uint16, s string) (dns.RR, error) {
	ip := net.ParseIP(s)
	if t == dns.TypeA {
		if ip == nil || ip.To4() == nil || strings.Contains(s, ":") {
			return nil, fmt.Errorf("want an IPv4 address such as 192.0.2.1")
		}
		return &dns.A{Hdr: header(owner, t), A: ip.To4()}, nil
	}
	if ip == nil || !strings.Contains(s, ":") {
		return nil, fmt.Errorf("want an IPv6 address such as 2001:db8::1")
	}
	return &dns.AAAA{Hdr: header(owner, t), AAAA: ip}, nil
}

func parseMX(owner, origin, s string) (dns.RR, error) {
	pref, host, ok := strings.Cut(s, ";")
	if !ok {
		example := "10;mx1"
		if f := strings.Fields(s); len(f) == 2 {
			if _, err := strconv.ParseUint(f[0], 10, 16); err == nil {
				example = f[0] + ";" + f[1]
			}
		}
		return nil, fmt.Errorf("want \"pref;host\", e.g. %q", example)
	}
	p, err := strconv.ParseUint(strings.TrimSpace(pref), 10, 16)
	if err != nil {
		return nil, fmt.Errorf("preference %q: want a whole number from 0 to 65535 before the ';'", pref)
	}
	host = strings.TrimSpace(host)
	if net.ParseIP(strings.Trim(strings.TrimSuffix(host, "."), "[]")) != nil {
		return nil, fmt.Errorf("host %q is an IP address; an MX names a host, which has the address (RFC 5321 §5.1)", host)
	}
	target, err := resolveName(host, origin)
	if err != nil {
		return nil, fmt.Errorf("host %q: %v", host, err)
	}
	return &dns.MX{Hdr: header(owner, dns.TypeMX), Preference: uint16(p), Mx: target}, nil
}

func parseSRV(owner, origin, s string) (dns.RR, error) {
	const want = `want "priority weight port target", e.g. "0 1 587 mx1"`
	f := strings.Fields(s)
	if len(f) != 4 {
		return nil, fmt.Errorf("%s", want)
	}
	var n [3]uint16
	for i := range n {
		v, err := strconv.ParseUint(f[i], 10, 16)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number from 0 to 65535; %s", f[i], want)
		}
		n[i] = uint16(v)
	}
	target, err := resolveName(f[3], origin)
	if err != nil {
		return nil, fmt.Errorf("target %q: %v", f[3], err)
	}
	return &dns.SRV{Hdr: header(owner, dns.TypeSRV), Priority: n[0], Weight: n[1], Port: n[2], Target: target}, nil
}

// hostName resolves a value that names a host: any name but the root.
func hostName(s, origin string) (string, error) {
	name, err := resolveName(s, origin)
	if err == nil && name == "." {
		return "", errors.New("want a host name, not the root")
	}
	return name, err
}

func parsePTR(owner, origin, s string) (dns.RR, error) {
	target, err := hostName(s, origin)
	if err != nil {
		return nil, err
	}
	return &dns.PTR{Hdr: header(owner, dns.TypePTR), Ptr: target}, nil
}

func parseNS(owner, origin, s string) (dns.RR, error) {
	target, err := hostName(s, origin)
	if err != nil {
		return nil, err
	}
	return &dns.NS{Hdr: header(owner, dns.TypeNS), Ns: target}, nil
}

func parseCNAME(owner, origin, s string) (dns.RR, error) {
	target, err := hostName(s, origin)
	if err != nil {
		return nil, err
	}
	return &dns.CNAME{Hdr: header(owner, dns.TypeCNAME), Target: target}, nil
}

// parseTXT never rejects a long value: it is split into character-strings
// of at most 255 octets, which is how DKIM keys must be published anyway.
func parseTXT(owner, _, s string) (dns.RR, error) {
	return &dns.TXT{Hdr: header(owner, dns.TypeTXT), Txt: txtStrings(s)}, nil
}

// txtStrings splits text into character-strings of at most 255 octets,
// escaped the way miekg/dns packs them (a backslash starts an escape).
func txtStrings(s string) []string {
	if s == "" {
		return []string{""}
	}
	var out []string
	for len(s) > 0 {
		n := min(len(s), 255)
		chunk := s[:n]
		s = s[n:]
		out = append(out, strings.ReplaceAll(chunk, `\`, `\\`))
	}
	return out
}

func parseCAA(owner, _, s string) (dns.RR, error) {
	const want = `want "flags tag value", e.g. '0 issue "letsencrypt.org"'`
	flags, rest := cutField(s)
	tag, rest := cutField(rest)
	value := strings.TrimSpace(rest)
	if value == "" {
		return nil, fmt.Errorf("%s", want)
	}
	flag, err := strconv.ParseUint(flags, 10, 8)
	if err != nil {
		return nil, fmt.Errorf("flags %q: want 0 to 255; %s", flags, want)
	}
	// RFC 8659 §4.1: letters and digits only, its length in one octet.
	if len(tag) > 255 || strings.IndexFunc(tag, func(c rune) bool {
		return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9')
	}) >= 0 {
		return nil, fmt.Errorf("tag %q: want up to 255 letters and digits (issue, issuewild, iodef)", tag)
	}
	if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
		value = value[1 : len(value)-1]
	}
	return &dns.CAA{Hdr: header(owner, dns.TypeCAA), Flag: uint8(flag), Tag: tag, Value: value}, nil
}

// cutField splits off the first blank-separated field of s, however many
// blanks precede it, and returns the rest as written.
func cutField(s string) (field, rest string) {
	s = strings.TrimLeft(s, " \t")
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		return s[:i], s[i:]
	}
	return s, ""
}

func parseTLSA(owner, _, s string) (dns.RR, error) {
	const want = `want "usage selector matching-type hex", e.g. "3 1 1 0123...abcd"`
	f := strings.Fields(s)
	if len(f) < 4 {
		return nil, fmt.Errorf("%s", want)
	}
	limits := [3]uint64{3, 1, 2}
	var n [3]uint8
	for i := range n {
		v, err := strconv.ParseUint(f[i], 10, 8)
		if err != nil || v > limits[i] {
			return nil, fmt.Errorf("%q: want a number from 0 to %d; %s", f[i], limits[i], want)
		}
		n[i] = uint8(v)
	}
	data := strings.ToLower(strings.Join(f[3:], ""))
	raw, err := hex.DecodeString(data) // data is not empty: f[3] is a field
	if err != nil {
		return nil, fmt.Errorf("certificate data is not hexadecimal; %s", want)
	}
	// Matching types 1 and 2 are SHA-256 and SHA-512 digests (RFC 6698 §2.1.3).
	if wantLen := [3]int{0, 32, 64}[n[2]]; wantLen != 0 && len(raw) != wantLen {
		return nil, fmt.Errorf("matching type %d wants %d octets of digest, got %d", n[2], wantLen, len(raw))
	}
	return &dns.TLSA{Hdr: header(owner, dns.TypeTLSA), Usage: n[0], Selector: n[1], MatchingType: n[2], Certificate: data}, nil
}
