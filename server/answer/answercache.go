package answer

import (
	"bytes"
	"sync/atomic"
)

// answerCache holds packed replies of one {snapshot, up links} state, so
// that a repeated question costs a hash, a copy and a patch. It belongs to
// the state: a reload or a link change publishes a new, empty cache, and
// nothing is ever invalidated in place.
//
// It is direct-mapped: a new entry replaces whatever shared its slot, and
// the table's memory never grows. A question is admitted on its second
// miss: the first only leaves its hash in a small table of recent misses
// (a doorkeeper, as in TinyLFU), so a random-subdomain flood, every name
// asked once, neither pays to fill the cache nor evicts the names people
// ask again. A miss is then one lookup and one pack, the general path's,
// whose bytes the cache keeps when it admits the question.
type answerCache struct {
	slots    []atomic.Pointer[cacheEntry]
	mask     uint64
	seen     []atomic.Uint64 // hashes of keys that missed once, by slot
	seenMask uint64
}

// cacheEntry is the reply to one key in each rotation: variants[r] is the
// reply made with rotation r, filled when a query with that rotation
// misses, so the fast path gives each rotation in turn just as the
// general path does, and a rotation nobody was served costs nothing.
type cacheEntry struct {
	key      []byte
	variants []atomic.Pointer[[]byte] // one per rotation
	kind     answerKind               // for rate limiting
}

const (
	answerCacheSlots = 1 << 15
	// doorkeeperSlots bounds how far back a first miss is remembered: a
	// flood overwrites a given slot about once per this many misses.
	doorkeeperSlots = 1 << 14
)

func newAnswerCache(slots int) *answerCache {
	return &answerCache{
		slots: make([]atomic.Pointer[cacheEntry], slots), mask: uint64(slots - 1),
		seen: make([]atomic.Uint64, doorkeeperSlots), seenMask: doorkeeperSlots - 1,
	}
}

// get is the reply to key in rotation rotate, with its entry, or nil.
func (c *answerCache) get(key []byte, rotate uint32) ([]byte, *cacheEntry) {
	e := c.slots[hashKey(key)&c.mask].Load()
	if e == nil || !bytes.Equal(e.key, key) {
		return nil, nil
	}
	v := e.variants[rotate%uint32(len(e.variants))].Load()
	if v == nil {
		return nil, nil
	}
	return *v, e
}

// fill keeps a copy of reply, the whole reply to key in rotation rotate
// of rotations, when the key has missed before (or already has an entry).
// It reports whether it did; only then does it copy.
func (c *answerCache) fill(key []byte, reply canonicalReply, rotations, rotate uint32, kind answerKind) bool {
	h := hashKey(key)
	slot := &c.slots[h&c.mask]
	e := slot.Load()
	if e == nil || !bytes.Equal(e.key, key) || len(e.variants) != int(rotations) {
		if !c.admit(h) {
			return false
		}
		e = &cacheEntry{key: bytes.Clone(key), variants: make([]atomic.Pointer[[]byte], rotations), kind: kind}
		defer slot.Store(e) // once its first variant is in
	}
	b := reply.copyFor(key)
	e.variants[rotate%rotations].Store(&b)
	return true
}

// admit reports whether the key hashing to h missed recently, and
// remembers that it has missed now. Two keys sharing a slot only forget
// each other: the worst a collision does is admit a key a miss late.
func (c *answerCache) admit(h uint64) bool {
	h |= 1 // 0 is an empty slot
	d := &c.seen[(h>>32)&c.seenMask]
	if d.Load() == h {
		return true
	}
	d.Store(h)
	return false
}

// hashKey is FNV-1a: short keys, no allocation, good enough spread.
func hashKey(key []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range key {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}
