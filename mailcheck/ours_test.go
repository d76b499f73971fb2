package mailcheck

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// What zone's checks report of our records is not said again; what only
// resolving finds is, and a fix names the key to write.
func TestOurs(t *testing.T) {
	var many []string
	for _, l := range []string{"a", "b", "c", "d", "e", "f"} {
		many = append(many, "a:"+l+".ours.example")
	}
	w := newWorld(t,
		except("ours.example", "spf1", "DMARC1"),
		`ours.example. TXT "v=spf1 ptr include:_spf.ours.example include:prov.example -all"`,
		`_spf.ours.example. TXT "not spf"`,
		`prov.example. TXT "v=spf1 ptr a mx ~all"`, "prov.example. A 192.0.2.9", "prov.example. MX 10 prov.example.",
		`_dmarc.ours.example. TXT "v=DMARC1; p=maybe"`,
		// Over the limit through our names alone: zone says so.
		except("many.ours.example", "spf1"), `many.ours.example. TXT "v=spf1 `+strings.Join(many, " ")+` include:_spf2.ours.example -all"`,
		`_spf2.ours.example. TXT "v=spf1 a:g.ours.example a:h.ours.example a:i.ours.example a:j.ours.example -all"`,
		except("rep.example", "DMARC1"), `_dmarc.rep.example. TXT "v=DMARC1; p=reject; rua=mailto:d@ours.example,mailto:e@sub.ours.example"`,
	)
	for _, l := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"} {
		w.replace(t, l+".ours.example. A 192.0.2.1")
	}
	zone := func(name string) string {
		if dns.IsSubDomain("ours.example.", dns.CanonicalName(name)) {
			return "ours.example."
		}
		return ""
	}
	ds := domains("ours.example", "many.ours.example", "rep.example")
	var b strings.Builder
	for _, z := range []func(string) string{nil, zone} {
		b.WriteString(map[bool]string{true: "### nothing ours\n", false: "### ours.example ours\n"}[z == nil])
		fs := Check(context.Background(), Options{Exchange: w.exchange, Zone: z, Now: func() time.Time { return now }}, ds)
		var keep []Finding
		for _, f := range fs {
			if f.Check == "spf" || f.Check == "dmarc" {
				keep = append(keep, f)
			}
		}
		b.WriteString(report(ds, keep))
	}
	golden(t, "ours", b.String())
}

// A run asks each question once, however many checks need the answer.
func TestCachedAsksOnce(t *testing.T) {
	w := newWorld(t, except("a.example", "spf1"), except("b.example", "spf1"),
		`a.example. TXT "v=spf1 include:shared.example -all"`, `b.example. TXT "v=spf1 include:shared.example -all"`,
		`shared.example. TXT "v=spf1 a:shared.example ~all"`, "shared.example. A 192.0.2.1")
	Check(context.Background(), Options{Exchange: w.exchange}, domains("a.example", "b.example"))
	for q, n := range w.asked {
		if n != 1 {
			t.Errorf("%s asked %d times", q, n)
		}
	}
	if w.asked["shared.example TXT"] != 1 || w.asked["mx.a.example AAAA"] != 1 {
		t.Errorf("questions asked: %v", w.asked)
	}
}
