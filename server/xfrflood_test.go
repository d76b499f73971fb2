package server

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/mxdns/mxdns/server/answer"
	"github.com/mxdns/mxdns/zone"
)

// TestRefusedTransfersAreRateLimitedAndLogThrottled: an IXFR flood over
// UDP, refused (no transfer allowed) or with a bad TSIG, is rate limited
// like any error and logs one line a second per kind, the next one
// counting those suppressed.
func TestRefusedTransfersAreRateLimitedAndLogThrottled(t *testing.T) {
	config := "tsig_keys:\n  xfr-key: {algorithm: hmac-sha256, secret: \"" + testSecret + "\"}\n" +
		"rrl: {responses_per_second: 1, slip: 0, window: 1s}\n" + testConfig
	snap, diags := zone.FromYAML("t.yaml", []byte(config), nil)
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	s := testServer(t, snap)
	var logs syncBuffer
	s.log = slog.New(slog.NewTextHandler(&logs, nil))
	now := time.Unix(1000, 0)
	s.xfrLog.now = func() time.Time { return now }
	// The rate limiter's clock stopped, so no credit is earned between
	// queries.
	frozen := func() time.Time { return now }

	refused := packQuery(t, query("example.com.", dns.TypeIXFR))
	m := query("example.com.", dns.TypeIXFR)
	m.SetTsig(testKey, dns.HmacSHA256, 300, time.Now().Unix())
	badSig, _, err := dns.TsigGenerate(m, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "", false)
	if err != nil {
		t.Fatal(err)
	}
	const flood = 100
	// answerDatagram may change the query in place (verifying a TSIG
	// strips it), as a reader's buffer may be: each gets a fresh copy.
	ask := func(b []byte) []byte {
		return s.answerDatagram(s.state.Load(), bytes.Clone(b), "127.0.0.1:0", 1)
	}
	for name, b := range map[string][]byte{"refused": refused, "bad TSIG": badSig} {
		// Both are errors to one prefix, so they share a bucket: each
		// kind starts with a fresh one.
		s.answers = answer.New(answer.Config{Log: s.log, Keys: s.keys, Transfers: s.transfers,
			Metrics: s.metrics, Counters: &s.counters, Warn: s.warnThrottled, Now: frozen})
		before := s.RateLimitStats().RRLDropped
		sent := 0
		for range flood {
			if ask(b) != nil {
				sent++
			}
		}
		if dropped := s.RateLimitStats().RRLDropped - before; sent != 1 || dropped != flood-1 {
			t.Errorf("%s: %d of %d replies sent, %d dropped; want 1 sent, the rest dropped", name, sent, flood, dropped)
		}
	}
	for _, msg := range []string{`msg="transfer refused"`, `msg="transfer refused: bad TSIG"`} {
		if n := strings.Count(logs.String(), msg+" "); n != 1 {
			t.Errorf("%d lines of %s in the flood's second, want 1:\n%s", n, msg, logs.String())
		}
	}

	// A second later the next refusal is logged with the count of the rest.
	now = now.Add(time.Second)
	for _, b := range [][]byte{refused, badSig} {
		ask(b)
	}
	if n := strings.Count(logs.String(), "suppressed=99"); n != 2 {
		t.Errorf("want both kinds logged again with suppressed=99, got:\n%s", logs.String())
	}
}
