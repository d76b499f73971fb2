package zone

import (
	"strconv"
	"testing"
)

// TestCowMapCloneSharesUntilWritten: a clone's writes never show in the
// map it was cloned from, at every size the map passes through (one map,
// then shards splitting as the names grow).
func TestCowMapCloneSharesUntilWritten(t *testing.T) {
	var m nodeMap
	const total = 100_000
	for i := range total {
		name := strconv.Itoa(i) + ".test."
		m.set(name, &node{name: name})
		if i%9_999 != 0 {
			continue
		}
		c := m.clone()
		c.del(name)
		c.set("new.test.", &node{name: "new.test."})
		if m.at(name) == nil || m.at("new.test.") != nil || m.len() != i+1 {
			t.Fatalf("at %d names the clone's writes reached the original", i+1)
		}
		if c.at(name) != nil || c.at("new.test.") == nil || c.len() != i+1 {
			t.Fatalf("at %d names the clone lost its own writes", i+1)
		}
	}
	if len(m.shards) < total/perShard {
		t.Errorf("%d names in %d shards: the map did not split as it grew", total, len(m.shards))
	}
	seen := 0
	for name, n := range m.all() {
		if n.name != name {
			t.Fatalf("%s holds the node of %s", name, n.name)
		}
		seen++
	}
	if seen != total || m.len() != total {
		t.Errorf("all() yields %d names, len() says %d, want %d", seen, m.len(), total)
	}
}
