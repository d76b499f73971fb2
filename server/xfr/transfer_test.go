package xfr

import (
	"net/netip"
	"testing"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/zone"
)

// The server tests (server/xfr_test.go, notify_test.go) run transfers
// and NOTIFY end to end; these hold the pieces that need no socket.

func TestUpToDate(t *testing.T) {
	ixfr := func(serial uint32) *dns.Msg {
		m := new(dns.Msg)
		m.SetIxfr("example.com.", serial, "ns1.example.com.", "hostmaster.example.com.")
		return m
	}
	for _, c := range []struct {
		have, serving uint32
		want          bool
	}{
		{10, 10, true},
		{11, 10, true},         // newer than ours: nothing to send
		{9, 10, false},         // behind
		{1, 0xfffffff0, true},  // wrapped past ours (RFC 1982)
		{0xfffffff0, 1, false}, // ours wrapped past theirs
	} {
		if got := upToDate(ixfr(c.have), c.serving); got != c.want {
			t.Errorf("client %d, serving %d: upToDate %v, want %v", c.have, c.serving, got, c.want)
		}
	}
	if upToDate(new(dns.Msg), 1) {
		t.Error("an IXFR without an SOA is up to date")
	}
}

func TestMayTransferByPrefixOrKey(t *testing.T) {
	tr := zone.Transfer{Allow: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}, AllowKeys: []string{"xfr-key."}}
	key := &dns.TSIG{Hdr: dns.RR_Header{Name: "XFR-Key."}}
	other := &dns.TSIG{Hdr: dns.RR_Header{Name: "other."}}
	in, out := netip.MustParseAddr("192.0.2.7"), netip.MustParseAddr("198.51.100.7")
	if !mayTransfer(tr, in, nil) || !mayTransfer(tr, out, key) {
		t.Error("an allowed prefix or key was refused")
	}
	if mayTransfer(tr, out, nil) || mayTransfer(tr, out, other) {
		t.Error("neither an allowed prefix nor key, but let in")
	}
}

func TestChunkKeepsEveryRecordInOrder(t *testing.T) {
	var rrs []dns.RR
	for i := range 2000 {
		rr, _ := dns.NewRR("h" + string(rune('a'+i%26)) + ".example.com. 60 IN TXT \"" + string(make([]byte, 20)) + "\"")
		rrs = append(rrs, rr)
	}
	envs := chunk(rrs)
	if len(envs) < 2 {
		t.Fatalf("%d envelopes for %d records: a big zone must stream in several", len(envs), len(rrs))
	}
	n := 0
	for _, e := range envs {
		size := 0
		for _, rr := range e.RR {
			if rr != rrs[n] {
				t.Fatalf("record %d out of order", n)
			}
			n++
			size += dns.Len(rr)
		}
		if size > xfrChunk+dns.Len(e.RR[len(e.RR)-1]) {
			t.Errorf("envelope of %d octets", size)
		}
	}
	if n != len(rrs) {
		t.Errorf("%d records out of %d", n, len(rrs))
	}
}
