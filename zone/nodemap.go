package zone

import (
	"hash/maphash"
	"iter"
	"maps"
	"slices"
)

// A zone's names. Most zones hold a few dozen, in one map. A zone past
// shardAbove names (a reverse zone collecting the PTRs of thousands of
// forward zones holds a million) is split into shards by a hash of the
// name, so that a patch (ptrpatch.go) copies only the shards it writes
// and shares the rest with the snapshot before it. Copying the whole map
// was most of a one-file reload's time, and its garbage most of the
// collections that made some reloads slow. The shards grow in number
// with the names, a few hundred names each, so that a patch of a hundred
// names copies tens of thousands of them, not a million.
const (
	shardAbove    = 4096 // names before a map is split
	namesPerShard = 256  // a split map splits again past this average
	maxShards     = 1 << 14
	shardsAtSplit = 16
)

type nodeMap struct {
	flat   map[string]*node
	shards []map[string]*node // a power of two of them
	// owned marks the shards this map copied or made, which it may
	// write; the others are shared with the map it was cloned from.
	owned []bool
	seed  maphash.Seed
	n     int
}

func (m *nodeMap) shard(name string) int {
	return int(maphash.String(m.seed, name) & uint64(len(m.shards)-1))
}

func (m *nodeMap) get(name string) *node {
	if m.shards == nil {
		return m.flat[name]
	}
	return m.shards[m.shard(name)][name]
}

func (m *nodeMap) len() int { return m.n }

func (m *nodeMap) set(name string, n *node) {
	if m.shards == nil {
		if m.flat == nil {
			m.flat = make(map[string]*node)
		}
		m.flat[name] = n
		m.n = len(m.flat)
		if m.n > shardAbove {
			m.split()
		}
		return
	}
	s := m.writable(m.shard(name))
	if _, ok := s[name]; !ok {
		m.n++
	}
	s[name] = n
	if m.n > namesPerShard*len(m.shards) && len(m.shards) < maxShards {
		m.split()
	}
}

func (m *nodeMap) del(name string) {
	if m.shards == nil {
		delete(m.flat, name)
		m.n = len(m.flat)
		return
	}
	i := m.shard(name)
	if _, ok := m.shards[i][name]; ok {
		delete(m.writable(i), name)
		m.n--
	}
}

// writable returns shard i, copied first when it is shared.
func (m *nodeMap) writable(i int) map[string]*node {
	if !m.owned[i] {
		m.shards[i] = maps.Clone(m.shards[i])
		if m.shards[i] == nil {
			m.shards[i] = make(map[string]*node)
		}
		m.owned[i] = true
	}
	return m.shards[i]
}

// split spreads the names over more shards, sixteen times as many: new
// maps, so that a shard shared with another map is not written.
func (m *nodeMap) split() {
	old := m.all()
	count := shardsAtSplit * max(len(m.shards), 1)
	shards, owned := make([]map[string]*node, count), make([]bool, count)
	for i := range shards {
		shards[i] = make(map[string]*node, m.n/count+1)
		owned[i] = true
	}
	next := nodeMap{shards: shards, owned: owned, seed: maphash.MakeSeed(), n: m.n}
	for name, n := range old {
		next.shards[next.shard(name)][name] = n
	}
	*m = next
}

// clone returns a map with m's names that may be written without writing
// m: a small map is copied, a sharded one shares every shard until it is
// written.
func (m *nodeMap) clone() nodeMap {
	if m.shards == nil {
		return nodeMap{flat: maps.Clone(m.flat), n: m.n}
	}
	return nodeMap{shards: slices.Clone(m.shards), owned: make([]bool, len(m.shards)), seed: m.seed, n: m.n}
}

// all yields every name and its node, in no order.
func (m *nodeMap) all() iter.Seq2[string, *node] {
	return func(yield func(string, *node) bool) {
		if m.shards == nil {
			for name, n := range m.flat {
				if !yield(name, n) {
					return
				}
			}
			return
		}
		for _, s := range m.shards {
			for name, n := range s {
				if !yield(name, n) {
					return
				}
			}
		}
	}
}
