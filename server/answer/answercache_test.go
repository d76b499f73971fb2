package answer

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/zone"
)

// cachedEntries counts the answer cache's filled slots.
func cachedEntries(c *answerCache) int {
	n := 0
	for i := range c.slots {
		if c.slots[i].Load() != nil {
			n++
		}
	}
	return n
}

// TestRandomNamesAreNotCached: a random-subdomain flood, every name asked
// once, leaves the cache empty; a name asked a second time is admitted,
// and the third time answered from the cache.
func TestRandomNamesAreNotCached(t *testing.T) {
	snap, diags := zone.FromYAML("t.yaml", []byte("rrl: off\n"+testConfig), nil)
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	s := testServer(t, snap)
	st := s.state.Load()
	queries := map[string][]byte{}
	ask := func(name string, rotate uint32) (*wireQuery, []byte) {
		t.Helper()
		if queries[name] == nil {
			m := query(name, dns.TypeA)
			m.SetEdns0(1232, false)
			queries[name] = packQuery(t, m)
		}
		var q wireQuery
		r := s.answerDatagram(st, queries[name], "no-link", new(arrival), rotate, fuzzPeer{}, &q, nil)
		if len(r) < headerLen {
			t.Fatalf("%s: no reply", name)
		}
		return &q, r
	}
	for i := range 2000 {
		ask(fmt.Sprintf("r%d.example.com.", i), uint32(i))
	}
	if n := cachedEntries(st.cache); n != 0 {
		t.Errorf("2000 names asked once each filled %d cache entries, want 0", n)
	}
	ask("again.example.com.", 1)
	q, second := ask("again.example.com.", 2)
	if _, e := st.cache.get(q.key[:q.keyLen], 3); e == nil {
		t.Fatal("a name asked twice is not cached")
	}
	if _, third := ask("again.example.com.", 3); !bytes.Equal(third, second) {
		t.Errorf("the cache and the handler disagree:\ncache:   %x\nhandler: %x", third, second)
	}
}

// TestOnlyTheRotationServedIsCached: a miss keeps the reply it served, in
// its rotation only; another rotation is filled when it is served, and a
// rotation r answers for r + Rotations.
func TestOnlyTheRotationServedIsCached(t *testing.T) {
	snap, diags := zone.FromYAML("t.yaml", []byte("rrl: off\n"+testConfig+"      pool: {a: [192.0.2.1, 192.0.2.2, 192.0.2.3]}\n"), nil)
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	s := testServer(t, snap)
	st := s.state.Load()
	m := query("pool.example.com.", dns.TypeA)
	m.SetEdns0(1232, false)
	b := packQuery(t, m)
	warm(t, s, b, zone.NoLink, 1, true)
	var q wireQuery
	if !parseWireQuery(b, zone.NoLink, &q) {
		t.Fatal("not a fast-path query")
	}
	e := st.cache.slots[hashKey(q.key[:q.keyLen])&st.cache.mask].Load()
	if e == nil || len(e.variants) != 3 {
		t.Fatalf("pool.example.com. A: entry %v, want one with 3 rotations", e)
	}
	for r := range e.variants {
		if filled := e.variants[r].Load() != nil; filled != (r == 1) {
			t.Errorf("rotation %d filled: %v, want only rotation 1", r, filled)
		}
	}
	for _, r := range []uint32{1, 4, 7} {
		got, hit := st.fastAnswer(b, zone.NoLink, r, true, &q, nil)
		if hit == nil {
			t.Fatalf("rotation %d: a miss", r)
		}
		if want := handlerReply(t, s, b, zone.NoLink, r); !bytes.Equal(got, want) {
			t.Errorf("rotation %d:\ncache:   %x\nhandler: %x", r, got, want)
		}
	}
	if _, hit := st.fastAnswer(b, zone.NoLink, 2, true, &q, nil); hit != nil {
		t.Fatal("rotation 2 answered before it was served")
	}
	s.answerDatagram(st, b, "no-link", new(arrival), 2, fuzzPeer{}, &q, nil)
	if _, hit := st.fastAnswer(b, zone.NoLink, 5, true, &q, nil); hit == nil {
		t.Error("rotation 2, once served, is not cached (the entry is admitted already)")
	}
}
