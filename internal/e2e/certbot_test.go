package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/internal/harness"
)

// certbotZone names certbot's link for mx1 from a signed zone.
var certbotZone = zoneYAML("example.test", "192.0.2.80",
	`"@": {mx: "10;mx1"}`,
	"mx1: {a: 192.0.2.25}",
	"_25._tcp.mx1: {tlsa: {cert: ../le/live/mx1/fullchain.pem}}",
) + "    dnssec: on\n"

// certbot lays out /etc/letsencrypt as certbot does: each version of a
// certificate in archive/, and live/ a symbolic link to the newest.
type certbot struct {
	t       *testing.T
	le      string
	version int
}

// renew writes the next version into archive/ and switches the live/
// link to it as certbot does, unlink then symlink; it returns the TLSA
// 3 1 1 data of the new certificate.
func (c *certbot) renew() string {
	c.t.Helper()
	c.version++
	cert, want := selfSigned(c.t)
	archive := filepath.Join(c.le, "archive", "mx1")
	live := filepath.Join(c.le, "live", "mx1")
	for _, d := range []string{archive, live} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			c.t.Fatal(err)
		}
	}
	name := "fullchain" + string(rune('0'+c.version)) + ".pem"
	if err := os.WriteFile(filepath.Join(archive, name), cert, 0o644); err != nil {
		c.t.Fatal(err)
	}
	link := filepath.Join(live, "fullchain.pem")
	if err := os.Remove(link); err != nil && !os.IsNotExist(err) {
		c.t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join("..", "..", "archive", "mx1", name), link); err != nil {
		c.t.Fatal(err)
	}
	return want
}

// current is the archive file the live link leads to.
func (c *certbot) current() string {
	return filepath.Join(c.le, "archive", "mx1", "fullchain"+string(rune('0'+c.version))+".pem")
}

// tlsa is the TLSA data served for mx1: "" for none, "error: ..." when
// the query fails.
func (s *site) tlsa() string {
	r, err := s.srv.Query("_25._tcp.mx1.example.test.", dns.TypeTLSA)
	if err != nil {
		return "error: " + err.Error()
	}
	var data []string
	for _, rr := range r.Answer {
		if t, ok := rr.(*dns.TLSA); ok {
			data = append(data, t.Certificate)
		}
	}
	return strings.Join(data, " ")
}

func (s *site) waitTLSA(want, failure string) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	var got string
	if !harness.Wait(ctx, func() bool { got = s.tlsa(); return got == want }) {
		s.t.Fatalf("%s: TLSA %q after %v, want %q%s", failure, got, deadline, want, s.statusNote())
	}
}

// A certbot renewal, a new file in archive/ and the live/ link unlinked
// and made again to it, changes the served TLSA with no edit of the zone;
// every answer meanwhile is the old certificate's or the new one's, never
// none, even when a reload falls between the unlink and the symlink.
func TestCertbotRenewalChangesTheTLSA(t *testing.T) {
	if !hasStateDir {
		t.Skip("signing needs -state-dir")
	}
	s := newSite(t, map[string]string{"zones/mail.yaml": certbotZone})
	cb := &certbot{t: t, le: s.path("le")}
	first := cb.renew()
	s.start()
	s.waitTLSA(first, "start")
	for range 3 {
		old := first
		next := cb.renew()
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		var got string
		ok := harness.Wait(ctx, func() bool {
			got = s.tlsa()
			if got != old && got != next {
				t.Fatalf("during the renewal the TLSA was %q, want the old %q or the new %q%s", got, old, next, s.statusNote())
			}
			return got == next
		})
		cancel()
		if !ok {
			t.Fatalf("the TLSA did not follow the renewal: %q, want %q%s", got, next, s.statusNote())
		}
		first = next
	}
	s.waitNotInError("mail.yaml", "a renewal leaves no file in error")
}

// Change safety: after a restart with the certificate broken (the link
// left dangling mid-renewal, or garbage in the file) the zone and its
// TLSA are served from the last good copies in the state directory, and
// /status names the zone file in error. A fix is served at once.
func TestBrokenCertificateAtRestartKeepsTheTLSA(t *testing.T) {
	if !hasStateDir {
		t.Skip("needs -state-dir")
	}
	s := newSite(t, map[string]string{"zones/mail.yaml": certbotZone})
	cb := &certbot{t: t, le: s.path("le")}
	want := cb.renew()
	s.start()
	s.waitTLSA(want, "start")

	// Stopped mid-renewal: the link already leads to a file not written.
	if err := s.srv.Stop(); err != nil {
		t.Fatal(err)
	}
	cb.version++
	link := filepath.Join(s.path("le"), "live", "mx1", "fullchain.pem")
	os.Remove(link)
	if err := os.Symlink(filepath.Join("..", "..", "archive", "mx1", filepath.Base(cb.current())), link); err != nil {
		t.Fatal(err)
	}
	if err := s.srv.Restart(); err != nil {
		t.Fatal(err)
	}
	s.expectA("www.example.test", "192.0.2.80", "a dangling certificate link at a restart dropped the zone")
	if got := s.tlsa(); got != want {
		t.Fatalf("after a restart with the certificate link dangling, TLSA %q, want the last good %q%s", got, want, s.statusNote())
	}
	f := s.waitInError("mail.yaml", "last good copy", "a dangling certificate link")
	if !strings.Contains(f.Error, "mail.yaml:9:35: tlsa: read ") || !strings.Contains(f.Error, "last good copy") {
		t.Errorf("files_in_error says %q, want the cert: position and the last good copy", f.Error)
	}

	// certbot finishes: the file the link leads to is written.
	cert, renewed := selfSigned(t)
	if err := os.WriteFile(cb.current(), cert, 0o644); err != nil {
		t.Fatal(err)
	}
	s.waitTLSA(renewed, "the renewal finished")
	s.waitNotInError("mail.yaml", "the renewal finished")

	// Garbage in the certificate at a restart.
	if err := s.srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cb.current(), []byte("-----BEGIN CERTIFICATE-----\nZ2FyYmFnZQ==\n-----END CERTIFICATE-----\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.srv.Restart(); err != nil {
		t.Fatal(err)
	}
	if got := s.tlsa(); got != renewed {
		t.Fatalf("after a restart with a garbage certificate, TLSA %q, want the last good %q%s", got, renewed, s.statusNote())
	}
	s.waitInError("mail.yaml", "last good copy", "a garbage certificate")
}

// A first start with the certificate missing and no copy of it kept: the
// server starts, serves the zone without the TLSA and says why; once
// certbot makes the directory and the certificate, the TLSA appears.
func TestMissingCertificateAtFirstStart(t *testing.T) {
	if !hasStateDir {
		t.Skip("signing needs -state-dir")
	}
	s := newSite(t, map[string]string{"zones/mail.yaml": certbotZone})
	s.start() // harness.Start fails if the server does not answer within 30s
	s.expectA("www.example.test", "192.0.2.80", "a missing certificate at a first start dropped the zone")
	if got := s.tlsa(); got != "" {
		t.Fatalf("TLSA %q with no certificate", got)
	}
	f := s.waitInError("mail.yaml", "last good copy", "a missing certificate at a first start")
	if !strings.Contains(f.Error, "mail.yaml:9:35: tlsa: read ") || !strings.Contains(f.Error, "served without the TLSA") {
		t.Errorf("files_in_error says %q, want the cert: position and that the zone is served without the TLSA", f.Error)
	}
	cb := &certbot{t: t, le: s.path("le")}
	want := cb.renew()
	s.waitTLSA(want, "le/live/mx1 made after the start")
	s.waitNotInError("mail.yaml", "le/live/mx1 made after the start")
}
