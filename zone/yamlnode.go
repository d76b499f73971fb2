package zone

import (
	"bytes"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// reader walks a decoded YAML document node by node. Walking nodes instead of
// decoding into structs lets every finding carry the line and column of what
// the user wrote, and lets one pass report all findings instead of the first.
type reader struct {
	file  string
	diags *Diagnostics
	probe *keyProbe // set only by ConfigKeys
	// maxRecords is max_records_per_file; records counts those made so
	// far, full says the limit was reached and nothing more is made.
	maxRecords int
	records    int
	full       bool
	// inConfig: the configuration file itself, not a zone_files file.
	inConfig bool
}

// at is a position in a file, kept beside parsed values so that checks made
// after parsing can still point at the text.
type at struct {
	file      string
	line, col int
}

func (r *reader) pos(n *yaml.Node) at { return at{r.file, n.Line, n.Column} }

func (p at) String() string { return fmt.Sprintf("%s:%d:%d", p.file, p.line, p.col) }

// add records a finding; values it quotes (%q) are clipped (quote.go).
func (d *Diagnostics) add(p at, sev Severity, format string, args ...any) {
	*d = append(*d, Diagnostic{File: p.file, Line: p.line, Col: p.col, Severity: sev, Msg: fmt.Sprintf(format, clipQuoted(format, args)...)})
}

func (r *reader) errorf(n *yaml.Node, format string, args ...any) {
	r.diags.add(r.pos(n), Error, format, args...)
}

func (r *reader) warnf(n *yaml.Node, format string, args ...any) {
	r.diags.add(r.pos(n), Warning, format, args...)
}

// deref follows aliases so that anchors work wherever a value is expected.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return strconv.Quote(clip(n.Value))
	}
	return "something else"
}

// pair is one key and value of a mapping, with the key already a string.
type pair struct {
	key  string
	k, v *yaml.Node
}

// pairs returns the entries of a mapping in the order written, reporting a
// value that is not a mapping and keys written twice (yaml.v3's node API
// does not).
func (r *reader) pairs(n *yaml.Node, what string) []pair {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		r.errorf(n, "%s: want a mapping, got %s", what, kindName(n))
		return nil
	}
	seen := make(map[string]*yaml.Node, len(n.Content)/2)
	out := make([]pair, 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			r.errorf(k, "%s: keys must be plain text, got %s", what, kindName(k))
			continue
		}
		if k.Value == "<<" {
			r.errorf(k, "%s: YAML merge keys (<<) are not supported; write the keys out", what)
			continue
		}
		if prev, dup := seen[k.Value]; dup {
			r.errorf(k, "%s: key %q written twice (first at line %d); want each key once, its values together", what, k.Value, prev.Line)
			continue
		}
		seen[k.Value] = k
		out = append(out, pair{key: k.Value, k: k, v: v})
	}
	return out
}

// fields walks a mapping whose keys are known in advance: each known key is
// handed to its function, an unknown one is reported with the list of keys
// that would have been understood.
func (r *reader) fields(n *yaml.Node, what string, known map[string]func(v *yaml.Node)) {
	if r.probe != nil {
		walk(r.probe, n, known, func(_ string, fn func(*yaml.Node), v *yaml.Node) { fn(v) })
		return
	}
	for _, p := range r.pairs(n, what) {
		fn, ok := known[p.key]
		if !ok {
			r.errorf(p.k, "%s: unknown key %q; want one of %s", what, p.key, keyList(known))
			continue
		}
		fn(p.v)
	}
}

func keyList[V any](m map[string]V) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ", ")
}

// scalar returns the text of a scalar as written, reporting anything else.
func (r *reader) scalar(n *yaml.Node, what string) (string, bool) {
	n = deref(n)
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		r.errorf(n, "%s: want a value, got %s", what, kindName(n))
		return "", false
	}
	return n.Value, true
}

// list accepts one scalar or a list of scalars ("one value or a list").
func (r *reader) list(n *yaml.Node, what string) []*yaml.Node {
	n = deref(n)
	switch {
	case n.Kind == yaml.SequenceNode:
		out := make([]*yaml.Node, 0, len(n.Content))
		for _, item := range n.Content {
			item = deref(item)
			if item.Kind != yaml.ScalarNode || item.Tag == "!!null" {
				r.errorf(item, "%s: want a value, got %s", what, kindName(item))
				continue
			}
			out = append(out, item)
		}
		if len(out) == 0 && len(n.Content) == 0 {
			r.errorf(n, "%s: empty list", what)
		}
		return out
	case n.Kind == yaml.ScalarNode && n.Tag != "!!null":
		return []*yaml.Node{n}
	default:
		r.errorf(n, "%s: want a value or a list of values, got %s", what, kindName(n))
		return nil
	}
}

func (r *reader) strings(n *yaml.Node, what string) []string {
	var out []string
	for _, item := range r.list(n, what) {
		out = append(out, item.Value)
	}
	return out
}

// uint32Value parses a whole number in [lo, hi].
func (r *reader) uint32Value(n *yaml.Node, what string, lo, hi uint32) (uint32, bool) {
	s, ok := r.scalar(n, what)
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil || uint32(v) < lo || uint32(v) > hi {
		r.errorf(n, "%s %q: want a whole number from %d to %d", what, s, lo, hi)
		return 0, false
	}
	return uint32(v), true
}

func (r *reader) duration(n *yaml.Node, what string) (time.Duration, bool) {
	s, ok := r.scalar(n, what)
	if !ok {
		return 0, false
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		r.errorf(n, "%s %q: want a positive duration such as 2s or 500ms", what, s)
		return 0, false
	}
	return d, true
}

// choice parses one of a fixed set of words.
func (r *reader) choice(n *yaml.Node, what string, words ...string) (string, bool) {
	s, ok := r.scalar(n, what)
	if !ok {
		return "", false
	}
	for _, w := range words {
		if s == w {
			return s, true
		}
	}
	r.errorf(n, "%s %q: want one of %s", what, s, strings.Join(words, ", "))
	return "", false
}

// document parses YAML text into its root mapping node. A syntax error is
// reported where pinpointYAML finds it. Only one document is read, so a
// further one is reported rather than silently ignored.
func (r *reader) document(text []byte) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(text))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		// io.EOF: the file holds no document, only blanks and comments at
		// most, which is allowed. Any document decoded holds one node.
		if err != io.EOF {
			r.yamlError(text, err)
		}
		return nil
	}
	// The first document is still returned after a finding about the rest,
	// so that its own findings are reported in the same pass.
	for {
		var next yaml.Node
		err := dec.Decode(&next)
		if err == io.EOF {
			break
		}
		if err != nil {
			r.yamlError(text, err)
			break
		}
		// A trailing "---" with nothing after it drops nothing.
		if next.Content[0].Tag != "!!null" {
			r.errorf(&next, "a second YAML document (after ---) is not read; put everything in one document")
			break
		}
	}
	return doc.Content[0]
}

// yamlError reports a syntax error yaml.v3 found in text: at the
// character pinpointYAML finds, else at the line yaml.v3 names (the start
// of the block holding the mistake, not the mistake itself).
func (r *reader) yamlError(text []byte, err error) {
	if f, ok := pinpointYAML(text); ok {
		r.diags.add(at{r.file, f.line, f.col}, Error, "invalid YAML: %s", f.msg)
		return
	}
	line := 1
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if num, tail, ok := strings.Cut(rest, ": "); ok {
			if l, err := strconv.Atoi(num); err == nil {
				line, msg = l, tail
			}
		}
	}
	r.diags.add(at{r.file, line, 1}, Error, "invalid YAML: %s", msg)
}
