package zone

import (
	"fmt"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// oneSetConfig is a zone whose name www holds n different A records, then
// the first dups of them again.
func oneSetConfig(n, dups int) []byte {
	var b strings.Builder
	b.WriteString("zones:\n  example.com:\n    ns: [ns1.example.net.]\n    records:\n      www:\n        a:\n")
	for i := range n + dups {
		i %= n
		fmt.Fprintf(&b, "          - 10.%d.%d.%d\n", i>>16&255, i>>8&255, i&255)
	}
	return []byte(b.String())
}

// TestLargeRRset loads 200,000 addresses in one set: adding each record
// compared it with every one before, which took minutes at this size.
func TestLargeRRset(t *testing.T) {
	const n = 200_000
	s, diags := FromYAML("c.yaml", oneSetConfig(n, 2), nil)
	if s == nil {
		t.Fatal(diags.Err())
	}
	rrs, ok := s.Records("example.com.")
	if !ok {
		t.Fatal("zone example.com missing")
	}
	count := 0
	for _, rr := range rrs {
		if rr.Header().Name == "www.example.com." && rr.Header().Rrtype == dns.TypeA {
			count++
		}
	}
	if count != n {
		t.Errorf("www has %d A records, want %d", count, n)
	}
	// The records written again are dropped, each with a warning at its line.
	var warned []string
	for _, d := range diags.Warnings() {
		warned = append(warned, d.String())
	}
	want := []string{
		fmt.Sprintf("c.yaml:%d:13: warning: a is written twice; it is served once", 7+n),
		fmt.Sprintf("c.yaml:%d:13: warning: a is written twice; it is served once", 8+n),
	}
	if strings.Join(warned, "\n") != strings.Join(want, "\n") {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(warned, "\n"), strings.Join(want, "\n"))
	}
}

// TestRRsetDuplicates keeps RFC 2181 §5: a record equal to one before it
// in the set (names compared without case, text with) is dropped with a
// warning, on a link as elsewhere.
func TestRRsetDuplicates(t *testing.T) {
	const config = `links: {wan1: {}, wan2: {}}
zones:
  example.com:
    ns: [ns1.example.net.]
    records:
      "@":
        mx: ["10;mx1", "10;MX1", "20;mx1", "10;mx1.example.com."]
        txt: [abc, ABC, abc]
        aaaa: ["2001:db8::1", "2001:DB8::1", "2001:db8:0::1"]
      www:
        a: {wan1: [192.0.2.1, 192.0.2.1, 192.0.2.2], wan2: [192.0.2.1, 192.0.2.3, 192.0.2.3]}
      mx1: {a: 192.0.2.25}
`
	s, diags := FromYAML("c.yaml", []byte(config), nil)
	if s == nil {
		t.Fatal(diags.Err())
	}
	var warned []string
	for _, d := range diags.Warnings() {
		warned = append(warned, d.String())
	}
	want := []string{
		"c.yaml:7:24: warning: mx is written twice; it is served once",
		"c.yaml:7:44: warning: mx is written twice; it is served once",
		"c.yaml:8:25: warning: txt is written twice; it is served once",
		"c.yaml:9:31: warning: aaaa is written twice; it is served once",
		"c.yaml:9:46: warning: aaaa is written twice; it is served once",
		"c.yaml:11:31: warning: a is written twice; it is served once",
		"c.yaml:11:83: warning: a is written twice; it is served once",
	}
	if strings.Join(warned, "\n") != strings.Join(want, "\n") {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(warned, "\n"), strings.Join(want, "\n"))
	}
	rrs, _ := s.Records("example.com.")
	var got []string
	for _, rr := range rrs {
		if rr.Header().Rrtype != dns.TypeSOA && rr.Header().Rrtype != dns.TypeNS {
			got = append(got, strings.ReplaceAll(rr.String(), "\t", " "))
		}
	}
	wantRRs := []string{
		"example.com. 3600 IN MX 10 mx1.example.com.",
		"example.com. 3600 IN MX 20 mx1.example.com.",
		`example.com. 3600 IN TXT "abc"`,
		`example.com. 3600 IN TXT "ABC"`,
		"example.com. 3600 IN AAAA 2001:db8::1",
		"mx1.example.com. 3600 IN A 192.0.2.25",
		"www.example.com. 3600 IN A 192.0.2.1",
		"www.example.com. 3600 IN A 192.0.2.2",
		"www.example.com. 3600 IN A 192.0.2.3",
	}
	if strings.Join(got, "\n") != strings.Join(wantRRs, "\n") {
		t.Errorf("records:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantRRs, "\n"))
	}
}

// BenchmarkLargeRRset is the load of one zone holding one set of 20,000
// addresses: it grows with the square of the set's size if duplicates are
// found by comparing each record with every other.
func BenchmarkLargeRRset(b *testing.B) {
	text := oneSetConfig(20_000, 0)
	for b.Loop() {
		if s, diags := FromYAML("c.yaml", text, nil); s == nil {
			b.Fatal(diags.Err())
		}
	}
}
