package zone

import (
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// TestParseCAA: fields are separated by any run of blanks, so a doubled
// space never makes an empty tag, and a tag is letters and digits of at
// most 255 octets (RFC 8659 §4.1).
func TestParseCAA(t *testing.T) {
	for _, tc := range []struct {
		in, tag, value, err string
		flag                uint8
	}{
		{in: `0 issue "letsencrypt.org"`, tag: "issue", value: "letsencrypt.org"},
		{in: `0  issue x`, tag: "issue", value: "x"},
		{in: "128\tissuewild\t\"a b\"", flag: 128, tag: "issuewild", value: "a b"},
		{in: ` 0 iodef "mailto:x@example.com" `, tag: "iodef", value: "mailto:x@example.com"},
		{in: `0 issue`, err: "want \"flags tag value\""},
		{in: `0`, err: "want \"flags tag value\""},
		{in: `0 iss-ue x`, err: "up to 255 letters and digits"},
		{in: `0 ` + strings.Repeat("a", 256) + ` x`, err: "up to 255 letters and digits"},
		{in: `256 issue x`, err: "flags"},
	} {
		rr, err := parseCAA("example.com.", "example.com.", tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: got %v, %v; want an error mentioning %q", tc.in, rr, err, tc.err)
			}
			continue
		}
		caa, ok := rr.(*dns.CAA)
		if err != nil || !ok || caa.Flag != tc.flag || caa.Tag != tc.tag || caa.Value != tc.value {
			t.Errorf("%q: got %v, %v; want %d %s %q", tc.in, rr, err, tc.flag, tc.tag, tc.value)
		}
	}
}

// TestHostNameValues: every value that names a host refuses the root with
// the same finding, and says why any other name is refused.
func TestHostNameValues(t *testing.T) {
	const head = "zones:\n  example.com:\n    ns: [ns1.example.net.]\n    records:\n      x: "
	for _, tc := range []struct{ yaml, want string }{
		{head + "{ptr: .}\n", `c.yaml:5:16: ptr ".": want a host name, not the root`},
		{head + "{ns: .}\n", `c.yaml:5:15: ns ".": want a host name, not the root`},
		{head + "{cname: .}\n", `c.yaml:5:18: cname ".": want a host name, not the root`},
		{head + "{cname: [a, b]}\n", `c.yaml:5:18: cname: a name has at most one CNAME`},
		{head + "{ptr: \"a b\"}\n", `c.yaml:5:16: ptr "a b": want a domain name`},
		{"zones:\n  example.com:\n    ns: [.]\n", `c.yaml:3:10: ns ".": want a host name, not the root`},
	} {
		wantOneError(t, tc.yaml, tc.want)
	}
}
