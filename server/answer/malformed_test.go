package answer

import (
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestWellFormedQueriesAreNotMalformed keeps malformed to its cases: the
// shapes real clients send pass.
func TestWellFormedQueriesAreNotMalformed(t *testing.T) {
	m := query("example.com.", dns.TypeSOA)
	m.SetEdns0(1232, true)
	m.SetTsig(testKey, dns.HmacSHA256, 300, time.Now().Unix())
	b, _, err := dns.TsigGenerate(m, testSecret, "", false)
	if err != nil {
		t.Fatal(err)
	}
	req := new(dns.Msg)
	if err := req.Unpack(b); err != nil {
		t.Fatal(err)
	}
	if malformed(req, b) {
		t.Errorf("a signed EDNS query is called malformed")
	}
	plain, _ := query("example.com.", dns.TypeA).Pack()
	req = new(dns.Msg)
	req.Unpack(plain)
	if malformed(req, plain) {
		t.Errorf("a plain query is called malformed")
	}
}
