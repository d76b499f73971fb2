package zone

import (
	"gopkg.in/yaml.v3"
)

// A file's records are bounded by max_records_per_file, counted after YAML
// aliases are expanded. yaml.v3 does not expand aliases when it decodes
// into nodes, but the reader follows them wherever a value is expected, so
// a few kilobytes of aliases to aliases ("billion laughs") asked it for
// billions of records: 31 KB took 20 s and 350 MB, 64 KB 3 minutes and
// 1.4 GB. Two checks keep a file's cost bounded by the limit:
//
//   - before the walk, the values that aliases would add are counted from
//     the nodes alone, each anchored value once, so a bomb is refused
//     before any of its expansion is paid for (expansionOK);
//   - during the walk, every record made is counted (countRecord), so a
//     file that simply has too many is refused at the record that crossed
//     the limit.

// expansionOK reports, at the alias where the count crossed the limit,
// a document whose aliases add more than r.maxRecords values. A value is
// a scalar other than a mapping key, or an empty list or mapping: what
// the reader may turn into a record or a finding.
func (r *reader) expansionOK(root *yaml.Node) bool {
	c := expansionCounter{memo: make(map[*yaml.Node]int64)}
	if at := c.crossing(root, int64(r.maxRecords)); at != nil {
		r.errorf(at, "file has more than %d records (max_records_per_file) once its YAML aliases are expanded", r.maxRecords)
		r.full = true
		return false
	}
	return true
}

// countRecord counts one record the walk made at n; false, once the
// limit is reached, means the record is dropped. The error is reported
// once, at the first record beyond the limit.
func (r *reader) countRecord(n *yaml.Node) bool {
	if r.full {
		return false
	}
	r.records++
	if r.records > r.maxRecords {
		r.errorf(n, "file has more than %d records (max_records_per_file)", r.maxRecords)
		r.full = true
		return false
	}
	return true
}

// expansionCounter counts the values under nodes with every alias
// expanded. An anchored node's count is kept, so that each is counted
// once however often it is named: counting costs no more than the file's
// size, whatever the expansion would.
type expansionCounter struct {
	memo map[*yaml.Node]int64 // anchored nodes; inProgress while counted
}

const (
	inProgress = -1
	// saturated is more than any limit: counts stop growing there rather
	// than overflow.
	saturated = int64(1) << 62
)

// values is the number of values under n, aliases expanded. An alias to
// a value that holds it (&a [*a]) counts as one: the reader never
// descends through it more than a few levels, always into a finding.
func (c *expansionCounter) values(n *yaml.Node) int64 {
	switch n.Kind {
	case yaml.AliasNode:
		if n.Alias == nil {
			return 1
		}
		return c.values(n.Alias)
	case yaml.ScalarNode:
		return 1
	}
	if n.Anchor != "" {
		switch v, ok := c.memo[n]; {
		case ok && v == inProgress:
			return 1
		case ok:
			return v
		}
		c.memo[n] = inProgress
	}
	var sum int64
	step := 1
	if n.Kind == yaml.MappingNode {
		step = 2 // values only: a key is named by its value
	}
	for i := step - 1; i < len(n.Content); i += step {
		sum = min(sum+c.values(n.Content[i]), saturated)
	}
	if len(n.Content) == 0 && n.Kind != yaml.DocumentNode {
		sum = 1
	}
	if n.Anchor != "" {
		c.memo[n] = sum
	}
	return sum
}

// crossing walks n as written, in document order, adding up what each
// alias adds, and returns the alias at which the sum first exceeds
// limit; nil when it never does. The values written out are not counted
// here: they cost what the file's size allows, and the walk counts the
// records they make.
func (c *expansionCounter) crossing(n *yaml.Node, limit int64) *yaml.Node {
	var added int64
	var walk func(n *yaml.Node) *yaml.Node
	walk = func(n *yaml.Node) *yaml.Node {
		if n.Kind == yaml.AliasNode {
			added = min(added+c.values(n), saturated)
			if added > limit {
				return n
			}
			return nil
		}
		for _, child := range n.Content {
			if at := walk(child); at != nil {
				return at
			}
		}
		return nil
	}
	return walk(n)
}
