package ops

import (
	"math"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metricShards spreads the per-query counts over tables of their own, so
// that readers on different cores seldom add to one cache line: every
// query counts the same few series (A, NOERROR, udp), and one shared
// atomic would be passed from core to core on each. A query's shard is
// picked from the low, ever-changing bits of its duration: no call site
// needs to know its reader, and a coarse clock only costs spread.
const (
	metricShardBits = 3
	metricShards    = 1 << metricShardBits
)

func shardOf(d time.Duration) int {
	return int(uint64(d) * 0x9E3779B97F4A7C15 >> (64 - metricShardBits))
}

// latencyBounds are the upper bounds of mxdns_response_duration_seconds.
var latencyBounds = [...]float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .05}

// latencyBoundsNanos are latencyBounds in whole nanoseconds, for
// comparing durations without floating point.
var latencyBoundsNanos = func() (b [len(latencyBounds)]int64) {
	for i, s := range latencyBounds {
		b[i] = int64(math.Round(s * 1e9))
	}
	return b
}()

// latencies is the response time histogram of each transport, observed
// with two atomic adds and no lock, and made into
// mxdns_response_duration_seconds when scraped.
type latencies struct {
	desc   *prometheus.Desc
	shards [2][metricShards]latencyShard // [udp]
}

type latencyShard struct {
	buckets [len(latencyBounds) + 1]atomic.Uint64 // the last: above every bound
	nanos   atomic.Int64                          // the sum
	_       [48]byte                              // to a cache line's multiple
}

func newLatencies() *latencies {
	return &latencies{desc: prometheus.NewDesc("mxdns_response_duration_seconds",
		"Time from receiving a query to handing its reply to the socket.", []string{"transport"}, nil)}
}

func (l *latencies) observe(udp bool, d time.Duration) {
	t := 0
	if udp {
		t = 1
	}
	d = max(d, 0)
	i := 0
	for i < len(latencyBoundsNanos) && int64(d) > latencyBoundsNanos[i] {
		i++
	}
	sh := &l.shards[t][shardOf(d)]
	sh.buckets[i].Add(1)
	sh.nanos.Add(int64(d))
}

func (l *latencies) Describe(ch chan<- *prometheus.Desc) { ch <- l.desc }

// Collect sums the shards of each transport that has observed anything.
func (l *latencies) Collect(ch chan<- prometheus.Metric) {
	for t := range l.shards {
		var counts [len(latencyBounds) + 1]uint64
		var nanos int64
		for s := range l.shards[t] {
			sh := &l.shards[t][s]
			for i := range sh.buckets {
				counts[i] += sh.buckets[i].Load()
			}
			nanos += sh.nanos.Load()
		}
		cumulative, n := make(map[float64]uint64, len(latencyBounds)), uint64(0)
		for i, b := range latencyBounds {
			n += counts[i]
			cumulative[b] = n
		}
		n += counts[len(latencyBounds)]
		if n == 0 {
			continue
		}
		ch <- prometheus.MustNewConstHistogram(l.desc, n, time.Duration(nanos).Seconds(), cumulative, transport(t == 1))
	}
}
