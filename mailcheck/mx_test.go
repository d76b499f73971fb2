package mailcheck

import (
	"context"
	"fmt"
	"github.com/mxdns/mxdns/internal/mailtest"
	"testing"
	"time"
)

// The MX hosts' findings: no address, no IPv6, a domain that does not
// exist; a null MX has none.
func TestMX(t *testing.T) {
	w := newWorld(t,
		std("ok.example"),
		except("nov6.example", "AAAA"),
		except("noaddr.example", "mx.noaddr"), "noaddr.example. MX 10 mx.noaddr.example.",
		except("shown.example", "mx.shown"), "shown.example. MX 10 mx.shown.example.",
		except("null.example", "MX"), "null.example. MX 0 .", `null.example. TXT "v=spf1 -all"`,
		except("temp.example", "MX"), "SERVFAIL temp.example",
		except("hosttemp.example", "mx.hosttemp"), "hosttemp.example. MX 10 mx.hosttemp.example.", "SERVFAIL mx.hosttemp.example",
	)
	ds := domains("ok.example", "nov6.example", "noaddr.example", "gone.example", "null.example", "temp.example", "hosttemp.example")
	ds = append(ds, Domain{Name: "shown.example", PlanShown: true}, Domain{Name: "gone2.example", PlanShown: true})
	fs := Check(context.Background(), Options{Exchange: w.exchange, Now: func() time.Time { return now }}, ds)
	golden(t, "mx", report(ds, onlyCheck(fs, "mx")))
	for _, f := range fs {
		if f.Domain == "gone.example." && f.Check != "mx" {
			t.Errorf("a domain that does not exist got more than one finding: %v", f)
		}
	}
}

// smtpDomain is a domain whose one MX host has the address 192.0.2.n
// and 2001:db8::n.
func smtpDomain(d string, n int) string {
	return except(d, "mx."+d) + fmt.Sprintf("\n%[1]s. MX 10 mx.%[1]s.\nmx.%[1]s. A 192.0.2.%[2]d\nmx.%[1]s. AAAA 2001:db8::%[2]d", d, n)
}

// MX hosts asked over SMTP, each a responder of the test: its greeting,
// STARTTLS and certificate, judged harder under an MTA-STS policy in
// mode enforce.
func TestSMTP(t *testing.T) {
	auth := mailtest.NewCA(t, "test CA", now)
	other := mailtest.NewCA(t, "someone else's CA", now)
	type host struct {
		domain string
		b      mailtest.SMTP
		sts    bool
	}
	hosts := []host{
		{domain: "ok.example", b: mailtest.SMTP{Cert: auth.Valid(t, "mx.ok.example")}},
		{domain: "notls.example", b: mailtest.SMTP{NoTLS: true}},
		{domain: "enforcenotls.example", b: mailtest.SMTP{NoTLS: true}, sts: true},
		{domain: "greet.example", b: mailtest.SMTP{Greeting: "554 mx.greet.example no service"}},
		{domain: "refused.example"},
		{domain: "wrongcert.example", b: mailtest.SMTP{Cert: auth.Valid(t, "mail.wrongcert.example")}},
		{domain: "enforcecert.example", b: mailtest.SMTP{Cert: other.Valid(t, "mx.enforcecert.example")}, sts: true},
		{domain: "soon.example", b: mailtest.SMTP{Cert: auth.Leaf(t, now.AddDate(-1, 0, 0), now.Add(2*24*time.Hour+time.Hour), "mx.soon.example")}},
	}
	routes := map[string]string{"192.0.2.80:443": ""}
	var lines, names, stsNames []string
	var refused, unreachable []string
	pages := map[string]mailtest.Page{}
	for i, h := range hosts {
		n := 30 + i
		names = append(names, h.domain)
		lines = append(lines, smtpDomain(h.domain, n))
		unreachable = append(unreachable, fmt.Sprintf("[2001:db8::%d]:25", n))
		if h.domain == "refused.example" {
			refused = append(refused, fmt.Sprintf("192.0.2.%d:25", n))
		} else {
			routes[fmt.Sprintf("192.0.2.%d:25", n)] = mailtest.StartSMTP(t, h.b)
		}
		if h.sts {
			stsNames = append(stsNames, h.domain)
			lines = append(lines, fmt.Sprintf("_mta-sts.%[1]s. TXT \"v=STSv1; id=1\"\n_smtp._tls.%[1]s. TXT \"v=TLSRPTv1; rua=mailto:t@%[1]s\"\nmta-sts.%[1]s. A 192.0.2.80", h.domain))
			pages["mta-sts."+h.domain+"/.well-known/mta-sts.txt"] = policy(h.domain, "enforce")
		}
	}
	var stsHosts []string
	for _, n := range stsNames {
		stsHosts = append(stsHosts, "mta-sts."+n)
	}
	routes["192.0.2.80:443"] = mailtest.StartHTTPS(t, auth.Valid(t, stsHosts...), nil, pages)
	w := newWorld(t, lines...)
	dial := mailtest.Dialer(routes, refused, unreachable)
	clock := func() time.Time { return now }
	opts := Options{
		Exchange: w.exchange,
		HTTP:     HTTPClient(w.exchange, dial, auth.Pool, clock, 5*time.Second),
		SMTP:     &SMTPOptions{Dial: dial, HELO: "checker.test", Roots: auth.Pool, Timeout: 5 * time.Second},
		Policies: memPolicies{},
		Now:      clock,
	}
	ds := domains(names...)
	fs := Check(context.Background(), opts, ds)
	golden(t, "smtp", report(ds, onlyCheck(fs, "smtp")))
}
