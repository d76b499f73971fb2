package answer

import (
	"bytes"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/zone"
)

// TestTSIGLeavesTheQueryAlone guards the reader's buffer: miekg/dns
// verifies TSIG in place (ARCOUNT lowered, the original id written over
// the id), which once made a second answer to the same bytes a FORMERR
// with the wrong id. Each signed query must leave its bytes as they came
// and get the same reply every time.
func TestTSIGLeavesTheQueryAlone(t *testing.T) {
	config := "rrl: off\ntsig_keys:\n  xfr-key: {algorithm: hmac-sha256, secret: \"" + testSecret + "\"}\n" + testConfig
	snap, diags := zone.FromYAML("t.yaml", []byte(config), nil)
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	s := testServer(t, snap)
	sign := func(key, secret string, origID uint16) []byte {
		m := query("example.com.", dns.TypeSOA)
		m.Id = 0x3030
		m.SetTsig(key, dns.HmacSHA256, 300, time.Now().Unix())
		b, _, err := dns.TsigGenerate(m, secret, "", false)
		if err != nil {
			t.Fatal(err)
		}
		if origID != m.Id { // a MAC made for another id
			b[0], b[1] = byte(origID>>8), byte(origID)
		}
		return b
	}
	cases := map[string][]byte{
		"good key":        sign(testKey, testSecret, 0x3030),
		"unknown key":     sign("other-key.", testSecret, 0x3030),
		"wrong secret":    sign(testKey, "d3Jvbmctc2VjcmV0", 0x3030),
		"id not original": sign(testKey, testSecret, 0x0101),
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			sent := bytes.Clone(b)
			var q wireQuery
			first := s.answerDatagram(s.state.Load(), b, "t", new(arrival), 1, fuzzPeer{}, &q, nil)
			if !bytes.Equal(b, sent) {
				t.Fatalf("answering changed the query:\nsent: %x\nnow:  %x", sent, b)
			}
			second := s.answerDatagram(s.state.Load(), b, "t", new(arrival), 1, fuzzPeer{}, &q, nil)
			r1, r2 := new(dns.Msg), new(dns.Msg)
			if err := r1.Unpack(first); err != nil {
				t.Fatalf("first reply: %v", err)
			}
			if err := r2.Unpack(second); err != nil {
				t.Fatalf("second reply: %v", err)
			}
			if r1.Id != r2.Id || r1.Rcode != r2.Rcode || len(r1.Answer) != len(r2.Answer) {
				t.Fatalf("the same query answered twice differently:\n%v\n%v", r1, r2)
			}
		})
	}
}
