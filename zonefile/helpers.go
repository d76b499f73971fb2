package zonefile

import (
	"bytes"
	"strings"

	"github.com/miekg/dns"
	"gopkg.in/yaml.v3"

	"github.com/mxdns/mxdns/zone"
)

// useHelpers rewrites the SPF, DMARC and DKIM records found as the mail
// helpers spf:, dmarc: and dkim: (see zone/mail.go), each only where the
// helper publishes the very same text, which is checked by loading the
// helper: a record the helper would write otherwise stays a txt.
func (z *zoneYAML) useHelpers() {
	byName := make(map[string]*nameYAML, len(z.names))
	for _, n := range z.names {
		byName[n.name] = n
	}
	// parent finds or makes the name a helper is written at; ok is false
	// where a helper cannot go: a CNAME, a wildcard, another TTL.
	parent := func(name string, ttl uint32, line int) (*nameYAML, bool) {
		p := byName[name]
		if p == nil {
			p = &nameYAML{name: name, ttl: ttl, line: line, sets: make(map[uint16][]string)}
			return p, true
		}
		_, cname := p.sets[dns.TypeCNAME]
		return p, !cname && p.ttl == ttl && !strings.HasPrefix(name, "*")
	}
	adopt := func(p *nameYAML) {
		if byName[p.name] == nil {
			byName[p.name] = p
			z.names = append(z.names, p)
		}
	}
	gone := make(map[*nameYAML]bool)
	for _, n := range append([]*nameYAML(nil), z.names...) {
		if text, i, ok := onlySPF(n); ok {
			v := scalar(strings.TrimSpace(text[len("v=spf1"):]))
			if helperGives("spf", v, "", text) {
				n.removeTXT(i)
				n.helpers = append(n.helpers, scalar("spf"), v)
			}
		}
		text, ok := onlyTXT(n)
		if !ok {
			continue
		}
		labels := dns.SplitDomainName(n.name)
		switch {
		case labels[0] == "_dmarc" && hasPrefixFold(text, "v=DMARC1"):
			v := scalar(text)
			p, ok := parent(up(labels, 1), n.ttl, n.line)
			if ok && !p.has("dmarc") && helperGives("dmarc", v, "_dmarc.", text) {
				p.helpers = append(p.helpers, scalar("dmarc"), v)
				adopt(p)
				gone[n] = true
			}
		case dkimAt(labels) > 0:
			at := dkimAt(labels)
			sel := strings.Join(labels[:at], ".")
			v, ok := dkimHelper(sel, text)
			if !ok {
				continue
			}
			p, ok := parent(up(labels, at+1), n.ttl, n.line)
			if ok && helperGives("dkim", v, sel+"._domainkey.", text) {
				p.addDKIM(v)
				adopt(p)
				gone[n] = true
			}
		}
	}
	kept := z.names[:0]
	for _, n := range z.names {
		if !gone[n] {
			kept = append(kept, n)
		}
	}
	z.names = kept
}

// up is the relative name above the first k labels: "@" at the apex.
func up(labels []string, k int) string {
	if k >= len(labels) {
		return "@"
	}
	return strings.Join(labels[k:], ".")
}

// dkimAt is the index of the _domainkey label, 0 when there is none
// (or nothing before it, which is no selector).
func dkimAt(labels []string) int {
	for i, l := range labels {
		if l == "_domainkey" {
			return i
		}
	}
	return 0
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// onlySPF finds the one SPF record of a name.
func onlySPF(n *nameYAML) (text string, index int, ok bool) {
	found := 0
	for i, v := range n.sets[dns.TypeTXT] {
		if hasPrefixFold(v, "v=spf1") && (len(v) == 6 || v[6] == ' ') {
			text, index = v, i
			found++
		}
	}
	return text, index, found == 1 && !n.has("spf")
}

// onlyTXT is the text of a name that holds one TXT record and nothing else.
func onlyTXT(n *nameYAML) (string, bool) {
	txt := n.sets[dns.TypeTXT]
	if len(n.sets) != 1 || len(txt) != 1 || len(n.helpers) > 0 {
		return "", false
	}
	return txt[0], true
}

func (n *nameYAML) removeTXT(i int) {
	txt := n.sets[dns.TypeTXT]
	txt = append(txt[:i:i], txt[i+1:]...)
	if len(txt) == 0 {
		delete(n.sets, dns.TypeTXT)
	} else {
		n.sets[dns.TypeTXT] = txt
	}
}

func (n *nameYAML) has(key string) bool {
	for i := 0; i < len(n.helpers); i += 2 {
		if n.helpers[i].Value == key {
			return true
		}
	}
	return false
}

// addDKIM adds a key to the name's dkim helper: a mapping for one, a
// list for more.
func (n *nameYAML) addDKIM(v *yaml.Node) {
	for i := 0; i < len(n.helpers); i += 2 {
		if n.helpers[i].Value != "dkim" {
			continue
		}
		cur := n.helpers[i+1]
		if cur.Kind != yaml.SequenceNode {
			cur = &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle, Content: []*yaml.Node{cur}}
			n.helpers[i+1] = cur
		}
		cur.Content = append(cur.Content, v)
		return
	}
	n.helpers = append(n.helpers, scalar("dkim"), v)
}

// dkimHelper writes a DKIM key record in the form the helper publishes,
// "v=DKIM1; k=ALG; [t=FLAGS; ]p=KEY", as the helper's mapping.
func dkimHelper(selector, text string) (*yaml.Node, bool) {
	var tags [][2]string
	for _, part := range strings.Split(text, ";") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return nil, false
		}
		tags = append(tags, [2]string{strings.TrimSpace(k), strings.TrimSpace(v)})
	}
	m := &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle}
	m.Content = append(m.Content, scalar("selector"), scalar(selector))
	var key, alg, flags string
	for i, t := range tags {
		switch {
		case i == 0 && t[0] == "v" && t[1] == "DKIM1":
		case t[0] == "k" && alg == "":
			alg = t[1]
		case t[0] == "t" && flags == "":
			flags = t[1]
		case t[0] == "p" && i == len(tags)-1:
			key = t[1]
		default:
			return nil, false
		}
	}
	if key == "" || alg == "" {
		return nil, false
	}
	m.Content = append(m.Content, scalar("key"), scalar(key), scalar("k"), scalar(alg))
	if flags != "" {
		m.Content = append(m.Content, scalar("t"), scalar(flags))
	}
	return m, true
}

// helperGives reports whether helper key, given value at a zone's apex,
// publishes exactly one TXT record at prefix+apex whose text is want: the
// helpers' own code decides, so the import cannot drift from it.
func helperGives(key string, value *yaml.Node, prefix, want string) bool {
	const apex = "helper.invalid."
	str := func(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: s} }
	mapping := func(kv ...*yaml.Node) *yaml.Node { return &yaml.Node{Kind: yaml.MappingNode, Content: kv} }
	doc := mapping(str("zones"), mapping(str(apex), mapping(
		str("ns"), &yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{str("ns.example.")}},
		str("records"), mapping(str("@"), mapping(str(key), value)))))
	var b bytes.Buffer
	if err := yaml.NewEncoder(&b).Encode(doc); err != nil {
		return false
	}
	snap, diags := zone.FromYAML("helper.yaml", b.Bytes(), nil)
	if diags.Err() != nil {
		return false
	}
	rrs, _ := snap.Records(apex)
	var got []string
	for _, rr := range rrs {
		if t, ok := rr.(*dns.TXT); ok && t.Hdr.Name == prefix+apex {
			text, err := txtValue(t.Hdr.Name, t.Txt, true)
			if err != nil {
				return false
			}
			got = append(got, text)
		}
	}
	return len(got) == 1 && got[0] == want
}
