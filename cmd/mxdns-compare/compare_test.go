package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/zone"
)

func msg(t *testing.T, rcode int, aa bool, answer, ns, extra []string) *reply {
	t.Helper()
	m := new(dns.Msg)
	m.Rcode, m.Authoritative = rcode, aa
	for _, sec := range []struct {
		in  []string
		out *[]dns.RR
	}{{answer, &m.Answer}, {ns, &m.Ns}, {extra, &m.Extra}} {
		for _, s := range sec.in {
			rr, err := dns.NewRR(s)
			if err != nil {
				t.Fatal(err)
			}
			*sec.out = append(*sec.out, rr)
		}
	}
	return reduce(m)
}

const (
	soa   = "example.com. 300 IN SOA ns1.example.com. hostmaster.example.com. 1 3600 900 1209600 300"
	nsRR  = "example.com. 3600 IN NS ns1.example.com."
	glue  = "ns1.example.com. 3600 IN A 192.0.2.53"
	aRR   = "www.example.com. 3600 IN A 192.0.2.1"
	aRR2  = "www.example.com. 3600 IN A 192.0.2.2"
	mxRR  = "example.com. 3600 IN MX 10 mx1.example.com."
	cname = "www.example.com. 3600 IN CNAME host.example.net."
)

func TestDifferences(t *testing.T) {
	base := msg(t, dns.RcodeSuccess, true, []string{aRR, aRR2}, nil, nil)
	tests := []struct {
		name string
		got  *reply
		want int // number of differences
	}{
		{"same", msg(t, dns.RcodeSuccess, true, []string{aRR, aRR2}, nil, nil), 0},
		{"order does not matter", msg(t, dns.RcodeSuccess, true, []string{aRR2, aRR}, nil, nil), 0},
		{"case of names does not matter", msg(t, dns.RcodeSuccess, true, []string{strings.ToUpper(aRR[:16]) + aRR[16:], aRR2}, nil, nil), 0},
		{"rcode", msg(t, dns.RcodeNameError, true, []string{aRR, aRR2}, nil, nil), 1},
		{"AA", msg(t, dns.RcodeSuccess, false, []string{aRR, aRR2}, nil, nil), 1},
		{"missing record", msg(t, dns.RcodeSuccess, true, []string{aRR}, nil, nil), 1},
		{"TTL", msg(t, dns.RcodeSuccess, true, []string{aRR, strings.Replace(aRR2, "3600", "300", 1)}, nil, nil), 2},
		{"extra section", msg(t, dns.RcodeSuccess, true, []string{aRR, aRR2}, []string{soa}, nil), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d := differences(tt.got, base); len(d) != tt.want {
				t.Errorf("%d differences, want %d: %q", len(d), tt.want, d)
			}
		})
	}
}

// TestAllowancesKeepRealDifferences checks that each allowance hides only
// the difference it documents, never a wrong answer from mxdns.
func TestAllowancesKeepRealDifferences(t *testing.T) {
	full := func() *reply { return msg(t, dns.RcodeSuccess, true, []string{mxRR}, nil, nil) }
	tests := []struct {
		name      string
		q         query
		ref       string
		got, want *reply
		pass      bool
	}{
		{"nsd authority NS allowed", query{name: "www.example.com.", qtype: dns.TypeA}, "nsd",
			msg(t, 0, true, []string{aRR}, nil, nil), msg(t, 0, true, []string{aRR}, []string{nsRR}, []string{glue}), true},
		{"nsd authority NS does not hide a wrong answer", query{name: "www.example.com.", qtype: dns.TypeA}, "nsd",
			msg(t, 0, true, []string{aRR2}, nil, nil), msg(t, 0, true, []string{aRR}, []string{nsRR}, []string{glue}), false},
		{"knot gets no authority NS allowance", query{name: "www.example.com.", qtype: dns.TypeA}, "knot",
			msg(t, 0, true, []string{aRR}, nil, nil), msg(t, 0, true, []string{aRR}, []string{nsRR}, []string{glue}), false},
		{"nsd ANY picks another RRset", query{name: "example.com.", qtype: dns.TypeANY}, "nsd",
			msg(t, 0, true, []string{nsRR}, nil, nil), msg(t, 0, true, []string{soa}, nil, nil), true},
		{"ANY with nothing is not allowed", query{name: "example.com.", qtype: dns.TypeANY}, "nsd",
			msg(t, 0, true, nil, []string{soa}, nil), msg(t, 0, true, []string{soa}, nil, nil), false},
		{"CNAME out of every zone is compared", query{name: "www.example.com.", qtype: dns.TypeA}, "nsd",
			msg(t, 0, true, []string{cname}, nil, nil), msg(t, 0, true, []string{cname, "host.example.net. 300 IN A 192.0.2.9"}, nil, nil), false},
		{"CNAME into another served zone", query{name: "www.example.com.", qtype: dns.TypeA}, "nsd",
			msg(t, 0, true, []string{"www.example.com. 3600 IN CNAME host.example.org."}, nil, nil),
			msg(t, 0, true, []string{"www.example.com. 3600 IN CNAME host.example.org.", "host.example.org. 300 IN A 192.0.2.9"}, nil, nil), true},
		{"additional differences when nothing was cut", query{name: "example.com.", qtype: dns.TypeMX}, "knot",
			msg(t, 0, true, []string{mxRR}, nil, nil), msg(t, 0, true, []string{mxRR}, nil, []string{glue}), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, w := *tt.got, *tt.want
			for _, a := range allowed {
				if slices.Contains(a.refs, tt.ref) {
					a.applies(&check{q: tt.q, got: &g, want: &w, zones: []string{"example.com.", "example.org."}, full: full})
				}
			}
			if d := differences(&g, &w); (len(d) == 0) != tt.pass {
				t.Errorf("differences after allowances: %q; want pass %v", d, tt.pass)
			}
		})
	}
}

func TestRewriteConfig(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(src, []byte("listen: [\"127.0.0.1:5353\"]\nzone_files: [\"zones/*.yaml\"]\nzones: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "out.yaml")
	if err := rewriteConfig(src, dst); err != nil {
		t.Fatal(err)
	}
	out, _ := os.ReadFile(dst)
	if !strings.Contains(string(out), "127.0.0.1:0") || strings.Contains(string(out), "127.0.0.1:5353") ||
		!strings.Contains(string(out), filepath.Join(dir, "zones/*.yaml")) {
		t.Errorf("rewritten config:\n%s", out)
	}
	if err := os.WriteFile(src, []byte("links: []\nzones: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := rewriteConfig(src, dst); err == nil || !strings.Contains(err.Error(), "links") {
		t.Errorf("config with links: %v, want an error naming links", err)
	}
}

func TestGenerateQueries(t *testing.T) {
	snap, diags := zone.FromYAML("test.yaml", []byte(`
zones:
  example.com:
    ns: [ns1]
    records:
      ns1: {a: 192.0.2.53}
      "*.dyn": {a: 192.0.2.99}
      deep.ent: {txt: x}
      sub: {ns: [ns1]}
`), nil)
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	seen := make(map[string]bool)
	for _, q := range generateQueries(snap) {
		seen[q.name] = true
	}
	for _, name := range []string{
		"example.com.", "ExAmPlE.cOm.", "ent.example.com.", "w1.dyn.example.com.", "zz-nx.sub.example.com.",
		"zz-nx.example.com.", "ns1-zz.example.com.", "com.", "example.invalid.",
	} {
		if !seen[name] {
			t.Errorf("no query for %s", name)
		}
	}
}
