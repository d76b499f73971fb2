package answer

import (
	"testing"
	"time"

	"github.com/mxdns/mxdns/zone"
)

func TestLimiterBucket(t *testing.T) {
	l := newLimiter()
	now := time.Unix(1000, 0)
	l.now = func() time.Time { return now }
	cfg := zone.RRL{ResponsesPerSecond: 10, Slip: 2, Window: 3 * time.Second}
	var got []rrlAction
	for range 16 {
		got = append(got, l.decide(42, cfg))
	}
	want := []rrlAction{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, rrlDrop, rrlSlip, rrlDrop, rrlSlip, rrlDrop, rrlSlip}
	if !slicesEqual(got, want) {
		t.Fatalf("first second: got %v, want %v", got, want)
	}
	if a := l.decide(43, cfg); a != rrlSend {
		t.Fatalf("another key is limited: %v", a)
	}
	// Keep flooding for long: the debt is capped at window*rate, so after
	// the flood stops, window seconds of quiet restore service.
	for range 1000 {
		l.decide(42, cfg)
	}
	now = now.Add(3 * time.Second)
	if a := l.decide(42, cfg); a == rrlSend {
		t.Fatalf("answered right after a flood at its cap: window not honoured")
	}
	now = now.Add(time.Second + time.Millisecond)
	if a := l.decide(42, cfg); a != rrlSend {
		t.Fatalf("still limited after window+1s of quiet: %v", a)
	}
}

func slicesEqual[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
