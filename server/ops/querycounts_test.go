package ops

import (
	"math"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
)

// TestQueryCountsLabelEveryCodeAsBefore counts every query type and
// response code there is and checks what /metrics makes of them: the
// labels the CounterVec gave them (typeName, dns.RcodeToString), each
// label set once (a registry refuses duplicates), every query counted.
func TestQueryCountsLabelEveryCodeAsBefore(t *testing.T) {
	m := NewMetrics()
	for qt := range 1 << 16 {
		m.Query(uint16(qt), dns.RcodeSuccess, KindAnswer, true, "types", time.Microsecond)
	}
	for rc := range 1 << 12 {
		m.Query(dns.TypeA, uint16(rc), KindAnswer, false, "rcodes", time.Microsecond)
	}
	families, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{}
	for qt := range 1 << 16 {
		want["types/udp/"+typeName(uint16(qt))+"/NOERROR"]++
	}
	for rc := range 1 << 12 {
		want["rcodes/tcp/A/"+dns.RcodeToString[rc]]++
	}
	got := map[string]float64{}
	for _, f := range families {
		if f.GetName() != "mxdns_queries_total" {
			continue
		}
		for _, s := range f.GetMetric() {
			l := map[string]string{}
			for _, p := range s.GetLabel() {
				l[p.GetName()] = p.GetValue()
			}
			got[l["link"]+"/"+l["transport"]+"/"+l["qtype"]+"/"+l["rcode"]] += s.GetCounter().GetValue()
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d series, want %d", len(got), len(want))
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %v, want %v", k, got[k], v)
		}
	}
}

// TestLatenciesAreThePrometheusHistogram observes the same durations,
// bounds and their neighbours included, in ours and in a
// prometheus.Histogram with the same buckets: the series must agree.
func TestLatenciesAreThePrometheusHistogram(t *testing.T) {
	ours := newLatencies()
	ref := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "ref", Buckets: latencyBounds[:]})
	var ds []time.Duration
	for _, b := range latencyBoundsNanos {
		ds = append(ds, time.Duration(b-1), time.Duration(b), time.Duration(b+1))
	}
	ds = append(ds, 0, time.Second, 3*time.Microsecond)
	for _, d := range ds {
		ours.observe(false, d)
		ref.Observe(d.Seconds())
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(ours, ref)
	families, err := reg.Gather()
	if err != nil || len(families) != 2 {
		t.Fatalf("%d families, %v", len(families), err)
	}
	// Sorted by name: mxdns_response_duration_seconds, then ref.
	got, want := families[0].GetMetric()[0].GetHistogram(), families[1].GetMetric()[0].GetHistogram()
	if got.GetSampleCount() != want.GetSampleCount() || math.Abs(got.GetSampleSum()-want.GetSampleSum()) > 1e-9 {
		t.Errorf("count %d sum %v, want %d %v", got.GetSampleCount(), got.GetSampleSum(), want.GetSampleCount(), want.GetSampleSum())
	}
	if len(got.GetBucket()) != len(want.GetBucket()) {
		t.Fatalf("%d buckets, want %d", len(got.GetBucket()), len(want.GetBucket()))
	}
	for i, b := range want.GetBucket() {
		if g := got.GetBucket()[i]; g.GetUpperBound() != b.GetUpperBound() || g.GetCumulativeCount() != b.GetCumulativeCount() {
			t.Errorf("bucket le=%v: %d, want le=%v: %d", g.GetUpperBound(), g.GetCumulativeCount(), b.GetUpperBound(), b.GetCumulativeCount())
		}
	}
}
