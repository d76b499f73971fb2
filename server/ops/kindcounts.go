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

// AnswerKind is one of those kinds, as the answer path counts it: an
// index into the counts, so that a query costs no lookup by name.
type AnswerKind uint8

const (
	KindAnswer AnswerKind = iota
	KindNoData
	KindNXDomain
	KindReferral
	KindRefused
	KindError // anything else, and any value past it
)

// String is the kind's label in mxdns_answers_total.
func (k AnswerKind) String() string { return kindLabels[min(int(k), int(KindError))] }

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

func (c *kindCounts) add(kind AnswerKind, udp bool, shard int) {
	u := 0
	if udp {
		u = 1
	}
	c.n[shard][u][min(kind, KindError)].Add(1)
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
