package zone

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// certSite is a zone file whose mx1 has a TLSA made from certs/mx1.pem
// (and, with next, from certs/next.key), loaded as a server opens it.
type certSite struct {
	cfg, zones, cert, next string
	mem                    *memory
}

const certZone = `zones:
  example.com:
    dnssec: on
    ns: [ns1]
    records:
      "@": {mx: "10;mx1"}
      ns1: {a: 192.0.2.53}
      mx1: {a: 192.0.2.1}
      _25._tcp.mx1: {tlsa: {cert: ../certs/mx1.pem, next: ../certs/next.key}}
`

func newCertSite(t *testing.T, pki testPKI) *certSite {
	t.Helper()
	cfg, zones := zoneFilesConfig(t)
	s := &certSite{cfg: cfg, zones: zones, mem: &memory{}}
	certs := filepath.Join(filepath.Dir(cfg), "certs")
	os.Mkdir(certs, 0o755)
	s.cert, s.next = filepath.Join(certs, "mx1.pem"), filepath.Join(certs, "next.key")
	writeFile(t, s.cert, string(pki.chain), time.Unix(1_800_000_000, 0))
	writeFile(t, s.next, string(pki.nextKey), time.Unix(1_800_000_000, 0))
	writeFile(t, filepath.Join(zones, "mail.yaml"), certZone, time.Unix(1_800_000_000, 0))
	return s
}

// open loads as a server does, from prev (nil: a start), remembering the
// copies the load offers as the state directory would.
func (s *certSite) open(t *testing.T, prev *Snapshot) Loaded {
	t.Helper()
	return mustOpen(t, s.cfg, prev, s.mem)
}

// tlsaSet is the TLSA data served at _25._tcp.mx1, sorted; nil when the
// zone is not served at all.
func tlsaSet(t *testing.T, snap *Snapshot) []string {
	t.Helper()
	if snap.zones["example.com."] == nil {
		return nil
	}
	r := snap.Lookup(dns.Question{Name: "_25._tcp.mx1.example.com.", Qtype: dns.TypeTLSA, Qclass: dns.ClassINET}, Client{Link: NoLink})
	out := []string{}
	for _, rr := range r.Answer {
		out = append(out, rr.(*dns.TLSA).Certificate)
	}
	return out
}

func findingsWith(diags Diagnostics, sev Severity, text string) []string {
	var out []string
	for _, d := range diags {
		if d.Severity == sev && strings.Contains(d.String(), text) {
			out = append(out, d.String())
		}
	}
	return out
}

// Change safety at a restart: a certificate file that is gone, garbage,
// unreadable or a link to nothing (certbot mid-renewal, a permission
// lost) costs neither the zone nor its TLSA: the TLSA is made from the
// copy kept at the last good load, and the zone file is reported in error
// at the cert: path's position, saying so.
func TestBrokenCertificateAtStartServesItsLastGoodCopy(t *testing.T) {
	breaks := map[string]func(t *testing.T, path string){
		"missing": func(t *testing.T, path string) { os.Remove(path) },
		"garbage": func(t *testing.T, path string) {
			writeFile(t, path, "-----BEGIN CERTIFICATE-----\nZ2FyYmFnZQ==\n-----END CERTIFICATE-----\n", time.Unix(1_800_000_100, 0))
		},
		"empty": func(t *testing.T, path string) { writeFile(t, path, "", time.Unix(1_800_000_100, 0)) },
		"dangling link": func(t *testing.T, path string) {
			os.Remove(path)
			if err := os.Symlink("../archive/gone.pem", path); err != nil {
				t.Fatal(err)
			}
		},
		"unreadable": func(t *testing.T, path string) {
			if os.Geteuid() == 0 {
				t.Skip("root reads through chmod 000")
			}
			os.Chmod(path, 0)
		},
	}
	for name, breakIt := range breaks {
		t.Run(name, func(t *testing.T) {
			pki := newTestPKI(t, 'l')
			s := newCertSite(t, pki)
			first := s.open(t, nil)
			want := tlsaSet(t, first.Snapshot)
			if len(want) != 2 || first.Diags.Err() != nil {
				t.Fatalf("first start: TLSA %v, findings %v", want, first.Diags)
			}
			for _, c := range first.Copies {
				if c.Cert && strings.Contains(string(c.Text), "PRIVATE KEY") {
					t.Errorf("the copy of %s holds a private key:\n%s", c.File, c.Text)
				}
			}
			if c, ok := s.mem.copies[s.next]; !ok || !c.Cert || !strings.Contains(string(c.Text), "PUBLIC KEY") {
				t.Errorf("the copy of the next key is %+v %v, want its public key", c, ok)
			}

			breakIt(t, s.cert)
			restart := s.open(t, nil)
			if got := tlsaSet(t, restart.Snapshot); strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("after a restart with the certificate %s, TLSA %v, want the last good %v", name, got, want)
			}
			if errs := findingsWith(restart.Diags, Error, "zones/mail.yaml:9:35: tlsa: "); len(errs) != 1 || !strings.Contains(errs[0], "last good copy") {
				t.Errorf("findings %v, want one error at the cert: path saying the last good copy is served", restart.Diags)
			}
			if f := restart.Snapshot.Faults(); len(f) != 1 || !f[0].Serving {
				t.Errorf("faults %+v, want mail.yaml, served", f)
			}
			for _, c := range restart.Copies {
				if c.File == s.cert {
					t.Error("the broken certificate is offered as a good copy")
				}
			}

			// An edit of the zone file while the certificate is broken
			// is served, with the TLSA still from the copy.
			writeFile(t, filepath.Join(s.zones, "mail.yaml"), strings.Replace(certZone, "192.0.2.1", "192.0.2.9", 1), time.Unix(1_800_000_200, 0))
			edited := s.open(t, restart.Snapshot)
			if mx1(t, edited.Snapshot, "example.com") != "192.0.2.9" {
				t.Errorf("an edit of the zone file while the certificate is broken is not served: mx1 %q", mx1(t, edited.Snapshot, "example.com"))
			}
			if got := tlsaSet(t, edited.Snapshot); strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("after an edit, TLSA %v, want the last good %v", got, want)
			}

			// Fixed: the renewed certificate's TLSA, and no fault.
			os.Remove(s.cert)
			renewed := newTestPKI(t, 'm')
			writeFile(t, s.cert, string(renewed.chain), time.Unix(1_800_000_300, 0))
			fixed := s.open(t, edited.Snapshot)
			if got := tlsaSet(t, fixed.Snapshot); !strings.Contains(strings.Join(got, " "), sha256Hex(renewed.leaf.RawSubjectPublicKeyInfo)) {
				t.Errorf("after the fix, TLSA %v, want the renewed leaf's", got)
			}
			if fixed.Diags.Err() != nil || len(fixed.Snapshot.Faults()) != 0 {
				t.Errorf("after the fix: %v, faults %v", fixed.Diags.Errors(), fixed.Snapshot.Faults())
			}
		})
	}
}

// The same while running: a certificate broken by a save keeps its TLSA
// from the version last read good, without the state directory.
func TestBrokenCertificateWhileRunningKeepsItsTLSA(t *testing.T) {
	pki := newTestPKI(t, 'l')
	s := newCertSite(t, pki)
	s.mem = nil
	first := mustOpen(t, s.cfg, nil, nil)
	want := tlsaSet(t, first.Snapshot)
	writeFile(t, s.next, "-----BEGIN ENCRYPTED PRIVATE KEY-----\nZ2FyYmFnZQ==\n-----END ENCRYPTED PRIVATE KEY-----\n", time.Unix(1_800_000_100, 0))
	next := mustOpen(t, s.cfg, first.Snapshot, nil)
	if got := tlsaSet(t, next.Snapshot); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("TLSA %v, want the last good %v", got, want)
	}
	if errs := findingsWith(next.Diags, Error, "zones/mail.yaml:9:59: tlsa: "+s.next+": holds an encrypted private key"); len(errs) != 1 {
		t.Errorf("findings %v, want one error at the next: path naming the file and its encrypted key", next.Diags)
	}
}

// A first start with a certificate missing and no copy of it known: a
// clear error at the cert: path, and the zone served without that TLSA.
// Mail flows without DANE; without the zone's MX it does not.
func TestMissingCertificateAtFirstStartKeepsTheZone(t *testing.T) {
	pki := newTestPKI(t, 'l')
	s := newCertSite(t, pki)
	os.Remove(s.cert)
	done := make(chan Loaded, 1)
	go func() { done <- Open(s.cfg, nil, Options{Memory: s.mem}) }()
	var l Loaded
	select {
	case l = <-done:
	case <-time.After(time.Minute):
		t.Fatal("Open did not return")
	}
	if l.Snapshot == nil {
		t.Fatalf("nothing served: %v", l.Diags)
	}
	if got := tlsaSet(t, l.Snapshot); got == nil {
		t.Fatal("the zone is not served")
	} else if strings.Contains(strings.Join(got, " "), sha256Hex(pki.leaf.RawSubjectPublicKeyInfo)) {
		t.Errorf("TLSA %v made from a certificate that is not there", got)
	}
	r := l.Snapshot.Lookup(dns.Question{Name: "example.com.", Qtype: dns.TypeMX, Qclass: dns.ClassINET}, Client{Link: NoLink})
	if len(r.Answer) != 1 {
		t.Errorf("MX answer %v", r.Answer)
	}
	if errs := findingsWith(l.Diags, Error, "zones/mail.yaml:9:35: tlsa: read "+s.cert); len(errs) != 1 || !strings.Contains(errs[0], "served without the TLSA") {
		t.Errorf("findings %v, want one error at the cert: path saying the zone is served without its TLSA", l.Diags)
	}
	if f := l.Snapshot.Faults(); len(f) != 1 || !f[0].Serving {
		t.Errorf("faults %+v, want mail.yaml in error, served", f)
	}
	// mxdns check, a strict load, fails.
	if snap, diags := Load(s.cfg, nil); snap != nil || len(findingsWith(diags, Error, "tlsa: read "+s.cert)) != 1 {
		t.Errorf("a strict load: snapshot %v, findings %v", snap != nil, diags)
	}
}
