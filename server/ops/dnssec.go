package ops

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// ZoneDNSSEC is what /status and the metrics show of a signed zone.
type ZoneDNSSEC struct {
	Keys []KeyStatus `json:"keys"`
	// SignatureExpiry is the earliest expiration of a signature served
	// in the last hour; zero when none was served.
	SignatureExpiry time.Time `json:"signature_expiry,omitzero"`
	// NextKeyEvent is when the keys move next (zero: none scheduled);
	// WaitingForDS says a new key waits for the parent's DS.
	NextKeyEvent time.Time `json:"next_key_event,omitzero"`
	WaitingForDS bool      `json:"waiting_for_ds,omitempty"`
}

// KeyStatus is one key in the DNSKEY set.
type KeyStatus struct {
	Tag       uint16 `json:"tag"`
	Role      string `json:"role"`
	Algorithm string `json:"algorithm"`
	Signs     string `json:"signs"` // "data", "keys", "data and keys" or "nothing yet"
}

// signedZones is a collector of the DNSSEC gauges, read from the state
// served when /metrics is scraped.
type signedZones struct {
	list                     func() map[string]ZoneDNSSEC
	expiry, nextEvent, waits *prometheus.Desc
}

// DNSSECFunc adds the gauges of signed zones, read from list at each
// scrape.
func (m *Metrics) DNSSECFunc(list func() map[string]ZoneDNSSEC) {
	m.register(&signedZones{
		list: list,
		expiry: prometheus.NewDesc("mxdns_dnssec_signature_expiry_timestamp_seconds",
			"Earliest expiration of a signature served in the last hour, per signed zone.", []string{"zone"}, nil),
		nextEvent: prometheus.NewDesc("mxdns_dnssec_next_key_event_timestamp_seconds",
			"When the zone's keys move next (a rollover step); 0 when none is scheduled.", []string{"zone"}, nil),
		waits: prometheus.NewDesc("mxdns_dnssec_waiting_for_ds",
			"1 while a new key waits for the parent to publish its DS.", []string{"zone"}, nil),
	})
}

func (c *signedZones) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.expiry
	ch <- c.nextEvent
	ch <- c.waits
}

func (c *signedZones) Collect(ch chan<- prometheus.Metric) {
	for zone, z := range c.list() {
		if !z.SignatureExpiry.IsZero() {
			ch <- prometheus.MustNewConstMetric(c.expiry, prometheus.GaugeValue, float64(z.SignatureExpiry.Unix()), zone)
		}
		next := 0.0
		if !z.NextKeyEvent.IsZero() {
			next = float64(z.NextKeyEvent.Unix())
		}
		ch <- prometheus.MustNewConstMetric(c.nextEvent, prometheus.GaugeValue, next, zone)
		waits := 0.0
		if z.WaitingForDS {
			waits = 1
		}
		ch <- prometheus.MustNewConstMetric(c.waits, prometheus.GaugeValue, waits, zone)
	}
}
