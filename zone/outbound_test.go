package zone

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// outboundSite is the test site: 127.0.0.1 sends for wan1, 127.0.0.2 for
// wan2, both as mail.example.test, whose zone and reverse zone we serve.
const outboundSite = `links:
  wan1:
    outbound: {ipv4: 127.0.0.1, helo: mail.example.test.}
  wan2:
    outbound: {ipv4: [127.0.0.2], helo: mail.example.test.}
zones:
  example.test:
    ns: [ns1]
    records:
      "@": {mx: "10;mail", spf: "mx links -all"}
      ns1: {a: 192.0.2.53}
      mail: {txt: "the mail host"}
      www: {a: 127.0.0.2}
  127.0.0.0/8:
    ns: [ns1.example.test.]
`

func lookupStrings(t *testing.T, s *Snapshot, name string, qtype uint16) []string {
	t.Helper()
	r := s.Lookup(dns.Question{Name: name, Qtype: qtype, Qclass: dns.ClassINET}, Client{Link: NoLink, Up: AllLinks})
	var out []string
	for _, rr := range r.Answer {
		out = append(out, strings.TrimPrefix(rr.String(), rr.Header().String()))
	}
	slices.Sort(out)
	return out
}

// TestOutboundPublishes: the PTR of each outbound address names the
// helo (winning over the PTR a forward name would give it), the helo gets
// the addresses, and spf's links term lists them.
func TestOutboundPublishes(t *testing.T) {
	s, diags := FromYAML("c.yaml", []byte(outboundSite), nil)
	if s == nil || len(diags) > 0 {
		t.Fatalf("diagnostics: %v", diags)
	}
	for name, want := range map[string]string{"1.0.0.127.in-addr.arpa.": "mail.example.test.", "2.0.0.127.in-addr.arpa.": "mail.example.test."} {
		if got := lookupStrings(t, s, name, dns.TypePTR); !slices.Equal(got, []string{want}) {
			t.Errorf("PTR %s: %v, want %s", name, got, want)
		}
	}
	if got := lookupStrings(t, s, "mail.example.test.", dns.TypeA); !slices.Equal(got, []string{"127.0.0.1", "127.0.0.2"}) {
		t.Errorf("helo A: %v", got)
	}
	if got := lookupStrings(t, s, "example.test.", dns.TypeTXT); !slices.Equal(got, []string{`"v=spf1 mx ip4:127.0.0.1 ip4:127.0.0.2 -all"`}) {
		t.Errorf("spf: %v", got)
	}

	t.Log("addresses written at the helo are its own; a written ptr wins and is compared")
	written := strings.Replace(outboundSite, `mail: {txt: "the mail host"}`, `mail: {a: 127.0.0.1}`, 1) +
		"    records:\n      \"2.0.0\": {ptr: www.example.test.}\n"
	s, diags = FromYAML("c.yaml", []byte(written), nil)
	if s == nil {
		t.Fatal(diags)
	}
	if got := lookupStrings(t, s, "mail.example.test.", dns.TypeA); !slices.Equal(got, []string{"127.0.0.1"}) {
		t.Errorf("helo A written: %v", got)
	}
	if got := lookupStrings(t, s, "2.0.0.127.in-addr.arpa.", dns.TypePTR); !slices.Equal(got, []string{"www.example.test."}) {
		t.Errorf("written PTR: %v", got)
	}
	want := []string{
		"c.yaml:5:23: warning: link wan2: outbound address 127.0.0.2 has PTR www.example.test (written at c.yaml:17:22), but the link's helo is mail.example.test: receivers that compare the two treat the mail as suspect; make them one name",
		"c.yaml:5:23: warning: link wan2: helo mail.example.test does not have address 127.0.0.2",
	}
	for _, w := range want {
		if !slices.ContainsFunc(diags, func(d Diagnostic) bool { return strings.HasPrefix(d.String(), w) }) {
			t.Errorf("no finding %q in:\n%v", w, diags)
		}
	}
}

// TestOutboundFindings: each finding comes from a configuration made to
// produce it, and only from it.
func TestOutboundFindings(t *testing.T) {
	base := outboundSite
	for _, tc := range []struct {
		name, config, want string
	}{
		{"shared address", strings.Replace(base, "ipv4: [127.0.0.2]", "ipv4: [127.0.0.1]", 1),
			"c.yaml:5:23: link wan2: outbound address 127.0.0.1 is link wan1's too (c.yaml:3:22)"},
		{"reverse zone elsewhere", strings.Replace(base, "127.0.0.0/8", "10.0.0.0/8", 1),
			"c.yaml:3:22: warning: link wan1: outbound address 127.0.0.1: its reverse zone is not served here; ask your provider for PTR 127.0.0.1 → mail.example.test"},
		{"no PTR", base + "    auto_ptr: false\n",
			"c.yaml:3:22: warning: link wan1: outbound address 127.0.0.1 has no PTR in zone 127.in-addr.arpa (auto_ptr: false there)"},
		{"PTR is not the helo", base + "    records:\n      \"1.0.0\": {ptr: www.example.test.}\n",
			"c.yaml:3:22: warning: link wan1: outbound address 127.0.0.1 has PTR www.example.test (written at c.yaml:17:22), but the link's helo is mail.example.test"},
		{"helo without the address", strings.Replace(base, `mail: {txt: "the mail host"}`, `mail: {a: 127.0.0.1}`, 1),
			"c.yaml:5:23: warning: link wan2: helo mail.example.test does not have address 127.0.0.2, so forward-confirmed reverse DNS fails"},
		{"helo on one link", "links:\n  wan1: {outbound: {ipv4: 127.0.0.1, helo: mail.example.test.}}\n  wan2: {outbound: {ipv4: [127.0.0.2], helo: mail.example.test.}}\n" +
			strings.Replace(base[strings.Index(base, "zones:"):], `mail: {txt: "the mail host"}`, `mail: {a: {wan1: 127.0.0.1, wan2: 127.0.0.2}}`, 1),
			"c.yaml:2:27: warning: link wan1: helo mail.example.test gives address 127.0.0.1 only on link wan1 (its addresses are link-mapped): a receiver whose query arrives over wan2 gets others"},
		{"spf without a link", strings.Replace(base, "mx links -all", "ip4:127.0.0.1 -all", 1),
			"c.yaml:10:28: warning: spf of example.test does not pass 127.0.0.2 of link wan2 (fail): mail sent over wan2 after a failover fails SPF"},
		{"spf with nothing to add", strings.Replace(strings.Replace(base, "{ipv4: 127.0.0.1, helo: mail.example.test.}", "{}", 1), "{ipv4: [127.0.0.2], helo: mail.example.test.}", "{}", 1),
			"c.yaml:10:28: warning: spf: the links term adds nothing: no link has outbound addresses"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, diags := FromYAML("c.yaml", []byte(tc.config), nil)
			found := 0
			for _, d := range diags {
				if strings.HasPrefix(d.String(), tc.want) {
					found++
				}
			}
			if found != 1 {
				t.Errorf("want one finding %q, got:\n%v", tc.want, diags)
			}
		})
	}
}

// TestOutboundParseErrors: what the outbound and check keys refuse.
func TestOutboundParseErrors(t *testing.T) {
	const link = "links:\n  wan1: "
	for _, tc := range []struct{ yaml, want string }{
		{link + "{outbound: {ipv4: 127.0.0.1}}\n", "c.yaml:2:20: link wan1 outbound: want helo"},
		{link + "{outbound: {ipv4: '::1', helo: m.example.}}\n", `c.yaml:2:27: link wan1 outbound ipv4 "::1": want an IPv4 address`},
		{link + "{outbound: {ipv6: 127.0.0.1, helo: m.example.}}\n", `c.yaml:2:27: link wan1 outbound ipv6 "127.0.0.1": want an IPv6 address`},
		{link + "{outbound: {ipv4: 0.0.0.0, helo: m.example.}}\n", "c.yaml:2:27: link wan1 outbound ipv4 0.0.0.0: want the address mail is sent from"},
		{link + "{outbound: {ipv4: 192.0.2.1, helo: mail}}\n", `c.yaml:2:44: link wan1 outbound helo "mail": want the fully qualified host name`},
		{link + "{outbound: {ipv4: 192.0.2.1, helo: m.example., port: 25}}\n", `c.yaml:2:56: link wan1 outbound: unknown key "port"`},
		{link + "{check: {smtp: mx1}}\n", `c.yaml:2:24: link wan1 check smtp "mx1": want host:port`},
		{link + "{check: {smtp: 's3cr3t@mx1:25'}}\n", `c.yaml:2:24: link wan1 check smtp "s3cr3t@mx1:25": want host:port, the host a name or an address`},
		{link + "{check: {tcp: ':25'}}\n", `c.yaml:2:23: link wan1 check tcp ":25": want host:port with a host`},
		{link + "{check: {smtp: 'mx1:25', tcp: 'mx1:25'}}\n", "c.yaml:2:17: link wan1 check: want one of tcp: host:port, http: URL, smtp: host:port or file: PATH in each check, not"},
		{link + "{check: {tcp: 'mx1:25', starttls: true}}\n", "c.yaml:2:43: link wan1 check: starttls is for an smtp check"},
		{link + "{check: {smtp: 'mx1:25', ca_file: ca.pem}}\n", "c.yaml:2:43: link wan1 check: ca_file is for an smtp check with starttls: true"},
		{link + "{check: {smtp: 'mx1:25', starttls: true, insecure: true, ca_file: ca.pem}}\n", "c.yaml:2:75: link wan1 check: ca_file and insecure: true together"},
		{link + "{check: {smtp: '127.0.0.1:25', source: '::1'}}\n", "c.yaml:2:48: link wan1 check: source ::1 cannot reach 127.0.0.1"},
		{link + "{check: {tcp: '127.0.0.1:25', source: nowhere}}\n", `c.yaml:2:47: link wan1 check source "nowhere": want an IP address`},
		{link + "{check: [], require: any}\n", "c.yaml:2:17: link wan1 check: empty list"},
		{link + "{check: [{file: x}], require: some}\n", `c.yaml:2:39: link wan1 require "some": want one of all, any`},
	} {
		wantOneError(t, tc.yaml, tc.want)
	}
}

// TestChecksParsed: a list of checks with require, file paths made
// absolute, a file check's rise and fall of 1, and the outbound identity.
func TestChecksParsed(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.yaml")
	writeFile(t, filepath.Join(dir, "ca.pem"), string(newTestPKI(t, 1).chain), time.Unix(1000, 0))
	s, diags := FromYAML(path, []byte(`links:
  wan1:
    require: any
    check:
      - {smtp: "127.0.0.1:25", starttls: true, ca_file: ca.pem, source: 127.0.0.2, timeout: 2s}
      - {file: state/wan1}
    outbound: {ipv4: [192.0.2.25], ipv6: "2001:db8::25", helo: Mail.Example.COM}
`), nil)
	if s == nil || len(diags.Errors()) > 0 {
		t.Fatal(diags)
	}
	l := s.Settings().Links[0]
	smtp, file := l.Checks[0], l.Checks[1]
	if l.Require != RequireAny || len(l.Checks) != 2 {
		t.Fatalf("link %+v", l)
	}
	if smtp.SMTP != "127.0.0.1:25" || !smtp.StartTLS || smtp.CAFile != filepath.Join(dir, "ca.pem") || smtp.Source.String() != "127.0.0.2" ||
		smtp.Timeout != 2*time.Second || smtp.Rise != 2 || smtp.Fall != 2 {
		t.Errorf("smtp check %+v", smtp)
	}
	if file.File != filepath.Join(dir, "state", "wan1") || file.Rise != 1 || file.Fall != 1 {
		t.Errorf("file check %+v", file)
	}
	if o := l.Outbound; o.HELO != "mail.example.com." || len(o.IPv4) != 1 || len(o.IPv6) != 1 || o.IPv6[0].String() != "2001:db8::25" {
		t.Errorf("outbound %+v", o)
	}
}

// A patched reverse zone keeps an outbound address's PTR when a forward
// zone's address moves onto it or off it, as a full build would.
func TestPatchKeepsOutboundPTR(t *testing.T) {
	cfg, zones := zoneFilesConfig(t)
	writeFile(t, cfg, "zone_files: [\"zones/*.yaml\"]\nlinks:\n  wan1: {outbound: {ipv4: 10.0.0.4, helo: mail.example.com.}}\n", time.Unix(1000, 0))
	fwd := filepath.Join(zones, "fwd.yaml")
	writeFile(t, filepath.Join(zones, "rev.yaml"), "zones:\n  10.0.0.0/8: {ns: [ns1.example.com.]}\n", time.Unix(1000, 0))
	writeFile(t, filepath.Join(zones, "other.yaml"), "zones:\n  example.org: {ns: [ns1.example.com.], records: {www: {a: 10.0.0.1}}}\n", time.Unix(1000, 0))
	const fwdText = "zones:\n  example.com: {ns: [ns1], records: {www: {a: ADDR}, ns1: {a: 192.0.2.1}}}\n"
	writeFile(t, fwd, strings.Replace(fwdText, "ADDR", "10.1.2.3", 1), time.Unix(1000, 0))
	prev, diags := Load(cfg, nil)
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	for i, addr := range []string{"10.0.0.4", "10.0.0.5", "10.1.2.3"} {
		writeFile(t, fwd, strings.Replace(fwdText, "ADDR", addr, 1), time.Unix(int64(2000+i), 0))
		inc, diags := Reload(cfg, prev, []string{fwd})
		if err := diags.Err(); err != nil {
			t.Fatal(err)
		}
		if !patched(prev, inc, "10.in-addr.arpa.") {
			t.Errorf("www at %s: the reverse zone was built anew, not patched", addr)
		}
		if got := lookupStrings(t, inc, "4.0.0.10.in-addr.arpa.", dns.TypePTR); !slices.Equal(got, []string{"mail.example.com."}) {
			t.Errorf("www at %s: outbound PTR %v", addr, got)
		}
		full, _ := Load(cfg, withoutCache(prev))
		if d := diffSnapshots(inc, full); d != "" {
			t.Errorf("www at %s: answers differ from a full build:\n%s", addr, d)
		}
		prev = inc
	}
}

// An outbound address whose PTR a CNAME written later sends to another
// reverse zone (RFC 2317) gets it there, in an incremental build too.
func TestOutboundPTRFollowsCNAME(t *testing.T) {
	cfg, zones := zoneFilesConfig(t)
	writeFile(t, cfg, "zone_files: [\"zones/*.yaml\"]\nlinks:\n  wan1: {outbound: {ipv4: 10.0.0.4, helo: mail.example.com.}}\n", time.Unix(1000, 0))
	rev := filepath.Join(zones, "rev.yaml")
	const revText = "zones:\n  10.0.0.0/8: {ns: [ns1.example.com.]RECORDS}\n  0-63.0.0.10.in-addr.arpa: {ns: [ns1.example.com.]}\n"
	writeFile(t, rev, strings.Replace(revText, "RECORDS", "", 1), time.Unix(1000, 0))
	writeFile(t, filepath.Join(zones, "fwd.yaml"), "zones:\n  example.com: {ns: [ns1], records: {ns1: {a: 192.0.2.1}}}\n", time.Unix(1000, 0))
	prev, diags := Load(cfg, nil)
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	writeFile(t, rev, strings.Replace(revText, "RECORDS", `, records: {"4.0.0": {cname: 4.0-63.0.0.10.in-addr.arpa.}}`, 1), time.Unix(2000, 0))
	inc, diags := Reload(cfg, prev, []string{rev})
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	if got := lookupStrings(t, inc, "4.0-63.0.0.10.in-addr.arpa.", dns.TypePTR); !slices.Equal(got, []string{"mail.example.com."}) {
		t.Errorf("PTR behind the CNAME: %v", got)
	}
	full, _ := Load(cfg, withoutCache(prev))
	if d := diffSnapshots(inc, full); d != "" {
		t.Errorf("answers differ from a full build:\n%s", d)
	}
}

// TestREADMEWANExampleHasNoOutboundFindings: the WAN links example of the
// README, and the walk-through's configuration, check clean.
func TestREADMEWANExampleHasNoOutboundFindings(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	start := strings.Index(text, "## WAN links in brief")
	block := text[start:]
	block = block[strings.Index(block, "```yaml\n")+len("```yaml\n"):]
	block = block[:strings.Index(block, "```")]
	if !strings.Contains(block, "outbound:") || !strings.Contains(block, "smtp:") {
		t.Fatalf("the README's WAN example has no outbound side or SMTP check:\n%s", block)
	}
	_, diags := FromYAML("README.yaml", []byte(block), nil)
	if len(diags) > 0 {
		t.Errorf("the README's WAN example:\n%v", diags)
	}
	_, diags = Load("../config.links.example.yaml", nil)
	if len(diags) > 0 {
		t.Errorf("config.links.example.yaml:\n%v", diags)
	}
}

// TestCheckTLSKeysOneFinding: a TLS key beside an smtp or a starttls
// written wrong is not reported a second time.
func TestCheckTLSKeysOneFinding(t *testing.T) {
	const link = "links:\n  wan1: "
	for _, tc := range []struct{ yaml, want string }{
		{link + "{check: {smtp: mx1, starttls: true, ca_file: ca.pem}}\n", `c.yaml:2:24: link wan1 check smtp "mx1": want host:port`},
		{link + "{check: {smtp: 'mx1:25', starttls: maybe, ca_file: ca.pem}}\n", `c.yaml:2:44: link wan1 check starttls "maybe": want one of true, false`},
		{link + "{check: {smtp: 'mx1:25', starttls: false, insecure: true}}\n", "c.yaml:2:61: link wan1 check: insecure is for an smtp check with starttls: true"},
	} {
		wantOneError(t, tc.yaml, tc.want)
	}
}

// A ca_file that cannot be read, or holds no certificate, is an error of
// the configuration at its key: found by the check instead, it would fail
// every handshake and take the link down.
func TestCheckCAFileReadAtLoad(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "junk.pem"), "no certificate here\n", time.Unix(1000, 0))
	for file, want := range map[string]string{
		"missing.pem": "c.yaml:2:59: link wan1 check ca_file " + filepath.Join(dir, "missing.pem") + ": no such file or directory",
		"junk.pem":    "c.yaml:2:59: link wan1 check ca_file " + filepath.Join(dir, "junk.pem") + ": want PEM certificates (BEGIN CERTIFICATE), found none",
	} {
		config := "links:\n  wan1: {check: {smtp: 'mx1:25', starttls: true, ca_file: " + file + "}}\n"
		_, diags := FromYAML(filepath.Join(dir, "c.yaml"), []byte(config), nil)
		errs := diags.Errors()
		if len(errs) != 1 || !strings.HasSuffix(errs[0].String(), strings.TrimPrefix(want, "c.yaml")) || !strings.Contains(errs[0].String(), "c.yaml:2:59") {
			t.Errorf("%s: got %v, want %s", file, errs, want)
		}
	}
}

// TestOutboundSPFJudgesMailDomains: the SPF of a name that cannot be a
// mail domain (underscored), or that the zone's own SPF includes, lists
// addresses for another domain and is not judged as a sender; the domain
// is, and so is any other name that passes some link.
func TestOutboundSPFJudgesMailDomains(t *testing.T) {
	config := strings.Replace(outboundSite, "mx links -all", "mx include:spf.example.test -all", 1) +
		"" // the zone's records follow
	config = strings.Replace(config, `mail: {txt: "the mail host"}`, `mail: {txt: "the mail host"}
      spf: {spf: "ip4:127.0.0.1 -all"}
      _spf: {spf: "ip4:127.0.0.1 -all"}
      other: {spf: "ip4:127.0.0.1 -all"}`, 1)
	_, diags := FromYAML("c.yaml", []byte(config), nil)
	var got []string
	for _, d := range diags {
		if strings.Contains(d.String(), "after a failover fails SPF") {
			got = append(got, d.String())
		}
	}
	if len(got) != 1 || !strings.Contains(got[0], "spf of other.example.test does not pass 127.0.0.2 of link wan2") {
		t.Errorf("want one SPF finding, for other.example.test; got:\n%s", strings.Join(got, "\n"))
	}
}

// TestOutboundSPFIncremental: a zone's SPF finding stands through a
// reload that does not touch what it read, and follows a change to what
// it read in another zone: the record it includes.
func TestOutboundSPFIncremental(t *testing.T) {
	cfg, zones := zoneFilesConfig(t)
	writeFile(t, cfg, "zone_files: [\"zones/*.yaml\"]\nlinks:\n  wan1: {outbound: {ipv4: 10.0.0.4, helo: mail.example.com.}}\n  wan2: {outbound: {ipv4: 10.0.0.5, helo: mail.example.com.}}\n", time.Unix(1000, 0))
	writeFile(t, filepath.Join(zones, "hosts.yaml"), "zones:\n  example.com: {ns: [ns1], records: {ns1: {a: 192.0.2.1}, mx: {a: 10.0.0.4}}}\n", time.Unix(1000, 0))
	writeFile(t, filepath.Join(zones, "sender.yaml"), "zones:\n  example.org:\n    ns: [ns1.example.com.]\n    records:\n      \"@\": {mx: \"10;mx.example.com.\", spf: \"include:_spf.example.info -all\"}\n", time.Unix(1000, 0))
	list := filepath.Join(zones, "list.yaml")
	const listText = "zones:\n  example.info: {ns: [ns1.example.com.], records: {_spf: {spf: \"LIST -all\"}}}\n"
	writeFile(t, list, strings.Replace(listText, "LIST", "ip4:10.0.0.4", 1), time.Unix(1000, 0))
	other := filepath.Join(zones, "other.yaml")
	writeFile(t, other, "zones:\n  example.net: {ns: [ns1.example.com.], records: {www: {a: 192.0.2.8}}}\n", time.Unix(1000, 0))
	findings := func(diags Diagnostics) []string {
		var out []string
		for _, d := range diags {
			if strings.Contains(d.String(), "after a failover fails SPF") {
				out = append(out, d.String())
			}
		}
		slices.Sort(out)
		return out
	}
	prev, diags := Load(cfg, nil)
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	if got := findings(diags); len(got) != 1 || !strings.Contains(got[0], "spf of example.org does not pass 10.0.0.5 of link wan2 (fail)") {
		t.Fatalf("at start: %q", got)
	}
	for i, step := range []struct {
		file, text string
		want       int
	}{
		{other, "zones:\n  example.net: {ns: [ns1.example.com.], records: {www: {a: 192.0.2.9}}}\n", 1},
		{list, strings.Replace(listText, "LIST", "ip4:10.0.0.4 ip4:10.0.0.5", 1), 0},
		{list, strings.Replace(listText, "LIST", "ip4:10.0.0.5", 1), 1},
	} {
		writeFile(t, step.file, step.text, time.Unix(int64(2000+i), 0))
		inc, diags := Reload(cfg, prev, []string{step.file})
		if err := diags.Err(); err != nil {
			t.Fatal(err)
		}
		_, fullDiags := Load(cfg, withoutCache(prev))
		if got, want := findings(diags), findings(fullDiags); len(got) != step.want || !slices.Equal(got, want) {
			t.Errorf("step %d: incremental %q, full build %q, want %d", i, got, want, step.want)
		}
		prev = inc
	}
}
