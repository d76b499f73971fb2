package zone

import (
	"strings"
	"testing"
)

// TestYAMLDocuments checks that text after a "---" is never silently
// ignored: a second document is reported, a trailing empty one is not. A
// file with nothing in it, or only comments, is allowed.
func TestYAMLDocuments(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       []string // every error, in order
	}{
		{"empty file", "", nil},
		{"comments only", "# nothing configured yet\n\n# see README\n", nil},
		{"one document", "link_ttl: 5\n", nil},
		{"leading marker", "---\nlink_ttl: 5\n", nil},
		{"trailing empty document", "link_ttl: 5\n---\n", nil},
		{"second document", "link_ttl: 5\n---\nzones: {}\n",
			[]string{"c.yaml:2:1: a second YAML document (after ---) is not read"}},
		{"first document still checked", "link_ttl: x\n---\nzones: {}\n",
			[]string{`c.yaml:1:11: link_ttl "x"`, "c.yaml:2:1: a second YAML document"}},
		{"syntax error in the second document", "link_ttl: 5\n---\nzones: [\n",
			[]string{`c.yaml:3:8: invalid YAML: "[" opens a list that is not closed; want "]" before the end of the file`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, diags := FromYAML("c.yaml", []byte(tc.yaml), nil)
			errs := diags.Errors()
			if len(errs) != len(tc.want) {
				t.Fatalf("got %d errors %v, want %d: %q", len(errs), errs, len(tc.want), tc.want)
			}
			for i, w := range tc.want {
				if !strings.HasPrefix(errs[i].String(), w) {
					t.Errorf("error %d = %q, want prefix %q", i, errs[i], w)
				}
			}
		})
	}
}
