package mailcheck

import (
	"context"
	"testing"
	"time"
)

// Every DMARC finding, each on a domain of its own that is otherwise right.
func TestDMARC(t *testing.T) {
	w := newWorld(t,
		std("ok.example"),
		except("none.example", "DMARC1"),
		except("sub.orgfb.example", "DMARC1"), std("orgfb.example"),
		except("sub.noorg.example", "DMARC1"), except("noorg.example", "DMARC1"),
		except("two.example", "DMARC1"), `_dmarc.two.example. TXT "v=DMARC1; p=reject"`, `_dmarc.two.example. TXT "v=DMARC1; p=none"`,
		except("syntax.example", "DMARC1"), `_dmarc.syntax.example. TXT "v=DMARC1; p=maybe"`,
		except("nop.example", "DMARC1"), `_dmarc.nop.example. TXT "v=DMARC1; p=reject; bogus"`,
		except("removed.example", "DMARC1"), `_dmarc.removed.example. TXT "v=DMARC1; p=reject; pct=50; rf=afrf; ri=3600; rua=mailto:d@removed.example"`,
		except("norua.example", "DMARC1"), `_dmarc.norua.example. TXT "v=DMARC1; p=none"`,
		except("weaksp.example", "DMARC1"), `_dmarc.weaksp.example. TXT "v=DMARC1; p=reject; sp=none; rua=mailto:d@weaksp.example"`,
		except("strict.example", "DMARC1"), `_dmarc.strict.example. TXT "v=DMARC1; p=reject; sp=quarantine; rua=mailto:d@strict.example"`,
		except("sub.strict.example", "DMARC1"), `_dmarc.sub.strict.example. TXT "v=DMARC1; p=none; rua=mailto:d@strict.example"`,
		except("extrep.example", "DMARC1"),
		`_dmarc.extrep.example. TXT "v=DMARC1; p=reject; rua=mailto:d@reports.example,mailto:x@mail.extrep.example; ruf=mailto:f@authd.example!10m"`,
		`extrep.example._report._dmarc.authd.example. TXT "v=DMARC1"`,
		except("wildrep.example", "DMARC1"), `_dmarc.wildrep.example. TXT "v=DMARC1; p=reject; rua=mailto:d@wild.example"`,
		`*._report._dmarc.wild.example. TXT "v=DMARC1"`,
		except("temp.example", "DMARC1"), "SERVFAIL _dmarc.temp.example",
		except("authtemp.example", "DMARC1"), `_dmarc.authtemp.example. TXT "v=DMARC1; p=reject; rua=mailto:d@slowrep.example"`,
		"TIMEOUT authtemp.example._report._dmarc.slowrep.example",
	)
	ds := domains("ok.example", "none.example", "sub.orgfb.example", "sub.noorg.example", "two.example", "syntax.example",
		"nop.example", "removed.example", "norua.example", "weaksp.example", "sub.strict.example", "extrep.example",
		"wildrep.example", "temp.example", "authtemp.example")
	fs := Check(context.Background(), Options{Exchange: w.exchange, Now: func() time.Time { return now }}, ds)
	golden(t, "dmarc", report(ds, onlyCheck(fs, "dmarc")))
}
