package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mxdns/mxdns/internal/harness"
	"github.com/mxdns/mxdns/internal/smtptest"
)

// TestSMTPCheckTakesItsLinkDown runs the binary with a link checked by
// speaking SMTP, from 127.0.0.2 (wan2's address in the test site), to a
// responder with STARTTLS and a test CA: the responder sees the probes
// come from 127.0.0.2; when it stops answering EHLO while still accepting
// connections the link goes down within interval × fall (plus the
// probe's timeout), and so it does when its certificate has expired,
// each time with the reason in /status.
func TestSMTPCheckTakesItsLinkDown(t *testing.T) {
	const (
		interval = time.Second
		timeout  = 500 * time.Millisecond
		fall     = 2
		// slack allows for scheduling on a busy machine; the bound
		// checked is still far below what a check that waited for
		// more failures, or longer intervals, would take.
		slack = 3 * time.Second
	)
	mx := smtptest.Start(t, "127.0.0.1:0", "mx.example.test")
	dir := t.TempDir()
	srv, err := harness.Start(harness.Options{Bin: bin, Dir: dir, Args: []string{"serve", "-config", "config.yaml", "-state-dir", "state"}, MemLimit: memLimit,
		WriteConfig: func(port, admin int) error {
			return os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(fmt.Sprintf(`listen: ["127.0.0.1:%d"]
admin: "127.0.0.1:%d"
links:
  wan2:
    check: {smtp: "%s", starttls: true, ca_file: %s, source: 127.0.0.2, interval: %s, timeout: %s, rise: 1, fall: %d}
zones:
  example.test:
    ns: [ns1]
    records:
      ns1: {a: 192.0.2.53}
`, port, admin, mx.Addr, mx.CAFile, interval, timeout, fall)), 0o644)
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Stop(); err != nil {
			t.Log(err)
		}
		if t.Failed() {
			t.Logf("server output:\n%s", tail(srv.Log(), 40))
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	link := func() harness.Link {
		st, err := srv.Status()
		if err != nil {
			return harness.Link{}
		}
		l, _ := st.Link("wan2")
		return l
	}
	if !harness.Wait(ctx, func() bool {
		l := link()
		return l.State == "up" && len(l.Checks) == 1 && l.Checks[0].LastCheck != nil && l.Checks[0].LastCheck.OK
	}) {
		t.Fatalf("the SMTP check did not pass: %+v", link())
	}
	if l := link(); l.Checks[0].LastCheck.CertExpiry == nil || l.Checks[0].LastCheck.CertExpiry.Before(time.Now()) {
		t.Errorf("no certificate expiry in /status: %+v", l.Checks[0].LastCheck)
	}
	peers := mx.Peers()
	for _, p := range peers {
		if p.String() != "127.0.0.2" {
			t.Errorf("the responder saw a probe from %s, want 127.0.0.2 (source:)", p)
		}
	}
	if len(peers) == 0 {
		t.Error("the responder saw no probe")
	}

	t.Log("EHLO unanswered, the connection still accepted")
	muted := time.Now()
	mx.MuteEHLO(true)
	if !harness.Wait(ctx, func() bool { return link().State == "down" }) {
		t.Fatalf("the link stayed up with EHLO unanswered: %+v", link())
	}
	l := link()
	bound := interval*fall + timeout
	t.Logf("down %v after EHLO went unanswered (interval × fall + timeout = %v)", l.Since.Sub(muted).Round(time.Millisecond), bound)
	if took := l.Since.Sub(muted); took > bound+slack {
		t.Errorf("down %v after EHLO went unanswered, want within interval × fall + timeout = %v", took, bound)
	}
	if want := "smtp " + mx.Addr + ": EHLO: no reply, timeout after 500ms"; l.Why != want {
		t.Errorf("why %q, want %q", l.Why, want)
	}

	mx.MuteEHLO(false)
	if !harness.Wait(ctx, func() bool { return link().State == "up" }) {
		t.Fatalf("the link did not come back: %+v", link())
	}

	t.Log("a certificate that expired")
	mx.SetValidity(time.Now().Add(-90*24*time.Hour), time.Now().Add(-2*24*time.Hour-time.Hour))
	expired := time.Now()
	if !harness.Wait(ctx, func() bool { return link().State == "down" }) {
		t.Fatalf("the link stayed up with an expired certificate: %+v", link())
	}
	l = link()
	if took := l.Since.Sub(expired); took > bound+slack {
		t.Errorf("down %v after the certificate expired, want within %v", took, bound)
	}
	if !strings.Contains(l.Why, "STARTTLS: certificate expired on ") || !strings.Contains(l.Why, "(2 days ago)") {
		t.Errorf("why %q, want the expired certificate", l.Why)
	}
	if c := l.Checks[0].LastCheck; c == nil || c.CertExpiry == nil || c.CertExpiry.After(time.Now()) {
		t.Errorf("last check %+v: want the past expiry", c)
	}
}
