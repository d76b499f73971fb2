package dnssec

import (
	"testing"
	"time"

	"github.com/miekg/dns"
)

var testTiming = Timing{Propagation: time.Hour, DNSKEYTTL: 2 * time.Hour, MaxTTL: 3 * time.Hour, DSTTL: 24 * time.Hour}

// rollover drives Advance through a zone's life at the times asked.
type rollover struct {
	t    *testing.T
	p    Policy
	keys []*Key
	next time.Time
	view *ZoneKeys
}

func (r *rollover) at(now time.Time) {
	r.t.Helper()
	keys, _, next, err := Advance("example.com.", r.keys, r.p, testTiming, now)
	if err != nil {
		r.t.Fatal(err)
	}
	r.keys, r.next = keys, next
	r.view = NewZoneKeys("example.com.", keys, next)
}

func tags(keys []*Key) []uint16 {
	var out []uint16
	for _, k := range keys {
		out = append(out, k.Tag())
	}
	return out
}

// expect checks the DNSKEY set, the keys that sign data and the DNSKEY
// set, and the CDS, by the index of the key in the order made.
func (r *rollover) expect(step string, published, data, keySet []int, cds int) {
	r.t.Helper()
	want := func(idx []int) []uint16 {
		var out []uint16
		for _, i := range idx {
			out = append(out, r.keys[i].Tag())
		}
		return out
	}
	eq := func(a, b []uint16) bool {
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
	if got := tags(r.view.Keys); !eq(got, want(published)) {
		r.t.Errorf("%s: DNSKEY set %v, want %v", step, got, want(published))
	}
	if got := tags(r.view.SigningKeys(dns.TypeA)); !eq(got, want(data)) {
		r.t.Errorf("%s: data signed by %v, want %v", step, got, want(data))
	}
	if got := tags(r.view.SigningKeys(dns.TypeDNSKEY)); !eq(got, want(keySet)) {
		r.t.Errorf("%s: DNSKEY set signed by %v, want %v", step, got, want(keySet))
	}
	if c, _ := r.view.CDS(0); len(c) != cds || cds > 0 && r.view.WaitingForDS != true {
		r.t.Errorf("%s: %d CDS (waiting %v), want %d", step, len(c), r.view.WaitingForDS, cds)
	}
}

func TestCSKRollover(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := &rollover{t: t, p: DefaultPolicy()}
	r.at(t0)
	r.expect("first key", []int{0}, []int{0}, []int{0}, 0)
	if want := t0.Add(90 * 24 * time.Hour); !r.next.Equal(want) {
		t.Fatalf("next %v, want the lifetime's end %v", r.next, want)
	}
	r.at(r.next.Add(-time.Second))
	r.expect("just before its lifetime ends", []int{0}, []int{0}, []int{0}, 0)

	roll := t0.Add(90 * 24 * time.Hour)
	r.at(roll)
	r.expect("successor published", []int{0, 1}, []int{0}, []int{0, 1}, 0)
	if want := roll.Add(testTiming.Propagation + testTiming.DNSKEYTTL); !r.next.Equal(want) {
		t.Fatalf("next %v, want %v (Dprp + DNSKEY TTL)", r.next, want)
	}
	r.at(r.next)
	r.expect("submitted", []int{0, 1}, []int{0}, []int{0, 1}, 1)
	r.at(r.next.Add(30 * 24 * time.Hour))
	r.expect("still waiting for the DS, a month on", []int{0, 1}, []int{0}, []int{0, 1}, 1)

	seen := roll.Add(48 * time.Hour)
	var ok bool
	if r.keys, ok = MarkDSSeen(r.keys, seen); !ok {
		t.Fatal("no key was waiting for its DS")
	}
	r.at(seen)
	r.expect("DS seen: the new key signs", []int{0, 1}, []int{1}, []int{0, 1}, 0)
	if want := seen.Add(testTiming.Propagation + testTiming.DSTTL); !r.next.Equal(want) {
		t.Fatalf("next %v, want %v (Dprp + DS TTL)", r.next, want)
	}
	r.at(r.next)
	r.expect("old key removed", []int{1}, []int{1}, []int{1}, 0)
	if want := seen.Add(90 * 24 * time.Hour); !r.next.Equal(want) {
		t.Errorf("next %v, want the new key's lifetime's end %v", r.next, want)
	}
}

func TestZSKRolloverByPrepublication(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := DefaultPolicy()
	p.Split = true
	r := &rollover{t: t, p: p}
	r.at(t0)
	// keys[0] the KSK, keys[1] the ZSK.
	r.expect("first keys", []int{0, 1}, []int{1}, []int{0}, 0)
	roll := t0.Add(p.ZSKLifetime)
	r.at(roll)
	r.expect("new ZSK published, not yet used", []int{0, 1, 2}, []int{1}, []int{0}, 0)
	active := roll.Add(testTiming.Propagation + testTiming.DNSKEYTTL)
	r.at(active.Add(-time.Second))
	r.expect("a second before every cache has it", []int{0, 1, 2}, []int{1}, []int{0}, 0)
	r.at(active)
	r.expect("new ZSK signs, old still published", []int{0, 1, 2}, []int{2}, []int{0}, 0)
	if want := active.Add(testTiming.Propagation + testTiming.MaxTTL); !r.next.Equal(want) {
		t.Fatalf("next %v, want %v (Dprp + max TTL)", r.next, want)
	}
	r.at(r.next)
	r.expect("old ZSK removed", []int{0, 2}, []int{2}, []int{0}, 0)
}

func TestAdvanceNeverWritesItsInput(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	keys, _, _, _ := Advance("example.com.", nil, DefaultPolicy(), testTiming, t0)
	served := NewZoneKeys("example.com.", keys, time.Time{})
	later, changed, _, _ := Advance("example.com.", keys, DefaultPolicy(), testTiming, t0.Add(91*24*time.Hour))
	if !changed || len(later) != 2 {
		t.Fatalf("no rollover began: %d keys", len(later))
	}
	if len(served.Keys) != 1 || !keys[0].Retired.IsZero() || len(keys) != 1 {
		t.Error("Advance changed the keys a snapshot serves")
	}
	// Another algorithm replaces the keys at once (no algorithm rollover).
	ed := DefaultPolicy()
	ed.Algorithm = dns.ED25519
	moved, _, _, _ := Advance("example.com.", keys, ed, testTiming, t0.Add(time.Hour))
	v := NewZoneKeys("example.com.", moved, time.Time{})
	if len(v.Keys) != 1 || v.Keys[0].DNSKEY.Algorithm != dns.ED25519 {
		t.Errorf("after an algorithm change the DNSKEY set is %v", tags(v.Keys))
	}
}
