package zone

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/spf"
)

const mailConfig = `
links:
  wan1: {state: up}
  wan2: {state: up}
zones:
  example.com:
    ttl: 3600
    ns: [ns1]
    records:
      "@":
        mx: ["10;mx1", "20;mx2"]
        spf: "v=spf1   mx  ip4:192.0.2.0/24 -all"
        dmarc: {rua: ["mailto:d@example.com", "mailto:e@example.net"], p: reject, pct: "50", adkim: s}
        dkim:
          - {selector: s1, key: "` + dkimKey + `"}
          - {selector: Ed, key: "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=", k: ed25519, t: "y"}
        mta_sts: {id: "20261123"}
        tls_rpt: ["mailto:tlsrpt@example.com", "https://report.example.com/tls"]
      mta-sts: {a: 192.0.2.80}
      mx1: {a: {wan1: 192.0.2.25, wan2: 198.51.100.25}, aaaa: "2001:db8::25"}
      mx2: {a: 192.0.2.26}
      relay: {a: 192.0.2.26}
      named: {a: 192.0.2.27}
      _smtp._tls: {a: 192.0.2.99}
      printer: {null_mx: true, spf: "-all"}
      _25._tcp.mx1: {tlsa: "3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}
      ns1: {a: 192.0.2.1}
  192.0.2.0/24:
    ns: [ns1.example.com.]
    ttl: 600
    records:
      "27": {ptr: mx2.example.com.}
  198.51.100.0/24:
    ns: [ns1.example.com.]
  2001:db8::/32:
    ns: [ns1.example.com.]
    auto_ptr: false
`

// dkimKey is a 2048-bit RSA public key: longer than one TXT string.
const dkimKey = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAjN2xVrs1IQ0QOIIKqxeit74nZftH58H4nfXZ06IcRV5kz+aMG0+BubH6SwZHFK7WMuEUW+qDbkU45+WUyWpaa+PPlHOcCTb8bCbVSMKnhoqw5aE/6Oe0H+2Ss+v3+u7ZOv9MFflKpu+Vc+v00r3DfZLfHFSaizk0f8XAqWbdCDE2HVvZyLLZ7SBIibg8MZz82bF7IesGjlMmiIjcBqebqouocLahVdnjZR5bX0BbThiUnNAgSgjSEEXlGqGYnNSVZl2WiaObPPd5m1vrByCGX/3y3JhMGiC2moWwYeCBfhqY55RaPXvFpPqtmtx8wA944GKn0ohMK5xZbxSubVqe2wIDAQAB"

func TestMailHelpersExpand(t *testing.T) {
	snap := mustSnapshot(t, mailConfig)
	dkimText := "v=DKIM1; k=rsa; p=" + dkimKey
	tests := []lookupCase{
		{name: "spf", qname: "example.com.", qtype: dns.TypeTXT,
			answer: []string{`example.com. 3600 IN TXT "v=spf1 mx ip4:192.0.2.0/24 -all"`}},
		{name: "dmarc in fixed tag order", qname: "_dmarc.example.com.", qtype: dns.TypeTXT,
			answer: []string{`_dmarc.example.com. 3600 IN TXT "v=DMARC1; p=reject; adkim=s; pct=50; rua=mailto:d@example.com,mailto:e@example.net"`}},
		{name: "dkim split at 255", qname: "s1._domainkey.example.com.", qtype: dns.TypeTXT,
			answer: []string{`s1._domainkey.example.com. 3600 IN TXT "` + dkimText[:255] + `" "` + dkimText[255:] + `"`}},
		{name: "dkim ed25519, selector lower case", qname: "ed._domainkey.example.com.", qtype: dns.TypeTXT,
			answer: []string{`ed._domainkey.example.com. 3600 IN TXT "v=DKIM1; k=ed25519; t=y; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="`}},
		{name: "mta-sts", qname: "_mta-sts.example.com.", qtype: dns.TypeTXT,
			answer: []string{`_mta-sts.example.com. 3600 IN TXT "v=STSv1; id=20261123"`}},
		{name: "tls-rpt merged with an explicit name of another type", qname: "_smtp._tls.example.com.", qtype: dns.TypeTXT,
			answer: []string{`_smtp._tls.example.com. 3600 IN TXT "v=TLSRPTv1; rua=mailto:tlsrpt@example.com,https://report.example.com/tls"`}},
		{name: "DANE TLSA for the MX host", qname: "_25._tcp.mx1.example.com.", qtype: dns.TypeTLSA,
			answer: []string{`_25._tcp.mx1.example.com. 3600 IN TLSA 3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef`}},
		{name: "null mx", qname: "printer.example.com.", qtype: dns.TypeMX,
			answer: []string{`printer.example.com. 3600 IN MX 0 .`}},
		{name: "auto ptr for a link-mapped address", qname: "25.100.51.198.in-addr.arpa.", qtype: dns.TypePTR,
			answer: []string{`25.100.51.198.in-addr.arpa. 3600 IN PTR mx1.example.com.`}},
		{name: "auto ptr prefers the MX target", qname: "26.2.0.192.in-addr.arpa.", qtype: dns.TypePTR,
			answer: []string{`26.2.0.192.in-addr.arpa. 600 IN PTR mx2.example.com.`}},
		{name: "explicit ptr wins", qname: "27.2.0.192.in-addr.arpa.", qtype: dns.TypePTR,
			answer: []string{`27.2.0.192.in-addr.arpa. 600 IN PTR mx2.example.com.`}},
		{name: "auto_ptr false", qname: "5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.", qtype: dns.TypePTR,
			rcode: dns.RcodeNameError, ns: []string{"2001:db8::/32"}},
	}
	// The negative answer's SOA is not what this test is about.
	tests[len(tests)-1].ns = nil
	for _, tc := range tests[:len(tests)-1] {
		runLookups(t, snap, []lookupCase{tc})
	}
	res := snap.Lookup(dns.Question{Name: tests[len(tests)-1].qname, Qtype: dns.TypePTR, Qclass: dns.ClassINET}, Client{Link: NoLink})
	if res.Rcode != dns.RcodeNameError {
		t.Errorf("auto_ptr: false: rcode %s, want NXDOMAIN", dns.RcodeToString[res.Rcode])
	}

	rrs, _ := snap.Records("2.0.192.in-addr.arpa")
	var ptrs []string
	for _, rr := range rrs {
		if p, ok := rr.(*dns.PTR); ok {
			ptrs = append(ptrs, p.Hdr.Name+" "+p.Ptr)
		}
	}
	want := []string{
		"1.2.0.192.in-addr.arpa. ns1.example.com.",
		"25.2.0.192.in-addr.arpa. mx1.example.com.",
		"26.2.0.192.in-addr.arpa. mx2.example.com.",
		"27.2.0.192.in-addr.arpa. mx2.example.com.",
		"80.2.0.192.in-addr.arpa. mta-sts.example.com.",
		"99.2.0.192.in-addr.arpa. _smtp._tls.example.com.",
	}
	if strings.Join(ptrs, "\n") != strings.Join(want, "\n") {
		t.Errorf("exported PTRs:\n%s\nwant:\n%s", strings.Join(ptrs, "\n"), strings.Join(want, "\n"))
	}
}

func TestReverseOrigin(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{in: "192.0.2.0/24", want: "2.0.192.in-addr.arpa."},
		{in: "10.0.0.0/8", want: "10.in-addr.arpa."},
		{in: "172.16.0.0/16", want: "16.172.in-addr.arpa."},
		{in: "2001:db8::/32", want: "8.b.d.0.1.0.0.2.ip6.arpa."},
		{in: "2001:db8:ab::/48", want: "b.a.0.0.8.b.d.0.1.0.0.2.ip6.arpa."},
		{in: "2001:db8::/36", want: "0.8.b.d.0.1.0.0.2.ip6.arpa."},
		{in: "192.0.2.0/26", err: "RFC 2317"},
		{in: "2001:db8::/33", err: "nibble"},
		{in: "192.0.2.1/24", err: "did you mean 192.0.2.0/24"},
		{in: "0.0.0.0/0", err: "/8, /16 or /24"},
		{in: "10.16.0.0/20", err: "serve each /24 within it"},
		{in: "192.0.2.64/26", err: `"64-127.2.0.192.in-addr.arpa"`},
		{in: "300.0.0.0/8", err: "want a network"},
	}
	for _, tc := range tests {
		got, err := reverseOrigin(tc.in)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: error %v, want one mentioning %q", tc.in, err, tc.err)
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("%s: %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestSPFSyntax(t *testing.T) {
	tests := []struct {
		text    string
		lookups int
		err     string
	}{
		{text: "v=spf1 -all"},
		{text: "v=spf1 a mx/24 a:mail.example.com/24//64 mx//64 ip4:192.0.2.0/24 ip6:2001:db8::/32 ~all", lookups: 4},
		{text: "v=spf1 include:_spf.google.com ?exists:%{i}.x.example.com redirect=_spf.example.com", lookups: 3},
		{text: "v=spf1 ptr exp=explain.example.com foo=bar -all", lookups: 1},
		{text: "v=spf1 ip4:192.0.2.0/33", err: "prefix length"},
		{text: "v=spf1 ip6:192.0.2.1", err: "not an IPv6 address"},
		{text: "v=spf1 a/", err: "prefix length"},
		{text: "v=spf1 all:x", err: "no argument"},
		{text: "v=spf1 redirect=a redirect=b", err: "appears twice"},
		{text: "v=spf1 includes:x", err: "unknown mechanism"},
		{text: "v=spf2 -all", err: "v=spf1 first"},
	}
	for _, tc := range tests {
		terms, err := spf.Parse(tc.text)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want one mentioning %q", tc.text, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.text, err)
			continue
		}
		n := 0
		for _, term := range terms {
			if term.Queries() {
				n++
			}
		}
		if n != tc.lookups {
			t.Errorf("%q: %d lookups, want %d", tc.text, n, tc.lookups)
		}
	}
}

func TestDMARCRecord(t *testing.T) {
	tests := []struct{ text, err string }{
		{text: "v=DMARC1; p=none"},
		{text: "v=DMARC1; p=quarantine; sp=reject; pct=10; fo=1:d; rf=afrf; ri=3600; rua=mailto:a@example.com; ruf=mailto:b@example.com;"},
		{text: "v=DMARC1; rua=mailto:a@example.com; p=none"}, // order: a warning in check
		{text: "v=DMARC1; p=none; pct=200", err: "0 to 100"},
		{text: "v=DMARC1; p=none; x=1", err: "unknown tag"},
		{text: "v=DMARC1", err: "want p="},
	}
	for _, tc := range tests {
		err := checkDMARCRecord(strings.Split(tc.text, ";"))
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%q: error %v, want %q", tc.text, err, tc.err)
		}
	}
}

func TestAddrFromReverse(t *testing.T) {
	for _, s := range []string{"192.0.2.25", "2001:db8::25"} {
		a, ok := addrFromReverse(reverseName(mustAddr(s)))
		if !ok || a.String() != s {
			t.Errorf("%s: round trip gave %v %v", s, a, ok)
		}
	}
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

// TestClasslessAutoPTR: in an RFC 2317 zone the PTR goes where the
// provider's CNAME (25.2.0.192.in-addr.arpa → 25.0-63.2.0.192...) leads.
func TestClasslessAutoPTR(t *testing.T) {
	for _, origin := range []string{"0-63.2.0.192.in-addr.arpa", "0/26.2.0.192.in-addr.arpa"} {
		snap := mustSnapshot(t, classlessForward+"  "+origin+`:
    ns: [ns1.example.com.]
    records:
      "1": {ptr: ns1.example.com.}
`)
		runLookups(t, snap, []lookupCase{
			{name: origin, qname: "25." + origin + ".", qtype: dns.TypePTR,
				answer: []string{"25." + origin + ". 3600 IN PTR mx1.example.com."}},
		})
		rrs, _ := snap.Records(origin)
		for _, rr := range rrs {
			if strings.HasPrefix(rr.Header().Name, "100.") {
				t.Errorf("%s: PTR for an address outside the block: %s", origin, rr)
			}
		}
	}
}

func TestMailHelperShortForms(t *testing.T) {
	snap, diags := FromYAML("test.yaml", []byte(`
zones:
  example.com:
    ns: [ns1]
    records:
      "@": {dmarc: "p=quarantine; rua=mailto:d@example.com", mta_sts: "20261124", mx: "10;ns1"}
      mta-sts: {cname: policy-host.example.net.}
      ns1: {a: 192.0.2.1}
`), nil)
	if len(diags) > 0 {
		t.Fatalf("want no findings (an mta-sts CNAME to a policy host elsewhere is fine), got:\n%v", diags)
	}
	runLookups(t, snap, []lookupCase{
		{name: "dmarc as text", qname: "_dmarc.example.com.", qtype: dns.TypeTXT,
			answer: []string{`_dmarc.example.com. 3600 IN TXT "v=DMARC1; p=quarantine; rua=mailto:d@example.com"`}},
		{name: "mta_sts as id", qname: "_mta-sts.example.com.", qtype: dns.TypeTXT,
			answer: []string{`_mta-sts.example.com. 3600 IN TXT "v=STSv1; id=20261124"`}},
	})
}

// TestHelperTakesOwnerTTL: the records a helper makes at another name take
// the owner's ttl wherever ttl is written among the owner's keys.
func TestHelperTakesOwnerTTL(t *testing.T) {
	for _, owner := range []string{
		`{ttl: 60, dmarc: {p: reject}}`,
		`{dmarc: {p: reject}, ttl: 60}`,
	} {
		snap := mustSnapshot(t, `
zones:
  example.com:
    ns: [ns1]
    records:
      "@": `+owner+`
      ns1: {a: 192.0.2.1}
`)
		runLookups(t, snap, []lookupCase{
			{name: owner, qname: "_dmarc.example.com.", qtype: dns.TypeTXT,
				answer: []string{`_dmarc.example.com. 60 IN TXT "v=DMARC1; p=reject"`}},
		})
	}
}

// TestDKIMSelector: a selector is sub-domains of letters, digits and inner
// hyphens (RFC 6376 §3.1); "*" would publish a wildcard below _domainkey.
func TestDKIMSelector(t *testing.T) {
	for sel, ok := range map[string]bool{
		"s1": true, "Ed": true, "2026a": true, "s1.eu": true, "dkim-1": true,
		"*": false, "*.s1": false, "a_b": false, "-a": false, "a-": false,
		"a..b": false, "s1.": false, `a\.b`: false, strings.Repeat("a", 64): false,
	} {
		_, diags := FromYAML("c.yaml", []byte(`
zones:
  example.com:
    ns: [ns1.example.net.]
    records:
      "@": {dkim: {selector: "`+strings.ReplaceAll(sel, `\`, `\\`)+`", key: "AAAA"}}
`), nil)
		if err := diags.Err(); (err == nil) != ok || err != nil && !strings.Contains(err.Error(), "dkim selector") {
			t.Errorf("selector %q: got %v, want accepted %v", sel, err, ok)
		}
	}
}

// TestDMARCCase: tag names and keyword values are ABNF literals and match
// in any case, blanks may surround "=", but the version value is spelled
// in octets and must be DMARC1 (RFC 7489 §6.4, RFC 5234 §2.3).
func TestDMARCCase(t *testing.T) {
	for text, want := range map[string]string{
		"V=DMARC1; P=reject":                 "",
		"v = DMARC1 ; p = none":              "",
		"v=DMARC1; p=Reject; ADKIM=S; Fo=D":  "",
		"v=DMARC1; p=none; RUA=mailto:d@x.y": "",
		"v=dmarc1; p=none":                   "want v=DMARC1 first",
		"v=DMARC1 p=none":                    "want v=DMARC1 first",
	} {
		err := checkDMARCRecord(strings.Split(text, ";"))
		if want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("%q: error %v, want %q", text, err, want)
		}
	}
	snap, diags := FromYAML("test.yaml", []byte(`
zones:
  example.com:
    ns: [ns1.example.net.]
    records:
      _dmarc: {txt: "V=DMARC1; P=reject"}
      sub: {dmarc: "V=DMARC1; p=quarantine"}
`), nil)
	if len(diags) > 0 {
		t.Fatalf("want no findings, got:\n%v", diags)
	}
	runLookups(t, snap, []lookupCase{
		{name: "helper text with its own version tag", qname: "_dmarc.sub.example.com.", qtype: dns.TypeTXT,
			answer: []string{`_dmarc.sub.example.com. 3600 IN TXT "V=DMARC1; p=quarantine"`}},
	})
}

// TestHelperFindingAtItsKey: a helper's finding points at its own key,
// even when its value is an alias shared with another key.
func TestHelperFindingAtItsKey(t *testing.T) {
	_, diags := FromYAML("c.yaml", []byte(`zones:
  example.com:
    ns: [ns1.example.net.]
    records:
      "@": {spf: &x "", tls_rpt: *x}
`), nil)
	errs := diags.Errors()
	if len(errs) != 2 || !strings.HasPrefix(errs[0].String(), "c.yaml:5:13: spf:") || !strings.HasPrefix(errs[1].String(), "c.yaml:5:25: tls_rpt") {
		t.Errorf("got %v, want spf at 5:13 and tls_rpt at 5:25", errs)
	}
}

// TestMailChecksReadRecords: the null MX and MTA-STS checks look at the
// records, so what is written by hand is checked like what helpers make,
// and "-all" is read as an SPF term, not as the text's last characters.
func TestMailChecksReadRecords(t *testing.T) {
	_, diags := FromYAML("c.yaml", []byte(`zones:
  example.com:
    ns: [ns1.example.net.]
    records:
      byhand: {mx: "0;."}
      byhand2: {mx: "0;.", txt: "v=spf1 ~all"}
      helper: {null_mx: true, spf: "-all exp=why.example.com"}
      _mta-sts: {txt: "v=STSv1; id=1"}
`), nil)
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"c.yaml:5:20: warning: byhand.example.com. takes no mail (null MX) but has no SPF",
		"c.yaml:6:33: warning: byhand2.example.com. has a null MX but its SPF does not end in -all",
		"c.yaml:8:23: warning: mta_sts: mta-sts.example.com. has no address",
	}
	if len(diags) != len(want) {
		t.Fatalf("got %d findings %v, want %d", len(diags), diags, len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(diags[i].String(), w) {
			t.Errorf("finding %d = %q, want prefix %q", i, diags[i], w)
		}
	}
}

// TestImplicitMX: only the apex of a forward zone that has an address and
// no mx is warned about; other names, an apex with mx and a reverse zone
// are not.
func TestImplicitMX(t *testing.T) {
	_, diags := FromYAML("c.yaml", []byte(`zones:
  example.com:
    ns: [ns1.example.net.]
    records:
      "@": {a: 192.0.2.1}
      www: {a: 192.0.2.1}
  example.org:
    ns: [ns1.example.net.]
    records:
      "@": {a: 192.0.2.1, mx: "10;mx.example.net."}
  2.0.192.in-addr.arpa:
    ns: [ns1.example.net.]
    records:
      "@": {a: 192.0.2.1}
`), nil)
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range diags {
		if strings.Contains(d.Msg, "implicit MX") {
			got = append(got, d.String())
		}
	}
	want := "c.yaml:5:7: warning: example.com. has an address but no mx"
	if len(got) != 1 || !strings.HasPrefix(got[0], want) {
		t.Errorf("got %v, want one finding %q", got, want)
	}
}
