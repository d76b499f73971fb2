package health

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/mxdns/mxdns/internal/smtptest"
	"github.com/mxdns/mxdns/zone"
)

// probeOnce runs one SMTP probe of spec from d, with spec's timeout.
func probeOnce(spec zone.Check, d dialer, helo string) outcome {
	ctx, cancel := context.WithTimeout(context.Background(), spec.Timeout)
	defer cancel()
	return smtpProbe(spec, d, helo)(ctx)
}

func TestSMTPProbe(t *testing.T) {
	mx := smtptest.Start(t, "127.0.0.1:0", "mx.example.test")
	tls := zone.Check{SMTP: mx.Addr, StartTLS: true, CAFile: mx.CAFile, Timeout: 10 * time.Second}

	out := probeOnce(tls, dialer{}, "mail.example.test.")
	if !out.ok || !strings.HasPrefix(out.result, "smtp "+mx.Addr+": greeted, certificate expires in 36") || out.certExpiry.Before(time.Now().Add(300*24*time.Hour)) {
		t.Errorf("healthy server: %+v", out)
	}
	if out := probeOnce(zone.Check{SMTP: mx.Addr, Timeout: 10 * time.Second}, dialer{}, ""); !out.ok || out.result != "smtp "+mx.Addr+": greeted" {
		t.Errorf("without STARTTLS: %+v", out)
	}

	t.Log("the system roots do not know the test CA; insecure skips the chain")
	noCA := tls
	noCA.CAFile = ""
	if out := probeOnce(noCA, dialer{}, ""); out.ok || !strings.Contains(out.result, "STARTTLS: certificate: x509: certificate signed by unknown authority") {
		t.Errorf("unknown CA: %+v", out)
	}
	noCA.Insecure = true
	if out := probeOnce(noCA, dialer{}, ""); !out.ok {
		t.Errorf("insecure: %+v", out)
	}

	t.Log("an unexpected reply is a failure with its code")
	mx.SetEHLOReply("554 5.7.1 not today")
	if out := probeOnce(tls, dialer{}, ""); out.ok || out.result != "smtp "+mx.Addr+": EHLO: unexpected reply 554 5.7.1 not today" {
		t.Errorf("554 to EHLO: %+v", out)
	}
	mx.SetEHLOReply("")

	t.Log("an expired certificate fails even with insecure")
	mx.SetValidity(time.Now().Add(-100*24*time.Hour), time.Now().Add(-3*24*time.Hour-time.Hour))
	for _, spec := range []zone.Check{tls, noCA} {
		out := probeOnce(spec, dialer{}, "")
		if out.ok || !strings.Contains(out.result, ": STARTTLS: certificate expired on ") || !strings.Contains(out.result, "(3 days ago)") || out.certExpiry.IsZero() {
			t.Errorf("expired certificate (insecure %v): %+v", spec.Insecure, out)
		}
	}

	t.Log("a server that stops answering EHLO times out")
	mx.MuteEHLO(true)
	quick := tls
	quick.Timeout = 2 * time.Second
	if out := probeOnce(quick, dialer{}, ""); out.ok || out.result != "smtp "+mx.Addr+": EHLO: no reply, timeout after 2s" {
		t.Errorf("muted EHLO: %+v", out)
	}
}

// TestProbeSource: a probe leaves from the source written, else from the
// link's outbound address of the target's family; an address the machine
// does not have says so.
func TestProbeSource(t *testing.T) {
	mx := smtptest.Start(t, "127.0.0.1:0")
	spec := zone.Check{SMTP: mx.Addr, Timeout: 10 * time.Second}
	wan2 := netip.MustParseAddr("127.0.0.2")
	for _, d := range []dialer{{source: wan2}, {src4: wan2, src6: netip.MustParseAddr("::1")}} {
		out := probeOnce(spec, d, "")
		if !out.ok || out.result != "smtp "+mx.Addr+": greeted from 127.0.0.2" {
			t.Errorf("%+v: %+v", d, out)
			continue
		}
		select {
		case peer := <-mx.Seen():
			if peer != wan2 {
				t.Errorf("%+v: the responder saw %s, want 127.0.0.2", d, peer)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the responder saw no connection")
		}
	}
	out := probeOnce(spec, dialer{source: netip.MustParseAddr("192.0.2.1")}, "")
	if out.ok || !strings.Contains(out.result, "source 192.0.2.1 is not an address of this machine") {
		t.Errorf("foreign source: %+v", out)
	}
	tcp := tcpProbe(zone.Check{TCP: mx.Addr, Timeout: 10 * time.Second}, dialer{source: wan2})(context.Background())
	if !tcp.ok || tcp.result != "tcp "+mx.Addr+": connected from 127.0.0.2" {
		t.Errorf("tcp from a source: %+v", tcp)
	}
}

func TestEHLOName(t *testing.T) {
	for _, tc := range []struct{ helo, local, want string }{
		{"mail.example.test.", "127.0.0.1:1234", "mail.example.test"},
		{"", "127.0.0.2:1234", "[127.0.0.2]"},
		{"", "[::1]:1234", "[IPv6:::1]"},
	} {
		local := netip.MustParseAddrPort(tc.local)
		if got := ehloName(tc.helo, netAddr(local)); got != tc.want {
			t.Errorf("ehloName(%q, %s) = %q, want %q", tc.helo, tc.local, got, tc.want)
		}
	}
}

type netAddr netip.AddrPort

func (a netAddr) Network() string { return "tcp" }
func (a netAddr) String() string  { return netip.AddrPort(a).String() }
