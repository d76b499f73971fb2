package harness

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

const testSecret = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ="

// TestKnotSecondaryConfig: the key, the primary, the NOTIFY acl, the
// catalog with its templates, and the zones named.
func TestKnotSecondaryConfig(t *testing.T) {
	k := &KnotSecondary{addr: "127.0.0.2:5300", dir: t.TempDir()}
	conf, err := k.config(KnotSecondaryOptions{Primary: "127.0.0.1:5353", TSIGName: "xfr-key", TSIGAlgorithm: "hmac-sha256.",
		TSIGSecret: testSecret, Catalog: "catalog.invalid", Groups: []string{"mirror"}, Zones: []string{"example.test"}}, "id", "/ctl.sock")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"listen: 127.0.0.2@5300\n",
		"key:\n  - id: xfr-key.\n    algorithm: hmac-sha256\n    secret: " + testSecret + "\n",
		"remote:\n  - id: primary\n    address: 127.0.0.1@5353\n    key: xfr-key.\n",
		"address: 127.0.0.0/8\n    key: xfr-key.\n    action: notify\n",
		"  - domain: \"catalog.invalid.\"\n    master: primary\n",
		"    catalog-role: interpret\n    catalog-template: [member, mirror]\n",
		"  - id: mirror\n    storage: \"" + k.groupDir("mirror") + "\"\n",
		"  - domain: \"example.test.\"\n    template: member\n",
	} {
		if !strings.Contains(conf, want) {
			t.Errorf("config lacks %q:\n%s", want, conf)
		}
	}
	for _, bad := range []KnotSecondaryOptions{
		{Primary: "127.0.0.1:53"},
		{Primary: "127.0.0.1:53", Catalog: "c.invalid", Groups: []string{"member"}},
		{Primary: "127.0.0.1:53", Catalog: "c.invalid", Groups: []string{"two words"}},
	} {
		if _, err := k.config(bad, "id", "/ctl.sock"); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
}

// TestKnotSecondaryFollows: a secondary of a zone named in its options
// transfers it from a primary that wants the key, and answers for it.
func TestKnotSecondaryFollows(t *testing.T) {
	NeedKnot(t)
	primary := testPrimary(t, "example.test.")
	k := StartKnotSecondary(t, KnotSecondaryOptions{Primary: primary, TSIGName: "xfr-key", TSIGAlgorithm: "hmac-sha256",
		TSIGSecret: testSecret, Zones: []string{"example.test"}})
	if !strings.HasPrefix(k.Addr(), "127.0.0.1:") {
		t.Errorf("address %s, want 127.0.0.1 and a free port", k.Addr())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var r *dns.Msg
	if !Wait(ctx, func() bool {
		var err error
		r, err = k.Query("www.example.test", dns.TypeA)
		return err == nil && r.Rcode == dns.RcodeSuccess && len(r.Answer) == 1
	}) {
		t.Fatalf("www.example.test A not served within 30 s: %v\n%s", r, k.Log())
	}
	if !r.Authoritative || !strings.Contains(r.Answer[0].String(), "192.0.2.80") {
		t.Errorf("www.example.test A:\n%v", r)
	}
	if !strings.Contains(k.Log(), "[example.test.] AXFR, incoming") {
		t.Errorf("no incoming AXFR in the log:\n%s", k.Log())
	}
}

// testPrimary serves one small zone over UDP and TCP on 127.0.0.1: SOA
// queries and AXFR, only to clients signing with the test key.
func testPrimary(t *testing.T, origin string) string {
	t.Helper()
	var rrs []dns.RR
	for _, s := range []string{
		origin + " 300 IN SOA ns1." + origin + " hostmaster." + origin + " 7 3600 600 86400 300",
		origin + " 300 IN NS ns1." + origin,
		"ns1." + origin + " 300 IN A 192.0.2.53",
		"www." + origin + " 300 IN A 192.0.2.80",
	} {
		rr, err := dns.NewRR(s)
		if err != nil {
			t.Fatal(err)
		}
		rrs = append(rrs, rr)
	}
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(req)
		tsig := req.IsTsig()
		switch {
		case tsig == nil || w.TsigStatus() != nil:
			m.Rcode = dns.RcodeRefused
		case req.Question[0].Qtype == dns.TypeAXFR || req.Question[0].Qtype == dns.TypeIXFR:
			ch := make(chan *dns.Envelope, 1)
			ch <- &dns.Envelope{RR: append(append([]dns.RR(nil), rrs...), rrs[0])}
			close(ch)
			tr := new(dns.Transfer)
			tr.TsigSecret = map[string]string{"xfr-key.": testSecret}
			if err := tr.Out(w, req, ch); err != nil {
				t.Logf("test primary: AXFR: %v", err)
			}
			return
		case req.Question[0].Qtype == dns.TypeSOA:
			m.Authoritative = true
			m.Answer = rrs[:1]
		}
		if tsig != nil {
			m.SetTsig(tsig.Hdr.Name, tsig.Algorithm, 300, time.Now().Unix())
		}
		w.WriteMsg(m)
	})
	secrets := map[string]string{"xfr-key.": testSecret}
	// A UDP port the kernel gave may be taken for TCP (a client's
	// ephemeral port, on a busy machine): take another.
	var pc net.PacketConn
	var l net.Listener
	for try := 0; l == nil; try++ {
		var err error
		if pc, err = net.ListenPacket("udp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		if l, err = net.Listen("tcp", pc.LocalAddr().String()); err != nil {
			pc.Close()
			if try == 20 {
				t.Fatal(err)
			}
		}
	}
	for _, srv := range []*dns.Server{{PacketConn: pc, Handler: handler, TsigSecret: secrets}, {Listener: l, Handler: handler, TsigSecret: secrets}} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		go srv.ActivateAndServe()
		<-started
		t.Cleanup(func() { srv.Shutdown() })
	}
	return pc.LocalAddr().String()
}
