package dnssec

import (
	"slices"
	"testing"
)

// The example of RFC 4034 §6.1, in canonical order.
func TestCanonicalOrder(t *testing.T) {
	want := []string{
		"example.", "a.example.", "yljkjljk.a.example.", "Z.a.example.",
		"zABC.a.EXAMPLE.", "z.example.", `\001.z.example.`, "*.z.example.", `\200.z.example.`,
	}
	got := slices.Clone(want)
	slices.Reverse(got)
	slices.SortStableFunc(got, CanonicalCompare)
	if !slices.Equal(got, want) {
		t.Errorf("order:\n got %q\nwant %q", got, want)
	}
	if CanonicalCompare(`a\.b.example.`, "a.b.example.") == 0 {
		t.Error("an escaped dot is part of its label")
	}
	if CanonicalCompare(`\000.example.`, `\001.example.`) >= 0 || CanonicalCompare("a.example.", `a\000.example.`) >= 0 {
		t.Error("octets 0 and 1 sort as octets")
	}
}
