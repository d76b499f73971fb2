package ops

import (
	"sync"
	"sync/atomic"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
)

// queryCounts counts answered queries by query type, response code,
// transport and arrival link with an atomic add on the query path and no
// lock: a link's counters are flat tables of atomics, one per shard
// (metricShards), found through a map that is replaced, never written,
// when a link is first seen. The
// Prometheus series are made from the table at scrape time (Collect), as
// mxdns_queries_total with the labels it always had.
type queryCounts struct {
	desc  *prometheus.Desc
	mu    sync.Mutex // serialises replacing links
	links atomic.Pointer[map[string]*linkCounts]
}

// linkCounts is one link's tables, indexed by shard*countCells +
// countIndex: a shard's cells are together, away from other shards'.
type linkCounts struct {
	n []atomic.Uint64
}

var countCells = 2 * len(typeLabels) * len(rcodeLabels)

// The label values a table slot stands for. Types miekg/dns does not
// name share the slot "other", response codes it does not name the slot
// "", as the labels were before; names shared by two numbers (BADSIG and
// BADVERS are both 16) share one slot, so no two slots have one label.
var typeLabels, rcodeLabels, typeSlots, rcodeSlots = countSlots()

const (
	typeSlotsLow  = 512 // types below this are found by index; the rest by map
	rcodeSlotsLow = 32
)

func countSlots() (types, rcodes []string, typeSlot map[uint16]int, rcodeSlot [rcodeSlotsLow]uint8) {
	typeSlot = map[uint16]int{}
	byName := map[string]int{}
	for t := range 1 << 16 {
		name, ok := dns.TypeToString[uint16(t)]
		if !ok {
			continue
		}
		if _, seen := byName[name]; !seen {
			byName[name] = len(types)
			types = append(types, name)
		}
		typeSlot[uint16(t)] = byName[name]
	}
	types = append(types, "other")
	rcodes, byName = []string{""}, map[string]int{"": 0} // slot 0: the codes without a name
	for r := range rcodeSlotsLow {
		name := dns.RcodeToString[r]
		if _, seen := byName[name]; !seen {
			byName[name] = len(rcodes)
			rcodes = append(rcodes, name)
		}
		rcodeSlot[r] = uint8(byName[name])
	}
	return types, rcodes, typeSlot, rcodeSlot
}

// typeSlotLow is typeSlots for the common types, read without a map.
var typeSlotLow = func() (low [typeSlotsLow]uint8) {
	other := uint8(len(typeLabels) - 1)
	for t := range low {
		low[t] = other
		if s, ok := typeSlots[uint16(t)]; ok {
			low[t] = uint8(s)
		}
	}
	return low
}()

func countIndex(qtype, rcode uint16, udp bool) int {
	t := len(typeLabels) - 1
	if qtype < typeSlotsLow {
		t = int(typeSlotLow[qtype])
	} else if s, ok := typeSlots[qtype]; ok {
		t = s
	}
	r := 0 // ""
	if rcode < rcodeSlotsLow {
		r = int(rcodeSlots[rcode])
	}
	i := t*len(rcodeLabels) + r
	if udp {
		i += len(typeLabels) * len(rcodeLabels)
	}
	return i
}

func newQueryCounts() *queryCounts {
	c := &queryCounts{desc: prometheus.NewDesc("mxdns_queries_total",
		"DNS queries answered, by query type, response code, transport and arrival link.",
		[]string{"qtype", "rcode", "transport", "link"}, nil)}
	c.links.Store(&map[string]*linkCounts{})
	return c
}

// add counts one query in shard.
func (c *queryCounts) add(qtype, rcode uint16, udp bool, link string, shard int) {
	lc := (*c.links.Load())[link]
	if lc == nil {
		lc = c.addLink(link)
	}
	lc.n[shard*countCells+countIndex(qtype, rcode, udp)].Add(1)
}

// addLink gives link a table, once: the map is copied with it added.
func (c *queryCounts) addLink(link string) *linkCounts {
	c.mu.Lock()
	defer c.mu.Unlock()
	old := *c.links.Load()
	if lc := old[link]; lc != nil {
		return lc
	}
	lc := &linkCounts{n: make([]atomic.Uint64, metricShards*countCells)}
	next := make(map[string]*linkCounts, len(old)+1)
	for k, v := range old {
		next[k] = v
	}
	next[link] = lc
	c.links.Store(&next)
	return lc
}

// forget drops link's series, for a link no longer configured.
func (c *queryCounts) forget(link string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	old := *c.links.Load()
	if old[link] == nil {
		return
	}
	next := make(map[string]*linkCounts, len(old))
	for k, v := range old {
		if k != link {
			next[k] = v
		}
	}
	c.links.Store(&next)
}

func (c *queryCounts) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect makes a series of every slot counted at least once, summing
// its shards.
func (c *queryCounts) Collect(ch chan<- prometheus.Metric) {
	per := len(typeLabels) * len(rcodeLabels)
	for link, lc := range *c.links.Load() {
		for i := range countCells {
			v := uint64(0)
			for s := range metricShards {
				v += lc.n[s*countCells+i].Load()
			}
			if v == 0 {
				continue
			}
			j := i % per
			ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, float64(v),
				typeLabels[j/len(rcodeLabels)], rcodeLabels[j%len(rcodeLabels)], transport(i >= per), link)
		}
	}
}
