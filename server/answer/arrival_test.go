package answer

import (
	"runtime"
	"testing"
	"weak"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/zone"
)

// TestArrivalFollowsTheState: a request kept by a transport finds the
// link of its listen address again in a new state, where the address
// may name another link.
func TestArrivalFollowsTheState(t *testing.T) {
	state := func(wan1, wan2 string) *State {
		config := "links:\n  wan1: {listen: [\"" + wan1 + "\"]}\n  wan2: {listen: [\"" + wan2 + "\"]}\n" + testConfig
		snap, diags := zone.FromYAML("t.yaml", []byte(config), nil)
		if err := diags.Err(); err != nil {
			t.Fatal(err)
		}
		return NewState(snap, zone.AllLinks, nil)
	}
	// The address moves from one link to the other.
	first, second := state("127.0.0.2:53", "127.0.0.3:53"), state("127.0.0.3:53", "127.0.0.2:53")
	var at Arrival
	if got, want := at.of(first, "127.0.0.2:53"), first.Snap.ListenLink("127.0.0.2:53"); got != want {
		t.Fatalf("first state: link %d, want %d", got, want)
	}
	if got, want := at.of(second, "127.0.0.2:53"), second.Snap.ListenLink("127.0.0.2:53"); got != want || got == first.Snap.ListenLink("127.0.0.2:53") {
		t.Errorf("second state: link %d, want %d (not the first state's)", got, want)
	}
}

// TestArrivalKeepsNoStateAlive: a request a transport keeps between
// queries (a reader gone idle, a quiet connection) must not keep the
// state it last answered in, and with it a whole snapshot, alive.
func TestArrivalKeepsNoStateAlive(t *testing.T) {
	snap, diags := zone.FromYAML("t.yaml", []byte(testConfig), nil)
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	st := NewState(snap, zone.AllLinks, nil)
	a := New(Config{})
	req := &Request{Query: packQuery(t, query("example.com.", dns.TypeMX)), Listen: "127.0.0.1:53", Peer: fuzzPeer{}}
	if reply, _ := a.Answer(st, req); reply == nil {
		t.Fatal("no reply")
	}
	gone := weak.Make(st)
	st = nil
	for range 20 {
		runtime.GC()
		if gone.Value() == nil {
			runtime.KeepAlive(req)
			return
		}
	}
	runtime.KeepAlive(req)
	t.Fatal("a kept request holds the state it was answered in")
}
