package server

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/server/xfr"
)

// notifyListener is a stand-in secondary on 127.0.0.1:0: it sends every
// NOTIFY it gets to the returned channel, answering the ones numbered in
// fail (from 1) with SERVFAIL and a bad TSIG with NOTAUTH.
// notifyInFlight is the bound the tests below hold the NOTIFY queue to.
const notifyInFlight = xfr.NotifyInFlight

func notifyListener(t *testing.T, secret string, fail ...int) (string, <-chan *dns.Msg) {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan *dns.Msg, 16)
	var n atomic.Int32 // requests are served concurrently
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(req)
		if slices.Contains(fail, int(n.Add(1))) {
			m.Rcode = dns.RcodeServerFailure
		}
		if t := req.IsTsig(); t != nil && w.TsigStatus() == nil {
			m.SetTsig(t.Hdr.Name, t.Algorithm, 300, time.Now().Unix())
		} else if t != nil {
			m.Rcode = dns.RcodeNotAuth
		}
		got <- req // before the reply: once a sender has its answer, got holds the request
		w.WriteMsg(m)
	})}
	if secret != "" {
		srv.TsigSecret = map[string]string{testKey: secret}
	}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go srv.ActivateAndServe()
	<-started
	t.Cleanup(func() { srv.Shutdown() })
	return pc.LocalAddr().String(), got
}

func waitNotify(t *testing.T, got <-chan *dns.Msg) *dns.Msg {
	t.Helper()
	select {
	case m := <-got:
		return m
	case <-time.After(20 * time.Second):
		t.Fatal("no NOTIFY within 20 s")
		return nil
	}
}

func TestNotifyOnReload(t *testing.T) {
	old := notifyBackoff
	notifyBackoff = 10 * time.Millisecond
	t.Cleanup(func() { notifyBackoff = old })

	// The first NOTIFY after the one at startup fails: it must be retried.
	target, got := notifyListener(t, testSecret, 2)
	config := "tsig_keys:\n  xfr-key: {algorithm: hmac-sha256, secret: \"" + testSecret + "\"}\n" +
		"transfer:\n  allow: [\"key:xfr-key\"]\n  notify: [\"" + target + "\"]\n" + testConfig
	s, path, reloads := startServer(t, config)
	if m := waitNotify(t, got); m.Opcode != dns.OpcodeNotify {
		t.Fatalf("at startup: not a NOTIFY:\n%v", m)
	}

	// A reload that changes nothing sends nothing: it would be counted
	// below as one message too many.
	s.Reload()
	<-reloads

	writeFile(t, path, strings.Replace(config, "mx1: {a: 203.0.113.25}", "mx1: {a: 203.0.113.26}", 1))
	if res := s.Reload(); res.Err != nil {
		t.Fatal(res.Err)
	}
	<-reloads
	for attempt := 1; attempt <= 2; attempt++ {
		m := waitNotify(t, got)
		if m.Opcode != dns.OpcodeNotify || len(m.Question) != 1 || m.Question[0].Name != "example.com." || m.Question[0].Qtype != dns.TypeSOA {
			t.Fatalf("attempt %d: not a NOTIFY for example.com SOA:\n%v", attempt, m)
		}
		if m.IsTsig() == nil || m.IsTsig().Hdr.Name != testKey {
			t.Errorf("attempt %d: NOTIFY not signed with %s", attempt, testKey)
		}
	}
	// Acknowledged on the second attempt: no third. Shutdown waits for
	// every NOTIFY goroutine, so anything sent is in got by then.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Errorf("%d NOTIFY after acknowledgement, first:\n%v", len(got), <-got)
	}
}

// At start-up every zone is due a NOTIFY at once: only notifyInFlight of
// them may be under way together to one target, the rest wait their turn.
func TestNotifyInFlightBounded(t *testing.T) {
	old := notifyTimeout
	notifyTimeout = 30 * time.Second // held exchanges must not free their slots by timing out
	t.Cleanup(func() { notifyTimeout = old })

	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 256)
	release := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		got <- req.Question[0].Name
		<-release
		m := new(dns.Msg)
		m.SetReply(req)
		w.WriteMsg(m)
	})}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go srv.ActivateAndServe()
	<-started
	t.Cleanup(func() { srv.Shutdown() })

	const zones = 3 * notifyInFlight
	var b strings.Builder
	b.WriteString("listen: [\"127.0.0.1:0\"]\ntransfer:\n  notify: [\"" + pc.LocalAddr().String() + "\"]\nzones:\n")
	for i := range zones {
		fmt.Fprintf(&b, "  z%d.example:\n    ns: [ns1]\n    records:\n      ns1: {a: 192.0.2.53}\n", i)
	}
	startServer(t, b.String())
	// Cleanups run last first: on failure, answer the held NOTIFYs before
	// the server's shutdown waits for them.
	released := false
	t.Cleanup(func() {
		if !released {
			close(release)
		}
	})

	recv := func(n int) {
		t.Helper()
		deadline := time.After(20 * time.Second)
		for range n {
			select {
			case <-got:
			case <-deadline:
				t.Fatalf("fewer than %d NOTIFYs within 20s", n)
			}
		}
	}
	recv(notifyInFlight)
	select {
	case name := <-got:
		t.Fatalf("NOTIFY for %s while %d were unanswered", name, notifyInFlight)
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	released = true
	recv(zones - notifyInFlight)
}

// silentSecondary is a secondary on 127.0.0.1:0 that drops every
// NOTIFY, as one that is down behind a firewall does: it sends each
// one's zone to the returned channel and never answers.
func silentSecondary(t *testing.T) (string, <-chan string) {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	got := make(chan string, 256)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, _, err := pc.ReadFrom(buf)
			if err != nil {
				return // closed
			}
			m := new(dns.Msg)
			if m.Unpack(buf[:n]) == nil && len(m.Question) == 1 {
				select {
				case got <- m.Question[0].Name:
				default:
				}
			}
		}
	}()
	return pc.LocalAddr().String(), got
}

// Shutdown must not wait out the timeout of a NOTIFY to a secondary
// that never answers.
func TestShutdownDoesNotWaitForASilentSecondary(t *testing.T) {
	old := notifyTimeout
	notifyTimeout = 30 * time.Second
	t.Cleanup(func() { notifyTimeout = old })

	target, got := silentSecondary(t)
	s, _, _ := startServer(t, "transfer:\n  notify: [\""+target+"\"]\n"+testConfig)
	select {
	case <-got:
	case <-time.After(20 * time.Second):
		t.Fatal("no NOTIFY within 20 s")
	}
	done := make(chan error, 1)
	go func() { done <- s.Shutdown(context.Background()) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Shutdown still waiting after 20 s for a NOTIFY nobody answers")
	}
}

// A secondary that drops every NOTIFY holds its exchanges for the whole
// timeout: it may delay only its own NOTIFYs, never another secondary's.
func TestSilentSecondaryDoesNotDelayOthers(t *testing.T) {
	old := notifyTimeout
	notifyTimeout = 30 * time.Second // the silent one's exchanges last the whole test
	t.Cleanup(func() { notifyTimeout = old })

	silent, held := silentSecondary(t)
	good, got := notifyListener(t, "")
	const zones = 3 * notifyInFlight
	var b strings.Builder
	b.WriteString("listen: [\"127.0.0.1:0\"]\ntransfer:\n  notify: [\"" + silent + "\", \"" + good + "\"]\nzones:\n")
	for i := range zones {
		fmt.Fprintf(&b, "  z%d.example:\n    ns: [ns1]\n    records:\n      ns1: {a: 192.0.2.53}\n", i)
	}
	startServer(t, b.String())

	deadline := time.After(20 * time.Second)
	seen := make(map[string]bool)
	for len(seen) < zones {
		select {
		case m := <-got:
			seen[m.Question[0].Name] = true
		case <-deadline:
			t.Fatalf("the answering secondary got %d of %d NOTIFYs within 20 s (the silent one %d)", len(seen), zones, len(held))
		}
	}
}
