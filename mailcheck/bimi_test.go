package mailcheck

import (
	"context"
	"encoding/pem"
	"fmt"
	"github.com/mxdns/mxdns/internal/mailtest"
	"strings"
	"testing"
	"time"
)

const tinySVG = `<svg xmlns="http://www.w3.org/2000/svg" version="1.2" baseProfile="tiny-ps"><title>Brand</title></svg>`

func bimiDomain(d, record string) string {
	return std(d) + fmt.Sprintf("\ndefault._bimi.%s. TXT %q", d, record)
}

// Every BIMI finding, each on a domain of its own; the logos and mark
// certificates are served by an HTTPS server of the test.
func TestBIMI(t *testing.T) {
	auth := mailtest.NewCA(t, "test CA", now)
	vmc := func(notAfter time.Time) string {
		c := auth.Leaf(t, now.AddDate(-1, 0, 0), notAfter, "brand.example")
		return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate[0]}))
	}
	img := "https://img.example/"
	rec := func(logo, evidence string) string { return "v=BIMI1; l=" + img + logo + "; a=" + img + evidence }
	w := newWorld(t,
		"img.example. A 192.0.2.81",
		bimiDomain("ok.example", rec("ok.svg", "vmc.pem")),
		bimiDomain("policynone.example", rec("ok.svg", "vmc.pem")),
		bimiDomain("sub.orgnone.example", rec("ok.svg", "vmc.pem")), except("orgnone.example", "DMARC1"),
		`_dmarc.orgnone.example. TXT "v=DMARC1; p=reject; sp=none; rua=mailto:d@orgnone.example"`,
		bimiDomain("nodmarc.example", rec("ok.svg", "vmc.pem")),
		bimiDomain("pct.example", rec("ok.svg", "vmc.pem")),
		bimiDomain("noevidence.example", "v=BIMI1; l="+img+"ok.svg"),
		bimiDomain("png.example", rec("logo.png", "vmc.pem")),
		bimiDomain("notiny.example", rec("plain.svg", "vmc.pem")),
		bimiDomain("huge.example", rec("huge.svg", "vmc.pem")),
		bimiDomain("http.example", "v=BIMI1; l=http://img.example/ok.svg; a="+img+"vmc.pem"),
		bimiDomain("nologo.example", rec("missing.svg", "vmc.pem")),
		bimiDomain("expired.example", rec("ok.svg", "expired.pem")),
		bimiDomain("soon.example", rec("ok.svg", "soon.pem")),
		bimiDomain("notpem.example", rec("ok.svg", "ok.svg")),
		bimiDomain("declined.example", "v=BIMI1; l=; a=;"),
		bimiDomain("two.example", rec("ok.svg", "vmc.pem")), `default._bimi.two.example. TXT "v=BIMI1; l=https://img.example/ok.svg"`,
		bimiDomain("broken.example", "v=BIMI1 l=x"),
	)
	w.replace(t,
		`_dmarc.policynone.example. TXT "v=DMARC1; p=none; rua=mailto:d@policynone.example"`,
		`_dmarc.pct.example. TXT "v=DMARC1; p=quarantine; pct=20; rua=mailto:d@pct.example"`,
	)
	delete(w.rrs, "_dmarc.nodmarc.example.")
	delete(w.rrs, "_dmarc.sub.orgnone.example.")
	svg := "image/svg+xml"
	pages := map[string]mailtest.Page{
		"img.example/ok.svg":      {Type: svg, Body: tinySVG},
		"img.example/plain.svg":   {Type: svg, Body: `<svg xmlns="http://www.w3.org/2000/svg"></svg>`},
		"img.example/huge.svg":    {Type: svg, Body: strings.Replace(tinySVG, "Brand", strings.Repeat("x", 40*1024), 1)},
		"img.example/logo.png":    {Type: "image/png", Body: "\x89PNG\r\n\x1a\n"},
		"img.example/vmc.pem":     {Type: "application/x-pem-file", Body: vmc(now.AddDate(1, 0, 0))},
		"img.example/expired.pem": {Type: "application/x-pem-file", Body: vmc(now.AddDate(0, -2, 0))},
		"img.example/soon.pem":    {Type: "application/x-pem-file", Body: vmc(now.Add(3*24*time.Hour + time.Hour))},
	}
	srv := mailtest.StartHTTPS(t, auth.Valid(t, "img.example"), nil, pages)
	dial := mailtest.Dialer(map[string]string{"192.0.2.81:443": srv}, nil, nil)
	names := []string{"ok.example", "policynone.example", "sub.orgnone.example", "nodmarc.example", "pct.example",
		"noevidence.example", "png.example", "notiny.example", "huge.example", "http.example", "nologo.example",
		"expired.example", "soon.example", "notpem.example", "declined.example", "two.example", "broken.example"}
	ds := domains(names...)
	clock := func() time.Time { return now }
	opts := Options{Exchange: w.exchange, HTTP: HTTPClient(w.exchange, dial, auth.Pool, clock, 5*time.Second), Now: clock}
	fs := Check(context.Background(), opts, ds)
	golden(t, "bimi", report(ds, onlyCheck(fs, "bimi")))
}
