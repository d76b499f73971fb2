package spf

import (
	"net/netip"
	"testing"
)

// data is a Resolver over a map: names absent from known are not known.
type data struct {
	txt   map[string][]string
	addrs map[string][]string
	mx    map[string][]string
	known map[string]bool
}

func (d data) TXT(name string) ([]string, bool) { return d.txt[name], d.known[name] }
func (d data) MX(name string) ([]string, bool)  { return d.mx[name], d.known[name] }
func (d data) Addrs(name string, v6 bool) ([]netip.Addr, bool) {
	var out []netip.Addr
	for _, s := range d.addrs[name] {
		if a := netip.MustParseAddr(s); a.Is6() == v6 {
			out = append(out, a)
		}
	}
	return out, d.known[name]
}

func TestCheck(t *testing.T) {
	d := data{
		txt: map[string][]string{
			"example.com.":      {"v=spf1 mx a:web.example.com/24 include:_spf.example.com ~all", "an unrelated text"},
			"_spf.example.com.": {"v=spf1 ip4:203.0.113.0/24 ip6:2001:db8::/32 -all"},
			"redir.example.":    {"v=spf1 redirect=example.com"},
			"two.example.":      {"v=spf1 -all", "v=spf1 +all"},
			"macro.example.":    {"v=spf1 include:%{d}.spf.example ip4:192.0.2.1 -all"},
			"far.example.":      {"v=spf1 include:spf.elsewhere.example -all"},
			"loop.example.":     {"v=spf1 include:loop.example -all"},
			"neutral.example.":  {"v=spf1 ?ip4:192.0.2.0/24"},
			"typo.example.":     {"v=spf1 ip4:192.0.2.1 inclde:_spf.example.com -all"},
		},
		addrs: map[string][]string{"mx1.example.com.": {"192.0.2.25", "2001:db8:1::25"}, "web.example.com.": {"198.51.100.80"}},
		mx:    map[string][]string{"example.com.": {"mx1.example.com."}},
		known: map[string]bool{"example.com.": true, "_spf.example.com.": true, "redir.example.": true, "two.example.": true,
			"macro.example.": true, "far.example.": true, "loop.example.": true, "neutral.example.": true, "typo.example.": true, "mx1.example.com.": true,
			"web.example.com.": true, "none.example.": true},
	}
	for _, tc := range []struct {
		domain, ip string
		want       Result
	}{
		{"example.com", "192.0.2.25", Pass},     // mx
		{"example.com", "2001:db8:1::25", Pass}, // mx, IPv6
		{"example.com", "198.51.100.7", Pass},   // a/24
		{"example.com", "203.0.113.9", Pass},    // include
		{"example.com", "2001:db8::1", Pass},    // include, ip6
		{"example.com", "192.0.2.26", SoftFail}, // ~all: the include's -all is no match
		{"redir.example", "192.0.2.25", Pass},
		{"redir.example", "10.0.0.1", SoftFail},
		{"two.example", "192.0.2.25", PermError},
		{"none.example", "192.0.2.25", None},
		{"unknown.example", "192.0.2.25", Unknown},
		{"macro.example", "192.0.2.1", Unknown}, // the macro comes first
		{"far.example", "192.0.2.1", Unknown},
		{"loop.example", "192.0.2.1", PermError},
		{"neutral.example", "192.0.2.1", Neutral},
		{"neutral.example", "10.0.0.1", Neutral}, // nothing matched
		{"typo.example", "192.0.2.1", PermError}, // a syntax error after the match still fails the whole record (RFC 7208 §4.6)
	} {
		got, why := Check(d, tc.domain, netip.MustParseAddr(tc.ip))
		if got != tc.want {
			t.Errorf("%s for %s: %s (%s), want %s", tc.domain, tc.ip, got, why, tc.want)
		}
	}
}
