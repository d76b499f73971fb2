package zone

import "testing"

// TestCanonicalName: only ASCII letters are lowered (RFC 4343 §3), an
// empty label is refused and an escaped dot is not mistaken for one.
func TestCanonicalName(t *testing.T) {
	for in, want := range map[string]string{
		"Example.COM":  "example.com.",
		"example.com.": "example.com.",
		`a\..b`:        `a\..b.`,
		`A\.B.c`:       `a\.b.c.`,
		"ÉCOLE.fr":     "École.fr.",
		"a..b":         "",
		".a":           "",
		"a b":          "",
		"":             "",
	} {
		got, err := canonicalName(in)
		if want == "" && err == nil || want != "" && (err != nil || got != want) {
			t.Errorf("canonicalName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
