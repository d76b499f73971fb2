package zone

import (
	"slices"
	"testing"
)

func TestChangedListsNewAndReSerialedZones(t *testing.T) {
	const before = `
zones:
  same.test: {soa: {serial: 1}, ns: [ns1.same.test.]}
  edited.test: {soa: {serial: 1}, ns: [ns1.same.test.]}
  gone.test: {soa: {serial: 1}, ns: [ns1.same.test.]}
`
	const after = `
zones:
  same.test: {soa: {serial: 1}, ns: [ns1.same.test.]}
  edited.test: {soa: {serial: 2}, ns: [ns1.same.test.]}
  new.test: {soa: {serial: 5}, ns: [ns1.same.test.]}
`
	prev := mustSnapshot(t, before)
	next, diags := FromYAML("test.yaml", []byte(after), prev)
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, z := range next.Changed(prev) {
		got = append(got, z.Origin)
	}
	if want := []string{"edited.test.", "new.test."}; !slices.Equal(got, want) {
		t.Errorf("Changed = %v, want %v", got, want)
	}
	if all := next.Changed(nil); len(all) != 3 {
		t.Errorf("Changed(nil) lists %d zones, want all 3", len(all))
	}
	if none := next.Changed(next); len(none) != 0 {
		t.Errorf("Changed(itself) = %v, want none", none)
	}
}
