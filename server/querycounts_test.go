package server

import (
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestQueryCountsLabelEveryCodeAsBefore counts every query type and
// response code there is and checks what /metrics makes of them: the
// labels the CounterVec gave them (typeName, dns.RcodeToString), each
// label set once (a registry refuses duplicates), every query counted.
func TestQueryCountsLabelEveryCodeAsBefore(t *testing.T) {
	m := newMetrics()
	for qt := range 1 << 16 {
		m.query(uint16(qt), dns.RcodeSuccess, true, "types", time.Microsecond)
	}
	for rc := range 1 << 12 {
		m.query(dns.TypeA, uint16(rc), false, "rcodes", time.Microsecond)
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
