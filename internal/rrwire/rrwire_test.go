package rrwire

import (
	"slices"
	"testing"

	"github.com/miekg/dns"
)

func rrs(t *testing.T, texts ...string) []dns.RR {
	t.Helper()
	out := make([]dns.RR, len(texts))
	for i, s := range texts {
		rr, err := dns.NewRR(s)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = rr
	}
	return out
}

func strs(list []dns.RR) []string {
	out := []string{}
	for _, rr := range list {
		out = append(out, rr.String())
	}
	return out
}

func TestDiff(t *testing.T) {
	for _, tc := range []struct {
		name             string
		before, after    []string
		wantDel, wantAdd []string
	}{
		{"same", []string{"a.test. 60 IN A 192.0.2.1"}, []string{"a.test. 60 IN A 192.0.2.1"}, nil, nil},
		{"spelling is not data", []string{"a.test. 60 IN AAAA 2001:db8::1"}, []string{"a.test. 60 IN AAAA 2001:0db8:0::1"}, nil, nil},
		{"case is", []string{"a.test. 60 IN A 192.0.2.1"}, []string{"A.test. 60 IN A 192.0.2.1"},
			[]string{"a.test.\t60\tIN\tA\t192.0.2.1"}, []string{"A.test.\t60\tIN\tA\t192.0.2.1"}},
		{"TTL differs", []string{"a.test. 60 IN A 192.0.2.1"}, []string{"a.test. 61 IN A 192.0.2.1"},
			[]string{"a.test.\t60\tIN\tA\t192.0.2.1"}, []string{"a.test.\t61\tIN\tA\t192.0.2.1"}},
		{"in list order", []string{"b.test. 60 IN A 192.0.2.2", "a.test. 60 IN A 192.0.2.1", "c.test. 60 IN A 192.0.2.3"},
			[]string{"c.test. 60 IN A 192.0.2.3", "e.test. 60 IN A 192.0.2.5", "d.test. 60 IN A 192.0.2.4"},
			[]string{"b.test.\t60\tIN\tA\t192.0.2.2", "a.test.\t60\tIN\tA\t192.0.2.1"},
			[]string{"e.test.\t60\tIN\tA\t192.0.2.5", "d.test.\t60\tIN\tA\t192.0.2.4"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			del, add := Diff(rrs(t, tc.before...), rrs(t, tc.after...))
			if got := strs(del); !slices.Equal(got, append([]string{}, tc.wantDel...)) {
				t.Errorf("deleted %q, want %q", got, tc.wantDel)
			}
			if got := strs(add); !slices.Equal(got, append([]string{}, tc.wantAdd...)) {
				t.Errorf("added %q, want %q", got, tc.wantAdd)
			}
		})
	}
}

// Packing leaves the record as it was: it may be read meanwhile.
func TestWireLeavesTheRecord(t *testing.T) {
	rr := rrs(t, "a.test. 60 IN TXT \"x\"")[0]
	before := *rr.Header()
	var p Packer
	w, err := p.Wire(rr)
	if err != nil || len(w) == 0 {
		t.Fatalf("Wire: %v, %d octets", err, len(w))
	}
	if *rr.Header() != before {
		t.Errorf("header changed: %+v, was %+v", *rr.Header(), before)
	}
}
