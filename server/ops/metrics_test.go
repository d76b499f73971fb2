package ops

import (
	"slices"
	"testing"
	"time"
)

// TestReloadDuration: each reload observed lands in the histogram, in
// the bucket its duration falls in.
func TestReloadDuration(t *testing.T) {
	m := NewMetrics()
	m.ReloadDuration(30 * time.Millisecond)
	m.ReloadDuration(3 * time.Second)
	families, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "mxdns_reload_duration_seconds" {
			continue
		}
		h := f.GetMetric()[0].GetHistogram()
		if h.GetSampleCount() != 2 || h.GetSampleSum() != 3.03 {
			t.Errorf("count %d, sum %v; want 2, 3.03", h.GetSampleCount(), h.GetSampleSum())
		}
		for _, b := range h.GetBucket() {
			want := uint64(0)
			switch {
			case b.GetUpperBound() >= 5:
				want = 2
			case b.GetUpperBound() >= .05:
				want = 1
			}
			if b.GetCumulativeCount() != want {
				t.Errorf("bucket le=%v: %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), want)
			}
		}
		return
	}
	t.Fatal("no mxdns_reload_duration_seconds on /metrics")
}

// TestFamiliesNameEmptyOnes: families with no sample yet, which a scrape
// leaves out, are named all the same, and so are those added later.
func TestFamiliesNameEmptyOnes(t *testing.T) {
	m := NewMetrics()
	m.UpdatedFunc(func() map[string][]UpdatedRecord { return nil })
	got := m.Families()
	for _, want := range []string{"mxdns_queries_total", "mxdns_link_up", "mxdns_transfers_total",
		"mxdns_reload_duration_seconds", "mxdns_updated_records", "mxdns_updated_record_oldest_age_seconds", "go_goroutines"} {
		if !slices.Contains(got, want) {
			t.Errorf("families lack %s: %v", want, got)
		}
	}
	if slices.Contains(got, "mxdns_dnssec_waiting_for_ds") {
		t.Error("families name mxdns_dnssec_waiting_for_ds, never registered")
	}
}
