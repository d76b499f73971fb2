package server

import (
	"bytes"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/zone"
)

// slipConfig limits every answer to one a second and slips every reply
// over that, so the second reply to a question is always a slip.
const slipConfig = "rrl: {responses_per_second: 1, slip: 1, window: 1s}\n" + testConfig

// TestSlipIsTheSameOnBothPaths: a rate-limited reply is slipped from the
// answer cache (a hit) and from the handler (a miss) alike: TC set, no
// records, and the AA bit and rcode of the answer it stands for.
func TestSlipIsTheSameOnBothPaths(t *testing.T) {
	snap, diags := zone.FromYAML("t.yaml", []byte(slipConfig), nil)
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	s := testServer(t, snap)
	now := time.Unix(1000, 0)
	s.rrl.now = func() time.Time { return now } // no credit earned between queries
	for _, c := range []struct {
		name  string
		rcode int
	}{{"Example.COM.", dns.RcodeSuccess}, {"Nope.Example.COM.", dns.RcodeNameError}} {
		m := query(c.name, dns.TypeA)
		m.RecursionDesired = true
		m.AuthenticatedData = true // dig's default; a reply never echoes it
		m.SetEdns0(1232, true)
		b := packQuery(t, m)
		ask := func() []byte {
			var q wireQuery
			return s.answerDatagram(s.state.Load(), b, "127.0.0.1:0", 1, fuzzPeer{}, &q, nil)
		}
		full := ask() // a miss: answered in full, and cached
		fast := ask() // a hit, over the rate
		// A new state has an empty cache: the handler answers, over the rate.
		s.state.Store(newState(snap, zone.AllLinks))
		general := ask()

		want := new(dns.Msg)
		if err := want.Unpack(full); err != nil {
			t.Fatal(err)
		}
		if want.Truncated || want.Rcode != c.rcode || !want.Authoritative {
			t.Fatalf("%s: first reply is not the full answer:\n%v", c.name, want)
		}
		for path, b := range map[string][]byte{"answer cache": fast, "handler": general} {
			r := new(dns.Msg)
			if err := r.Unpack(b); err != nil {
				t.Fatalf("%s from the %s: %v", c.name, path, err)
			}
			if !r.Truncated || len(r.Answer)+len(r.Ns) != 0 || r.Rcode != c.rcode || !r.Authoritative ||
				r.AuthenticatedData || r.Id != m.Id || r.IsEdns0() == nil || !r.IsEdns0().Do() ||
				len(r.Question) != 1 || r.Question[0].Name != c.name {
				t.Errorf("%s: slip from the %s is not the answer cut short:\n%v", c.name, path, r)
			}
		}
		if !bytes.Equal(fast, general) {
			t.Errorf("%s: the slips differ:\nanswer cache: %x\nhandler:      %x", c.name, fast, general)
		}
	}
}
