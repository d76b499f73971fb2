package mailcheck

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"github.com/mxdns/mxdns/internal/mailtest"
	"strings"
	"testing"
	"time"
)

// stsDomain is a domain with an MTA-STS record and TLS-RPT, its policy
// host at 192.0.2.80.
func stsDomain(d string) string {
	return std(d) + fmt.Sprintf(`
_mta-sts.%[1]s. TXT "v=STSv1; id=20260601"
_smtp._tls.%[1]s. TXT "v=TLSRPTv1; rua=mailto:tlsrpt@%[1]s"
mta-sts.%[1]s. A 192.0.2.80`, d)
}

func policy(d, mode string) mailtest.Page {
	return mailtest.Page{Type: "text/plain; charset=utf-8", Body: "version: STSv1\r\nmode: " + mode + "\r\nmx: mx." + d + "\r\nmax_age: 604800\r\n"}
}

// Every MTA-STS finding, each on a domain of its own; TLS-RPT's too.
func TestMTASTS(t *testing.T) {
	auth := mailtest.NewCA(t, "test CA", now)
	other := mailtest.NewCA(t, "someone else's CA", now)
	names := []string{"ok.example", "two.example", "badid.example", "nohost.example", "refused.example", "wrongcert.example",
		"untrusted.example", "expired.example", "soon.example", "redirect.example", "notfound.example", "html.example",
		"badpolicy.example", "short.example", "mismatch.example", "testing.example", "changed.example", "same.example",
		"norpt.example", "tworpt.example", "badrpt.example", "noruarpt.example", "none.example"}
	var lines []string
	pages := map[string]mailtest.Page{}
	for _, n := range names {
		lines = append(lines, stsDomain(n))
		pages["mta-sts."+n+"/.well-known/mta-sts.txt"] = policy(n, "enforce")
	}
	lines = append(lines,
		`_mta-sts.two.example. TXT "v=STSv1; id=2"`,
		`mismatch.example. MX 20 mx2.mismatch.example.`, "mx2.mismatch.example. A 192.0.2.26", "mx2.mismatch.example. AAAA 2001:db8::26",
		`testing.example. MX 20 mx2.testing.example.`, "mx2.testing.example. A 192.0.2.26", "mx2.testing.example. AAAA 2001:db8::26",
		`_smtp._tls.tworpt.example. TXT "v=TLSRPTv1; rua=mailto:b@tworpt.example"`,
	)
	w := newWorld(t, lines...)
	w.replace(t,
		`_mta-sts.badid.example. TXT "v=STSv1; id=2026-06-01"`,
		"mta-sts.refused.example. A 192.0.2.99",
		`_smtp._tls.badrpt.example. TXT "v=TLSRPTv1; rua=tlsrpt@badrpt.example"`,
		`_smtp._tls.noruarpt.example. TXT "v=TLSRPTv1"`,
	)
	// nohost has no policy host, norpt no TLS-RPT.
	delete(w.rrs, "mta-sts.nohost.example.")
	delete(w.rrs, "_smtp._tls.norpt.example.")

	certs := map[string]tls.Certificate{
		"mta-sts.wrongcert.example": auth.Valid(t, "www.wrongcert.example"),
		"mta-sts.untrusted.example": other.Valid(t, "mta-sts.untrusted.example"),
		"mta-sts.expired.example":   auth.Leaf(t, now.AddDate(-1, 0, 0), now.AddDate(0, -1, 0), "mta-sts.expired.example"),
		"mta-sts.soon.example":      auth.Leaf(t, now.AddDate(-1, 0, 0), now.Add(5*24*time.Hour+time.Hour), "mta-sts.soon.example"),
	}
	pages["mta-sts.redirect.example/.well-known/mta-sts.txt"] = mailtest.Page{Status: 301, Header: map[string]string{"Location": "https://www.redirect.example/mta-sts.txt"}}
	delete(pages, "mta-sts.notfound.example/.well-known/mta-sts.txt")
	pages["mta-sts.html.example/.well-known/mta-sts.txt"] = mailtest.Page{Type: "text/html", Body: policy("html.example", "enforce").Body}
	pages["mta-sts.badpolicy.example/.well-known/mta-sts.txt"] = mailtest.Page{Type: "text/plain", Body: "mode: strict\nmax_age: forever\njunk\n"}
	pages["mta-sts.short.example/.well-known/mta-sts.txt"] = mailtest.Page{Type: "text/plain", Body: "version: STSv1\nmode: testing\nmx: mx.short.example\nmax_age: 3600\n"}
	pages["mta-sts.mismatch.example/.well-known/mta-sts.txt"] = mailtest.Page{Type: "text/plain", Body: "version: STSv1\nmode: enforce\nmx: mx.mismatch.example\nmx: *.old.example\nmax_age: 604800\n"}
	pages["mta-sts.testing.example/.well-known/mta-sts.txt"] = mailtest.Page{Type: "text/plain", Body: "version: STSv1\nmode: testing\nmx: mx.testing.example\nmax_age: 604800\n"}
	pages["mta-sts.none.example/.well-known/mta-sts.txt"] = mailtest.Page{Type: "text/plain", Body: "version: STSv1\nmode: none\nmax_age: 86400\n"}

	var hosts []string
	for _, n := range names {
		hosts = append(hosts, "mta-sts."+n)
	}
	srv := mailtest.StartHTTPS(t, auth.Valid(t, hosts...), certs, pages)
	dial := mailtest.Dialer(map[string]string{"192.0.2.80:443": srv}, []string{"192.0.2.99:443"}, nil)
	client := HTTPClient(w.exchange, dial, auth.Pool, func() time.Time { return now }, 5*time.Second)
	store := memPolicies{
		"changed.example": {"20260601", "a digest of another policy"},
		"same.example":    {"20260601", digestOf(policy("same.example", "enforce").Body)},
	}
	ds := domains(names...)
	opts := Options{Exchange: w.exchange, HTTP: client, Policies: store, Now: func() time.Time { return now }}
	fs := Check(context.Background(), opts, ds)
	golden(t, "mtasts", report(ds, append(onlyCheck(fs, "mta-sts"), onlyCheck(fs, "tls-rpt")...)))
	if got := store["ok.example"]; got[0] != "20260601" || got[1] != digestOf(policy("ok.example", "enforce").Body) {
		t.Errorf("the policy of ok.example is not remembered: %q", got)
	}
	if got := store["changed.example"]; got[1] != "a digest of another policy" {
		t.Errorf("a policy changed under the same id replaced the one seen: %q", got)
	}

	// Without a store the check says it cannot tell, once per domain;
	// without an HTTP client, that it did not fetch.
	fs = Check(context.Background(), Options{Exchange: w.exchange, HTTP: client, Now: opts.Now}, domains("ok.example"))
	if len(fs) != 1 || fs[0].Severity != Note || !strings.Contains(fs[0].Msg, "no state directory") {
		t.Errorf("without a store: %v", fs)
	}
	fs = Check(context.Background(), Options{Exchange: w.exchange, Policies: memPolicies{}, Now: opts.Now}, domains("ok.example"))
	if len(fs) != 1 || fs[0].Severity != Note || !strings.Contains(fs[0].Msg, "not fetched") {
		t.Errorf("without a client: %v", fs)
	}
}

func digestOf(body string) string {
	sum := sha256.Sum256([]byte(body))
	return hex.EncodeToString(sum[:])
}

// Patterns match the host or one label left of the rest (RFC 8461 §4.1).
func TestSTSMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, host string
		want          bool
	}{
		{"mx.example.com", "mx.example.com.", true},
		{"mx.example.com", "MX.Example.com", true},
		{"*.example.com", "mx.example.com.", true},
		{"*.example.com", "example.com.", false},
		{"*.example.com", "a.mx.example.com.", false},
		{"mx.example.com", "mx2.example.com.", false},
	} {
		if got := stsMatch(tc.pattern, tc.host); got != tc.want {
			t.Errorf("stsMatch(%q, %q) = %v", tc.pattern, tc.host, got)
		}
	}
}
