package ops

import (
	"testing"
	"time"

	"github.com/miekg/dns"
)

// BenchmarkQueryMetrics is the per-query cost of the metrics: a counter
// resolved once and an observation.
func BenchmarkQueryMetrics(b *testing.B) {
	m := NewMetrics()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		m.Query(dns.TypeA, dns.RcodeSuccess, KindAnswer, i%2 == 0, "wan1", time.Microsecond)
	}
}

// BenchmarkQueryMetricsParallel is the same from every core at once, as
// the UDP readers count: what a shared lock or cache line costs.
func BenchmarkQueryMetricsParallel(b *testing.B) {
	m := NewMetrics()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for i := 0; pb.Next(); i++ {
			// Durations vary in their low bits, as measured ones do.
			m.Query(dns.TypeA, dns.RcodeSuccess, KindAnswer, i%2 == 0, "wan1", time.Microsecond+time.Duration(i%1024))
		}
	})
}
