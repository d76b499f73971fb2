package server

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mxdns/mxdns/internal/smtptest"
	"github.com/mxdns/mxdns/server/ops"
)

// checkEvent is a probe result or a link change, in the order the server
// made them.
type checkEvent struct {
	link   string
	ok     bool
	change bool // a link change; ok is then the new state
}

// TestSMTPChecksThroughTheirLinks: each link's SMTP check is sent from its
// own address (wan1's outbound one by default, wan2's source: written), a
// failing reply takes the link down after exactly fall failures, an
// expired certificate too, and /status and /metrics show every check with
// its certificate's expiry.
func TestSMTPChecksThroughTheirLinks(t *testing.T) {
	mx1 := smtptest.Start(t, "127.0.0.1:0", "mx1.example.test")
	mx2 := smtptest.Start(t, "127.0.0.1:0", "mx2.example.test")
	state := filepath.Join(t.TempDir(), "wan2.state")
	writeFile(t, state, "down\n")
	const fall = 3
	config := fmt.Sprintf(`listen: ["127.0.0.1:0"]
links:
  wan1:
    check: {smtp: "%s", starttls: true, ca_file: %s, interval: 100ms, timeout: 100ms, rise: 1, fall: %d}
    outbound: {ipv4: 127.0.0.2, helo: mail.example.test.}
  wan2:
    require: any
    check:
      - {smtp: "%s", source: 127.0.0.1, interval: 100ms, timeout: 100ms}
      - {file: %s}
zones:
  example.test:
    ns: [ns1]
    records:
      ns1: {a: 192.0.2.53}
`, mx1.Addr, mx1.CAFile, fall, mx2.Addr, state)
	path := filepath.Join(t.TempDir(), "config.yaml")
	writeFile(t, path, config)
	events := make(chan checkEvent, 4096)
	s, err := New(Options{Logger: testLogger(t), ConfigPath: path,
		OnLinkChange: func(c LinkChange) { events <- checkEvent{link: c.Link, ok: c.Up, change: true} },
		onCheck: func(link string, ok bool) {
			select {
			case events <- checkEvent{link: link, ok: ok}:
			default:
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	stopAtCleanup(t, s)

	var st ops.Status
	deadline := time.Now().Add(failBound)
	for {
		st = s.Status()
		if len(st.Links) == 2 && len(st.Links[1].Checks) == 2 && st.Links[0].LastCheck != nil && st.Links[1].Checks[0].LastCheck != nil && st.Links[1].Checks[1].LastCheck != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("checks not run within %v: %+v", failBound, st.Links)
		}
		time.Sleep(10 * time.Millisecond)
	}
	w1, w2 := st.Links[0], st.Links[1]
	if w1.State != "up" || w1.Check != "smtp "+mx1.Addr+" starttls" || !w1.LastCheck.OK || w1.LastCheck.CertExpiry == nil ||
		w1.LastCheck.CertExpiry.Before(time.Now().Add(300*24*time.Hour)) || w1.Require != "all" {
		t.Errorf("wan1 %+v, last %+v", w1, w1.LastCheck)
	}
	if w2.State != "up" || w2.Require != "any" || !w2.Checks[0].Up || w2.Checks[1].Up ||
		w2.Checks[1].LastCheck.Result != "file "+state+": down" || w2.Checks[0].Check != "smtp "+mx2.Addr+" from 127.0.0.1" {
		t.Errorf("wan2 %+v, checks %+v", w2, w2.Checks)
	}
	for mx, want := range map[*smtptest.Server]string{mx1: "127.0.0.2", mx2: "127.0.0.1"} {
		if peers := mx.Peers(); len(peers) == 0 || slices.ContainsFunc(peers, func(a netip.Addr) bool { return a.String() != want }) {
			t.Errorf("%s saw probes from %v, want only %s", mx.Addr, peers, want)
		}
	}
	metrics := scrape(t, s)
	for _, want := range []string{
		`mxdns_check_ok{check="smtp ` + mx1.Addr + ` starttls",link="wan1"} 1`,
		`mxdns_check_ok{check="file ` + state + `",link="wan2"} 0`,
		`mxdns_check_cert_expiry_timestamp_seconds{check="smtp ` + mx1.Addr + ` starttls",link="wan1"} `,
		`mxdns_check_latency_seconds{check="smtp ` + mx2.Addr + ` from 127.0.0.1",link="wan2"} `,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}

	t.Log("an unexpected reply: down after exactly fall failures, the code in the reason")
	drain(events)
	mx1.SetEHLOReply("554 5.7.1 go away")
	if n := failuresUntilDown(t, events, "wan1"); n != fall {
		t.Errorf("wan1 went down after %d failed probes, want fall = %d", n, fall)
	}
	if why := s.Status().Links[0].Why; why != "smtp "+mx1.Addr+": EHLO: unexpected reply 554 5.7.1 go away" {
		t.Errorf("wan1 down because %q", why)
	}
	mx1.SetEHLOReply("")
	waitUp(t, events, "wan1")

	t.Log("an expired certificate takes the link down too")
	mx1.SetValidity(time.Now().Add(-60*24*time.Hour), time.Now().Add(-24*time.Hour))
	drain(events)
	failuresUntilDown(t, events, "wan1")
	st = s.Status()
	if w1 := st.Links[0]; !strings.Contains(w1.Why, "STARTTLS: certificate expired on ") || w1.LastCheck.CertExpiry == nil || w1.LastCheck.CertExpiry.After(time.Now()) {
		t.Errorf("wan1 after expiry: %+v, last %+v", w1, w1.LastCheck)
	}

	t.Log("wan2 needs any check: the file going up and the SMTP one failing leaves it up")
	writeFile(t, state, "up\n")
	mx2.Close()
	deadline = time.Now().Add(failBound)
	for {
		c := s.Status().Links[1].Checks
		if c[1].Up && !c[0].Up {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("wan2 checks %+v", c)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if w2 := s.Status().Links[1]; w2.State != "up" {
		t.Errorf("wan2 with its file up: %+v", w2)
	}
}

func drain(events chan checkEvent) {
	for {
		select {
		case <-events:
		default:
			return
		}
	}
}

// failuresUntilDown counts link's failed probes until it goes down.
func failuresUntilDown(t *testing.T, events <-chan checkEvent, link string) int {
	t.Helper()
	n := 0
	deadline := time.After(failBound)
	for {
		select {
		case e := <-events:
			switch {
			case e.link != link:
			case e.change && !e.ok:
				return n
			case !e.change && !e.ok:
				n++
			case !e.change:
				n = 0 // a probe that was under way before the change
			}
		case <-deadline:
			t.Fatalf("%s not down within %v", link, failBound)
		}
	}
}

func waitUp(t *testing.T, events <-chan checkEvent, link string) {
	t.Helper()
	deadline := time.After(failBound)
	for {
		select {
		case e := <-events:
			if e.link == link && e.change && e.ok {
				return
			}
		case <-deadline:
			t.Fatalf("%s not up within %v", link, failBound)
		}
	}
}
