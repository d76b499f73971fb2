package zone

import (
	"hash/maphash"
	"iter"
	"maps"
	"slices"
)

// cowMap is a map that a snapshot shares with the one built after it.
// Most are small and held as one map, copied whole by clone. Past
// shardAbove entries (a reverse zone collecting the PTRs of thousands of
// forward zones holds a million names; ten thousand zones make maps of
// ten thousand) it is split into shards by a hash of the key, and clone
// copies only the array of shards: a write copies the shard it lands in
// first, so a reload that changes a few entries copies a few hundred,
// not the whole map. Copying whole maps was most of a one-file reload's
// time at that scale, and its garbage most of the collections that made
// some reloads slow. The shards grow in number with the entries.
type cowMap[K comparable, V any] struct {
	flat   map[K]V
	shards []map[K]V // a power of two of them, nil while flat
	// owned marks the shards this map copied or made, which it may
	// write; the others are shared with the map it was cloned from.
	owned []bool
	seed  maphash.Seed
	n     int
}

const (
	shardAbove     = 4096 // entries before a map is split
	perShard       = 256  // a split map splits again past this average
	maxShards      = 1 << 14
	shardsPerSplit = 16
)

func (m *cowMap[K, V]) shard(k K) int {
	return int(maphash.Comparable(m.seed, k) & uint64(len(m.shards)-1))
}

func (m *cowMap[K, V]) get(k K) (V, bool) {
	if m.shards == nil {
		v, ok := m.flat[k]
		return v, ok
	}
	v, ok := m.shards[m.shard(k)][k]
	return v, ok
}

// at is get without the flag: the zero value when k is absent.
func (m *cowMap[K, V]) at(k K) V {
	v, _ := m.get(k)
	return v
}

func (m *cowMap[K, V]) len() int { return m.n }

func (m *cowMap[K, V]) set(k K, v V) {
	if m.shards == nil {
		if m.flat == nil {
			m.flat = make(map[K]V)
		}
		m.flat[k] = v
		m.n = len(m.flat)
		if m.n > shardAbove {
			m.split()
		}
		return
	}
	s := m.writable(m.shard(k))
	if _, ok := s[k]; !ok {
		m.n++
	}
	s[k] = v
	if m.n > perShard*len(m.shards) && len(m.shards) < maxShards {
		m.split()
	}
}

func (m *cowMap[K, V]) del(k K) {
	if m.shards == nil {
		delete(m.flat, k)
		m.n = len(m.flat)
		return
	}
	i := m.shard(k)
	if _, ok := m.shards[i][k]; ok {
		delete(m.writable(i), k)
		m.n--
	}
}

// writable returns shard i, copied first when it is shared.
func (m *cowMap[K, V]) writable(i int) map[K]V {
	if !m.owned[i] {
		m.shards[i] = maps.Clone(m.shards[i])
		if m.shards[i] == nil {
			m.shards[i] = make(map[K]V)
		}
		m.owned[i] = true
	}
	return m.shards[i]
}

// split spreads the entries over more shards: new maps, so that a shard
// shared with another map is never written.
func (m *cowMap[K, V]) split() {
	count := shardsPerSplit * max(len(m.shards), 1)
	next := cowMap[K, V]{shards: make([]map[K]V, count), owned: make([]bool, count), seed: maphash.MakeSeed(), n: m.n}
	for i := range next.shards {
		next.shards[i] = make(map[K]V, m.n/count+1)
		next.owned[i] = true
	}
	for k, v := range m.all() {
		next.shards[next.shard(k)][k] = v
	}
	*m = next
}

// clone returns a map with m's entries that may be written without
// writing m.
func (m *cowMap[K, V]) clone() cowMap[K, V] {
	if m.shards == nil {
		return cowMap[K, V]{flat: maps.Clone(m.flat), n: m.n}
	}
	return cowMap[K, V]{shards: slices.Clone(m.shards), owned: make([]bool, len(m.shards)), seed: m.seed, n: m.n}
}

// all yields every entry, in no order.
func (m *cowMap[K, V]) all() iter.Seq2[K, V] {
	return func(yield func(K, V) bool) {
		if m.shards == nil {
			for k, v := range m.flat {
				if !yield(k, v) {
					return
				}
			}
			return
		}
		for _, s := range m.shards {
			for k, v := range s {
				if !yield(k, v) {
					return
				}
			}
		}
	}
}
