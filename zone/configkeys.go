package zone

import (
	"sort"

	"gopkg.in/yaml.v3"
)

// ConfigKeys lists every key the configuration parser accepts, as dotted
// paths from the top of the file, with NAME where the user picks the key:
// "links.NAME.check.interval", "zones.NAME.records.NAME.mx". A zone file
// (zone_files) holds the "zones" part of the same tree.
//
// The list is not kept by hand: the parser is run in a mode where every
// mapping of known keys calls each key's reader with a made-up value, and
// records the keys it offered. A key added to the parser is listed at once,
// and so is a new mapping below it, which is what lets a test hold the
// documentation to it.
func ConfigKeys() []string {
	p := &keyProbe{paths: make(map[*yaml.Node]string), keys: make(map[string]bool)}
	r := &reader{file: "probe", diags: new(Diagnostics), probe: p, maxRecords: DefaultMaxRecordsPerFile}
	r.config(p.node(""))
	out := make([]string, 0, len(p.keys))
	for k := range p.keys {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// keyProbe records the keys offered by each mapping the parser reads. Every
// value it makes up is a mapping of one key, NAME, down to probeDepth
// levels, so that mappings keyed by the user's names (zones, links, records,
// tsig_keys) lead on to the keys below them. What the parser reports about
// the made-up values is thrown away.
type keyProbe struct {
	paths map[*yaml.Node]string
	keys  map[string]bool
}

// probeDepth bounds the made-up values; the deepest key today,
// zones.NAME.records.NAME.dkim.selector, has six parts.
const probeDepth = 10

func (p *keyProbe) node(path string) *yaml.Node {
	if depth(path) >= probeDepth {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "x"}
	}
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{
		{Kind: yaml.ScalarNode, Tag: "!!str", Value: "NAME"},
		p.node(join(path, "NAME")),
	}}
	p.paths[n] = path
	return n
}

// walk records the keys of known under n's path and calls each key's reader
// with a made-up value, in a fixed order.
func walk[F any](p *keyProbe, n *yaml.Node, known map[string]F, call func(key string, fn F, v *yaml.Node)) {
	path, ok := p.paths[deref(n)]
	if !ok {
		return // a value the parser made itself, not one of ours
	}
	keys := make([]string, 0, len(known))
	for k := range known {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		full := join(path, k)
		p.keys[full] = true
		call(k, known[k], p.node(full))
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func depth(path string) int {
	if path == "" {
		return 0
	}
	n := 1
	for _, c := range path {
		if c == '.' {
			n++
		}
	}
	return n
}
