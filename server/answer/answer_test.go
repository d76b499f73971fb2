package answer

import (
	"testing"

	"github.com/miekg/dns"
)

func TestWorthAnswerDropsShortAndResponses(t *testing.T) {
	s := New(Config{})
	q, _ := query("example.com.", dns.TypeA).Pack()
	resp := append([]byte(nil), q...)
	resp[2] |= 0x80
	for _, c := range []struct {
		name string
		b    []byte
		want bool
	}{{"short", []byte{1, 2, 3}, false}, {"response", resp, false}, {"query", q, true}} {
		if got := s.worthAnswer(c.b); got != c.want {
			t.Errorf("%s: worthAnswer %v, want %v", c.name, got, c.want)
		}
	}
	if s.counters.UDPShort.Load() != 1 || s.counters.UDPResponse.Load() != 1 {
		t.Errorf("short %d response %d, want 1 1", s.counters.UDPShort.Load(), s.counters.UDPResponse.Load())
	}
}
