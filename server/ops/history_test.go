package ops

import (
	"testing"
	"time"
)

// TestHistoryStrip: a minute shows the worst state it saw, a minute with
// no change the state carried into it, and minutes before the first
// record nothing.
func TestHistoryStrip(t *testing.T) {
	h := NewHistory(nil)
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	at := func(min, sec int) time.Time {
		return t0.Add(time.Duration(min)*time.Minute + time.Duration(sec)*time.Second)
	}
	h.LinkState("wan1", true, false, at(0, 5))
	h.LinkState("wan1", true, false, at(3, 0)) // no change
	h.LinkState("wan1", false, false, at(10, 30))
	h.LinkState("wan1", true, false, at(10, 50))
	h.LinkState("wan1", true, true, at(20, 0))
	states, _ := h.strip("wan1", at(30, 10))
	want := [stripMinutes]uint8{}
	for i := range stripMinutes {
		switch min := i - (stripMinutes - 1 - 30); {
		case min < 0:
			want[i] = stateNone
		case min == 10:
			want[i] = stateDown
		case min >= 20:
			want[i] = stateForced
		default:
			want[i] = stateUp
		}
	}
	if states != want {
		t.Errorf("strip:\n got %v\nwant %v", states, want)
	}

	// An hour later the early minutes have left the strip, and their
	// buckets, reused, do not leak into it.
	h.LinkState("wan1", false, false, at(75, 0))
	states, _ = h.strip("wan1", at(80, 0))
	for i, s := range states {
		min := 80 - (stripMinutes - 1 - i)
		want := stateForced
		if min >= 75 {
			want = stateDown
		}
		if s != want {
			t.Errorf("minute %d: %d, want %d", min, s, want)
		}
	}
	if s, _ := h.strip("nope", at(80, 0)); s != [stripMinutes]uint8{} {
		t.Errorf("a link never recorded has states %v", s)
	}
}

// TestHistoryRings: the probes and reloads kept are the last ones, newest
// first, and no more than the rings hold.
func TestHistoryRings(t *testing.T) {
	h := NewHistory(nil)
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	for i := range 50 {
		h.LinkCheck("wan1", CheckEvent{Time: t0.Add(time.Duration(i) * time.Second), Latency: time.Duration(i) * time.Millisecond})
		h.Reload(ReloadEvent{Time: t0.Add(time.Duration(i) * time.Second), Outcome: "ok"})
	}
	_, checks := h.strip("wan1", t0)
	if len(checks) != checkRing || checks[0].Latency != 49*time.Millisecond || checks[checkRing-1].Latency != time.Duration(50-checkRing)*time.Millisecond {
		t.Errorf("probes kept: %+v", checks)
	}
	r := h.lastReloads()
	if len(r) != reloadRing || !r[0].Time.Equal(t0.Add(49*time.Second)) || !r[reloadRing-1].Time.Equal(t0.Add(time.Duration(50-reloadRing)*time.Second)) {
		t.Errorf("reloads kept: %d, first %v", len(r), r[0].Time)
	}
	h.ForgetLink("wan1")
	if _, checks := h.strip("wan1", t0); checks != nil {
		t.Error("a forgotten link kept its probes")
	}
	var nilH *History // records nothing, and shows nothing
	nilH.LinkState("x", true, false, t0)
	nilH.Reload(ReloadEvent{})
	nilH.Sample(t0)
	if nilH.lastReloads() != nil || nilH.queryRates() != nil {
		t.Error("a nil history shows something")
	}
}

// TestQueryRates: the rates are the differences of the totals sampled
// from the lock-free counts, by answer kind, over every link.
func TestQueryRates(t *testing.T) {
	m := NewMetrics()
	h := NewHistory(m)
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	h.Sample(t0)
	for i := range 100 {
		m.Query(1, 0, KindAnswer, true, "wan1", time.Duration(i))
	}
	for i := range 30 {
		m.Query(1, 3, KindNXDomain, false, "", time.Duration(i))
	}
	m.Query(1, 0, KindNoData, true, "wan2", 0)
	m.Query(1, 5, KindRefused, true, "wan2", 0)
	m.Query(1, 23, AnswerKind(99), true, "wan2", 0) // an error
	h.Sample(t0.Add(10 * time.Second))
	rates := h.queryRates()
	if len(rates) != 1 {
		t.Fatalf("%d intervals, want 1", len(rates))
	}
	want := [len(rateKinds)]float64{10, .1, 3, 0, .1, .1} // answer, nodata, nxdomain, referral, refused, error
	if rates[0].PerKind != want || rates[0].Total < 13.29 || rates[0].Total > 13.31 {
		t.Errorf("rates %v total %v, want %v", rates[0].PerKind, rates[0].Total, want)
	}
	for i := range rateSamples + 10 {
		h.Sample(t0.Add(time.Duration(20+10*i) * time.Second))
	}
	if n := len(h.queryRates()); n != rateSamples {
		t.Errorf("%d intervals kept, want %d", n, rateSamples)
	}
}
