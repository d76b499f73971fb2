// Package zonefile converts between RFC 1035 master files and mxdns's
// YAML zones.
package zonefile

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/miekg/dns"
	"gopkg.in/yaml.v3"
)

// Error is one finding of Import, at file:line.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// Errors are all findings of one Import.
type Errors []*Error

func (es Errors) Error() string {
	var b strings.Builder
	for i, e := range es {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// record is one parsed record and where it was written.
type record struct {
	rr   dns.RR
	line int
}

// Options tune Import.
type Options struct {
	// Origin is the zone's name; when empty, the owner of the file's SOA.
	Origin string
	// JoinTXT accepts any TXT record split into character-strings other
	// than every 255 octets, joining them. Those whose readers join them
	// anyway (SPF, DKIM, DMARC, ...) are joined without it.
	JoinTXT bool
	// Strict makes a record of a type mxdns does not serve an error
	// rather than a warning and a record skipped.
	Strict bool
	// Helpers writes SPF, DKIM and DMARC records found with the mail
	// helpers (spf:, dkim:, dmarc:) where they give the very same text.
	Helpers bool
}

// Import reads a master file and returns the zone as mxdns YAML: a
// `zones:` mapping holding the one zone, usable as a zone_files file.
// A record of a type mxdns does not serve is skipped with a warning
// naming its line (an error with opts.Strict). Any other record that
// would be changed (TTLs that differ inside one name, TXT strings split
// where the split matters, a class other than IN) is an error naming its
// line; err then holds them all, an Errors.
func Import(text []byte, file string, opts Options) (out []byte, warnings Errors, err error) {
	recs, origin, err := parse(text, file, opts.Origin)
	if err != nil {
		return nil, nil, err
	}
	z, warnings, errs := convert(recs, file, origin, opts)
	if len(errs) > 0 {
		return nil, warnings, errs
	}
	if opts.Helpers {
		z.useHelpers()
	}
	out, err = z.yaml()
	return out, warnings, err
}

func parse(text []byte, file, origin string) ([]record, string, error) {
	entries, err := scanEntries(bytes.NewReader(text))
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", file, err)
	}
	var records []entry
	for _, e := range entries {
		switch e.directive {
		case "":
			records = append(records, e)
		case "$ORIGIN", "$TTL":
		default:
			return nil, "", &Error{file, e.line, e.directive + " is not supported: expand it into plain records first"}
		}
	}
	if origin != "" {
		origin = dns.CanonicalName(origin)
	} else if origin, err = soaOwner(text, file); err != nil {
		return nil, "", err
	}
	zp := dns.NewZoneParser(bytes.NewReader(text), origin, file)
	zp.SetDefaultTTL(3600)
	var out []record
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		line := 0
		if len(out) < len(records) {
			line = records[len(out)].line
		}
		out = append(out, record{rr, line})
	}
	if err := zp.Err(); err != nil {
		return nil, "", err
	}
	if len(out) != len(records) {
		return nil, "", fmt.Errorf("%s: %d records parsed from %d entries: cannot tell lines apart", file, len(out), len(records))
	}
	return out, origin, nil
}

// soaOwner finds the zone's name in a file that does not say it with
// $ORIGIN: the owner of its SOA, written absolute.
func soaOwner(text []byte, file string) (string, error) {
	zp := dns.NewZoneParser(bytes.NewReader(text), ".", file)
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		if rr.Header().Rrtype == dns.TypeSOA && rr.Header().Name != "." {
			return dns.CanonicalName(rr.Header().Name), nil
		}
	}
	return "", fmt.Errorf("%s: cannot tell the zone's name (no SOA with an absolute owner): give it with -origin", file)
}

// zoneYAML is the zone as it will be written.
type zoneYAML struct {
	origin string
	ttl    uint32
	soa    *dns.SOA
	ns     []string
	names  []*nameYAML
}

type nameYAML struct {
	name    string // relative, "@" for the apex
	ttl     uint32
	line    int
	sets    map[uint16][]string // values as written in YAML, in file order
	helpers []*yaml.Node        // mail helper keys and values, after the sets (helpers.go)
}

// keyOrder is the order record keys are written in.
var keyOrder = []uint16{dns.TypeCNAME, dns.TypeNS, dns.TypeMX, dns.TypeA, dns.TypeAAAA, dns.TypeTXT, dns.TypeSRV, dns.TypePTR, dns.TypeCAA, dns.TypeTLSA}

// served are the types mxdns serves: the SOA and those with a key.
var served = func() map[uint16]bool {
	m := map[uint16]bool{dns.TypeSOA: true}
	for _, t := range keyOrder {
		m[t] = true
	}
	return m
}()

func convert(recs []record, file, origin string, opts Options) (*zoneYAML, Errors, Errors) {
	var errs, warnings Errors
	fail := func(line int, format string, args ...any) {
		errs = append(errs, &Error{file, line, fmt.Sprintf(format, args...)})
	}
	z := &zoneYAML{origin: origin}
	names := make(map[string]*nameYAML)
	// setTTL and setLine track the first record of each RRset.
	type setKey struct {
		name  string
		rtype uint16
	}
	setTTL := make(map[setKey]uint32)
	setLine := make(map[setKey]int)
	var apexNSLine int

	for _, r := range recs {
		if r.rr.Header().Rrtype == dns.TypeSOA && dns.CanonicalName(r.rr.Header().Name) == origin {
			if z.soa != nil {
				fail(r.line, "a second SOA for %s", origin)
				continue
			}
			z.soa = r.rr.(*dns.SOA)
			z.ttl = r.rr.Header().Ttl
		}
	}
	if z.soa == nil {
		return nil, nil, Errors{{file, 0, "no SOA record at " + origin}}
	}

	for _, r := range recs {
		h := r.rr.Header()
		owner := dns.CanonicalName(h.Name)
		if h.Class != dns.ClassINET {
			fail(r.line, "class %s: only IN is served", dns.ClassToString[h.Class])
			continue
		}
		rel, ok := relative(owner, origin)
		if !ok {
			fail(r.line, "%s is outside zone %s", owner, origin)
			continue
		}
		if h.Rrtype == dns.TypeSOA {
			if owner != origin {
				fail(r.line, "SOA at %s: only the apex may hold one", owner)
			}
			continue
		}
		if !served[h.Rrtype] {
			msg := fmt.Sprintf("%s %s: mxdns does not serve %s records", owner, dns.TypeToString[h.Rrtype], dns.TypeToString[h.Rrtype])
			if opts.Strict {
				fail(r.line, "%s (-strict)", msg)
			} else {
				warnings = append(warnings, &Error{file, r.line, "warning: " + msg + "; skipped"})
			}
			continue
		}
		k := setKey{owner, h.Rrtype}
		if t, seen := setTTL[k]; seen && t != h.Ttl {
			fail(r.line, "TTL %d differs from %d of the same %s set at line %d (RFC 2181 §5.2); mxdns writes one TTL per set", h.Ttl, t, dns.TypeToString[h.Rrtype], setLine[k])
			continue
		} else if !seen {
			setTTL[k], setLine[k] = h.Ttl, r.line
		}
		if h.Rrtype == dns.TypeNS && owner == origin {
			if h.Ttl != z.ttl {
				fail(r.line, "apex NS TTL %d differs from the SOA's %d; mxdns gives both the zone ttl", h.Ttl, z.ttl)
				continue
			}
			z.ns = append(z.ns, target(r.rr.(*dns.NS).Ns, origin))
			apexNSLine = r.line
			continue
		}
		value, err := yamlValue(r.rr, origin, opts)
		if err != nil {
			fail(r.line, "%s %s: %v", owner, dns.TypeToString[h.Rrtype], err)
			continue
		}
		n := names[owner]
		if n == nil {
			n = &nameYAML{name: rel, ttl: h.Ttl, line: r.line, sets: make(map[uint16][]string)}
			names[owner] = n
			z.names = append(z.names, n)
		}
		if n.ttl != h.Ttl {
			fail(r.line, "TTL %d differs from %d of %s at line %d; mxdns writes one ttl per name", h.Ttl, n.ttl, owner, n.line)
			continue
		}
		n.sets[h.Rrtype] = append(n.sets[h.Rrtype], value)
	}
	if len(z.ns) == 0 && apexNSLine == 0 && len(errs) == 0 {
		fail(0, "no NS record at the apex %s", origin)
	}
	return z, warnings, errs
}

// relative writes name relative to origin: "@" for the origin itself.
func relative(name, origin string) (string, bool) {
	if name == origin {
		return "@", true
	}
	if origin == "." {
		return strings.TrimSuffix(name, "."), true
	}
	rel, ok := strings.CutSuffix(name, "."+origin)
	return rel, ok
}

// target writes a host name as mxdns reads it: relative when inside the
// zone, absolute with the final dot otherwise.
func target(name, origin string) string {
	name = dns.CanonicalName(name)
	if rel, ok := relative(name, origin); ok {
		return rel
	}
	return name
}

var errNoYAML = errors.New("has no YAML form in mxdns yet")

// yamlValue is the value of rr as written under its key in mxdns YAML.
func yamlValue(rr dns.RR, origin string, opts Options) (string, error) {
	switch rr := rr.(type) {
	case *dns.A:
		return rr.A.String(), nil
	case *dns.AAAA:
		return rr.AAAA.String(), nil
	case *dns.MX:
		return strconv.Itoa(int(rr.Preference)) + ";" + target(rr.Mx, origin), nil
	case *dns.SRV:
		return fmt.Sprintf("%d %d %d %s", rr.Priority, rr.Weight, rr.Port, target(rr.Target, origin)), nil
	case *dns.PTR:
		return target(rr.Ptr, origin), nil
	case *dns.NS:
		return target(rr.Ns, origin), nil
	case *dns.CNAME:
		return target(rr.Target, origin), nil
	case *dns.TXT:
		return txtValue(rr.Hdr.Name, rr.Txt, opts.JoinTXT)
	case *dns.CAA:
		if strings.ContainsAny(rr.Value, `\"`) {
			return "", fmt.Errorf("a value with quotes or escapes %w", errNoYAML)
		}
		return fmt.Sprintf("%d %s %q", rr.Flag, rr.Tag, rr.Value), nil
	case *dns.TLSA:
		return fmt.Sprintf("%d %d %d %s", rr.Usage, rr.Selector, rr.MatchingType, strings.ToLower(rr.Certificate)), nil
	}
	return "", errNoYAML
}

func (z *zoneYAML) yaml() ([]byte, error) {
	str := scalar
	num := func(n uint32) *yaml.Node {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatUint(uint64(n), 10)}
	}
	mapping := func(flow bool, kv ...*yaml.Node) *yaml.Node {
		m := &yaml.Node{Kind: yaml.MappingNode, Content: kv}
		if flow {
			m.Style = yaml.FlowStyle
		}
		return m
	}
	seq := func(values []string) *yaml.Node {
		if len(values) == 1 {
			return str(values[0])
		}
		s := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for _, v := range values {
			s.Content = append(s.Content, str(v))
		}
		return s
	}

	soa := z.soa
	soaNode := mapping(true,
		str("mname"), str(target(soa.Ns, z.origin)),
		str("rname"), str(target(soa.Mbox, z.origin)),
		str("serial"), num(soa.Serial),
		str("refresh"), num(soa.Refresh),
		str("retry"), num(soa.Retry),
		str("expire"), num(soa.Expire),
		str("minimum"), num(soa.Minttl),
	)
	records := mapping(false)
	sort.SliceStable(z.names, func(i, j int) bool { return canonicalLess(z.names[i].name, z.names[j].name) })
	for _, n := range z.names {
		m := mapping(true)
		if n.ttl != z.ttl {
			m.Content = append(m.Content, str("ttl"), num(n.ttl))
		}
		for _, t := range keyOrder {
			if vs, ok := n.sets[t]; ok {
				m.Content = append(m.Content, str(strings.ToLower(dns.TypeToString[t])), seq(vs))
			}
		}
		m.Content = append(m.Content, n.helpers...)
		records.Content = append(records.Content, str(n.name), m)
	}
	zoneNode := mapping(false,
		str("ttl"), num(z.ttl),
		str("soa"), soaNode,
		str("ns"), nsList(z.ns),
	)
	if len(records.Content) > 0 {
		zoneNode.Content = append(zoneNode.Content, str("records"), records)
	}
	doc := mapping(false, str("zones"), mapping(false, str(strings.TrimSuffix(z.origin, ".")), zoneNode))
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return b.Bytes(), enc.Close()
}

// scalar is a YAML string; one holding control characters is double
// quoted, the one style that writes them as escapes inside a flow mapping.
func scalar(s string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Value: s}
	if strings.IndexFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
		n.Style = yaml.DoubleQuotedStyle
	}
	return n
}

func nsList(ns []string) *yaml.Node {
	s := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
	for _, n := range ns {
		s.Content = append(s.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: n})
	}
	return s
}

// canonicalLess orders relative names so that "@" comes first and a name
// just before the names below it (RFC 4034 §6.1 on the labels).
func canonicalLess(a, b string) bool {
	if a == "@" || b == "@" {
		return a == "@" && b != "@"
	}
	la, lb := dns.SplitDomainName(a), dns.SplitDomainName(b)
	slices.Reverse(la)
	slices.Reverse(lb)
	return slices.Compare(la, lb) < 0
}
