package server

import (
	"bytes"
	"sync/atomic"
)

// answerCache holds packed replies of one {snapshot, up links} state, so
// that a repeated question costs a hash, a copy and a patch. It belongs to
// the state: a reload or a link change publishes a new, empty cache, and
// nothing is ever invalidated in place.
//
// It is direct-mapped: a new entry replaces whatever shared its slot.
// Random names (a random-subdomain flood) only evict each other and the
// names people ask for come back on their next miss; the table's memory
// never grows.
type answerCache struct {
	slots []atomic.Pointer[cacheEntry]
	mask  uint64
}

// cacheEntry is every rotation of the reply to one key: variants[r] is the
// reply made with rotation r, so the fast path gives each rotation in turn
// just as the general path does.
type cacheEntry struct {
	key      []byte
	variants [][]byte
	kind     answerKind // for rate limiting
}

const answerCacheSlots = 1 << 15

func newAnswerCache(slots int) *answerCache {
	return &answerCache{slots: make([]atomic.Pointer[cacheEntry], slots), mask: uint64(slots - 1)}
}

func (c *answerCache) get(key []byte) *cacheEntry {
	e := c.slots[hashKey(key)&c.mask].Load()
	if e == nil || !bytes.Equal(e.key, key) {
		return nil
	}
	return e
}

func (c *answerCache) put(e *cacheEntry) {
	c.slots[hashKey(e.key)&c.mask].Store(e)
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
