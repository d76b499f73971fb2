package dnslookup

import "testing"

// The organizational domain comes from the public suffix list.
func TestOrgDomain(t *testing.T) {
	for in, want := range map[string]string{
		"mail.example.com.":  "example.com.",
		"example.com":        "example.com.",
		"a.b.example.co.uk.": "example.co.uk.",
		"x.y.example.":       "y.example.",
		"com.":               "com.",
	} {
		if got := OrgDomain(in); got != want {
			t.Errorf("OrgDomain(%s) = %s, want %s", in, got, want)
		}
	}
}
