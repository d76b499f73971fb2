package zone

import (
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/internal/rrwire"
)

// TestTransferDiffEqualsFull holds TransferDiff, which reads only the
// names a build wrote, to a comparison of the two zones whole, through
// random edits of forward zones and a reverse zone patched by them.
func TestTransferDiffEqualsFull(t *testing.T) {
	zones, steps := 30, 60
	if testing.Short() {
		zones, steps = 20, 30
	}
	w := newWorld(t, zones, &revZone{name: "10.0.0.0/8", written: map[string]string{}, below: ".0.0", undo: true})
	changes, patches := 0, 0
	editsMatchFull(t, w, steps, func(prev, inc *Snapshot) {
		if patched(prev, inc, "10.in-addr.arpa.") {
			patches++
		}
		for _, zi := range inc.Zones() {
			del, add, ok := inc.TransferDiff(prev, zi.Origin)
			if _, had := prev.zones[zi.Origin]; !had {
				if ok {
					t.Fatalf("%s: a diff from a snapshot without the zone", zi.Origin)
				}
				continue
			}
			if !ok {
				t.Fatalf("%s: no diff", zi.Origin)
			}
			before, _ := prev.Records(zi.Origin)
			after, _ := inc.Records(zi.Origin)
			wantDel, wantAdd := rrwire.Diff(before[1:], after[1:])
			if got, want := texts(del), texts(wantDel); !slices.Equal(got, want) {
				t.Fatalf("%s: deleted\n  %s\nwant\n  %s", zi.Origin, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}
			if got, want := texts(add), texts(wantAdd); !slices.Equal(got, want) {
				t.Fatalf("%s: added\n  %s\nwant\n  %s", zi.Origin, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}
			if len(del)+len(add) > 0 {
				changes++
			}
		}
	})
	if changes < steps/2 || patches == 0 {
		t.Errorf("%d zones changed over %d steps, %d reverse zones patched: the test compared too little", changes, steps, patches)
	}
}

func texts(rrs []dns.RR) []string {
	out := make([]string, len(rrs))
	for i, rr := range rrs {
		out[i] = rr.String()
	}
	slices.Sort(out)
	return out
}

func TestCowMapDifferingSkipsSharedShards(t *testing.T) {
	var a cowMap[string, *node]
	nodes := make([]*node, 20000)
	for i := range nodes {
		nodes[i] = &node{name: string(rune('a'+i%26)) + strings.Repeat("x", i/26)}
		a.set(nodes[i].name, nodes[i])
	}
	b := a.clone()
	b.set(nodes[7].name, &node{name: nodes[7].name})
	b.del(nodes[9].name)
	b.set("new", &node{name: "new"})
	var got []string
	for k := range b.differing(&a) {
		got = append(got, k)
	}
	slices.Sort(got)
	want := []string{nodes[7].name, nodes[9].name, "new"}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("differing %v, want %v", got, want)
	}
	shared := 0
	for i := range b.shards {
		if sameMap(a.shards[i], b.shards[i]) {
			shared++
		}
	}
	if shared < len(b.shards)-3 {
		t.Errorf("%d of %d shards shared after three writes", shared, len(b.shards))
	}
}
