package ops

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Update counts one RFC 2136 update by its result.
func (m *Metrics) Update(result string) {
	if m != nil {
		m.updates.WithLabelValues(result).Inc()
	}
}

// updatedZones is a collector of the gauges of updated records, read
// from the records kept when /metrics is scraped.
type updatedZones struct {
	list          func() map[string][]UpdatedRecord
	records, aged *prometheus.Desc
}

// UpdatedFunc adds the gauges of the records updates added, per zone,
// read from list at each scrape.
func (m *Metrics) UpdatedFunc(list func() map[string][]UpdatedRecord) {
	m.register(&updatedZones{
		list: list,
		records: prometheus.NewDesc("mxdns_updated_records",
			"Records RFC 2136 updates added and that are served, per zone.", []string{"zone"}, nil),
		aged: prometheus.NewDesc("mxdns_updated_record_oldest_age_seconds",
			"Age of the oldest record an update added, per zone with any: one that grows toward updates.expire is a challenge its client never deleted.", []string{"zone"}, nil),
	})
}

func (c *updatedZones) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.records
	ch <- c.aged
}

func (c *updatedZones) Collect(ch chan<- prometheus.Metric) {
	for zone, recs := range c.list() {
		ch <- prometheus.MustNewConstMetric(c.records, prometheus.GaugeValue, float64(len(recs)), zone)
		oldest := 0.0
		for _, r := range recs {
			oldest = max(oldest, r.AgeSeconds)
		}
		if len(recs) > 0 {
			ch <- prometheus.MustNewConstMetric(c.aged, prometheus.GaugeValue, oldest, zone)
		}
	}
}
