package mailcheck

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// Every SPF finding, each on a domain of its own that is otherwise right.
func TestSPF(t *testing.T) {
	long := `long.example. TXT "v=spf1 ` + strings.Repeat("ip4:192.0.2.0/24 ", 14) + `-all"` + "\n" +
		`long.example. TXT "google-site-verification=` + strings.Repeat("x", 200) + `"`
	var big []string
	for i := range 11 {
		big = append(big, fmt.Sprintf("big.example. MX %d mx%d.big.example.", i, i))
	}
	w := newWorld(t,
		std("ok.example"),
		except("nospf.example", "spf1"),
		except("two.example", "spf1"), `two.example. TXT "v=spf1 mx -all"`, `two.example. TXT "v=spf1 a -all"`,
		except("syntax.example", "spf1"), `syntax.example. TXT "v=spf1 mx bogus:x -all"`,
		except("plusall.example", "spf1"), `plusall.example. TXT "v=spf1 mx +all"`,
		except("neutral.example", "spf1"), `neutral.example. TXT "v=spf1 mx ?all"`,
		except("ptr.example", "spf1"), `ptr.example. TXT "v=spf1 ptr -all"`,
		except("after.example", "spf1"), `after.example. TXT "v=spf1 -all mx a:x.after.example"`,
		// 1 + (a, mx, exists, include: 2 more) + 1 + (3 a's) + mx = 12
		except("limit.example", "spf1"), `limit.example. TXT "v=spf1 include:a.prov.example include:b.prov.example mx -all"`,
		`a.prov.example. TXT "v=spf1 a mx exists:e.prov.example include:c.prov.example ~all"`,
		`a.prov.example. A 192.0.2.1`, `a.prov.example. MX 10 a.prov.example.`, `e.prov.example. A 127.0.0.2`,
		`c.prov.example. TXT "v=spf1 a:c.prov.example mx:a.prov.example ~all"`, `c.prov.example. A 192.0.2.3`,
		`b.prov.example. TXT "v=spf1 a:a.prov.example a:c.prov.example a:e.prov.example ~all"`,
		except("void.example", "spf1"), `void.example. TXT "v=spf1 a:gone1.example a:gone2.example mx:gone3.example -all"`,
		except("mx10.example", "spf1"), `mx10.example. TXT "v=spf1 mx:big.example -all"`, strings.Join(big, "\n"),
		except("loop.example", "spf1"), `loop.example. TXT "v=spf1 include:loop2.example -all"`,
		`loop2.example. TXT "v=spf1 include:loop.example ~all"`,
		except("missing.example", "spf1"), `missing.example. TXT "v=spf1 include:nothere.example -all"`,
		except("badinc.example", "spf1"), `badinc.example. TXT "v=spf1 include:badrec.example -all"`,
		`badrec.example. TXT "v=spf1 ip4:300.1.1.1 ~all"`,
		except("incall.example", "spf1"), `incall.example. TXT "v=spf1 include:open.example -all"`,
		`open.example. TXT "v=spf1 +all"`,
		except("redirect.example", "spf1"), `redirect.example. TXT "v=spf1 mx redirect=_spf.redirect.example"`,
		`_spf.redirect.example. TXT "v=spf1 a:mx.redirect.example ?all"`,
		except("redirnone.example", "spf1"), `redirnone.example. TXT "v=spf1 redirect=_spf.redirnone.example"`,
		`_spf.redirnone.example. TXT "not spf"`,
		except("temp.example", "spf1"), `temp.example. TXT "v=spf1 include:broken.example include:slow.example -all"`,
		"SERVFAIL broken.example", "TIMEOUT slow.example",
		except("long.example", "spf1"), long,
		except("incptr.example", "spf1"), `incptr.example. TXT "v=spf1 include:ptrprov.example -all"`,
		`ptrprov.example. TXT "v=spf1 ptr:ptrprov.example ~all"`,
		except("macro.example", "spf1"), `macro.example. TXT "v=spf1 exists:%{i}._spf.macro.example include:%{d}.x.example -all"`,
		// Each record includes the next twice: 2^12 evaluations unbounded.
		except("fan.example", "spf1"), `fan.example. TXT "v=spf1 include:f1.example include:f1.example -all"`,
		fanOut(12),
		except("cname.example", "spf1"), `cname.example. TXT "v=spf1 include:alias.example -all"`,
		`alias.example. CNAME real.example.`, `real.example. TXT "v=spf1 ip4:192.0.2.0/24 ~all"`,
	)
	ds := domains("ok.example", "nospf.example", "two.example", "syntax.example", "plusall.example", "neutral.example",
		"ptr.example", "after.example", "limit.example", "void.example", "mx10.example", "loop.example", "missing.example",
		"badinc.example", "incall.example", "redirect.example", "redirnone.example", "temp.example", "long.example",
		"incptr.example", "macro.example", "fan.example", "cname.example")
	fs := Check(context.Background(), Options{Exchange: w.exchange, Now: func() time.Time { return now }}, ds)
	golden(t, "spf", report(ds, onlyCheck(fs, "spf")))
}

// fanOut is records f1 to fN.example, each including the next twice.
func fanOut(n int) string {
	var b strings.Builder
	for i := 1; i < n; i++ {
		fmt.Fprintf(&b, "f%d.example. TXT \"v=spf1 include:f%d.example include:f%d.example ~all\"\n", i, i+1, i+1)
	}
	fmt.Fprintf(&b, "f%d.example. TXT \"v=spf1 a:f%d.example ~all\"\nf%d.example. A 192.0.2.1", n, n, n)
	return b.String()
}

// onlyCheck keeps the findings of one check.
func onlyCheck(fs []Finding, check string) []Finding {
	var out []Finding
	for _, f := range fs {
		if f.Check == check {
			out = append(out, f)
		}
	}
	return out
}
