package ops

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// The kinds of answer a query got, as the lookup found them (the kinds
// of zone.Kind, which the answer path names) and an error for the rest
// (FORMERR, SERVFAIL, NOTIMP and the like): what a response code alone
// cannot tell apart, NODATA and referrals both being NOERROR.
var kindLabels = [...]string{"answer", "nodata", "nxdomain", "referral", "refused", "error"}

const kindError = len(kindLabels) - 1

// kindIndex is the slot of a kind the answer path names; anything it
// does not is an error.
func kindIndex(kind string) int {
	switch kind {
	case "answer":
		return 0
	case "nodata":
		return 1
	case "nxdomain":
		return 2
	case "referral":
		return 3
	case "refused":
		return 4
	}
	return kindError
}

// kindCounts counts answers by kind and transport with an atomic add in
// one of metricShards rows, as queryCounts does: mxdns_answers_total.
type kindCounts struct {
	desc *prometheus.Desc
	_    [56]byte // n starts a cache line after desc's
	// n is [shard][udp][kind]; a row of 8 is a cache line, so that two
	// shards never share one (kindCounts is allocated line-aligned).
	n [metricShards][2][8]atomic.Uint64
}

func newKindCounts() *kindCounts {
	return &kindCounts{desc: prometheus.NewDesc("mxdns_answers_total",
		"DNS queries answered, by the kind of answer (answer, nodata, nxdomain, referral, refused, error) and transport.",
		[]string{"kind", "transport"}, nil)}
}

func (c *kindCounts) add(kind string, udp bool, shard int) {
	u := 0
	if udp {
		u = 1
	}
	c.n[shard][u][kindIndex(kind)].Add(1)
}

// totals sums every shard and transport by kind.
func (c *kindCounts) totals() (n [len(kindLabels)]uint64) {
	for s := range c.n {
		for u := range c.n[s] {
			for k := range kindLabels {
				n[k] += c.n[s][u][k].Load()
			}
		}
	}
	return n
}

func (c *kindCounts) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect makes a series of every kind counted at least once.
func (c *kindCounts) Collect(ch chan<- prometheus.Metric) {
	for u := range 2 {
		for k, label := range kindLabels {
			v := uint64(0)
			for s := range c.n {
				v += c.n[s][u][k].Load()
			}
			if v != 0 {
				ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, float64(v), label, transport(u == 1))
			}
		}
	}
}
