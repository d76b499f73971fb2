package ops

import (
	"regexp"
	"slices"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// families remembers the collectors registered, so that Families can
// name every series /metrics may carry: a vector or a collector with no
// sample yet is left out of a scrape, HELP and TYPE lines too.
type families struct {
	mu         sync.Mutex
	collectors []prometheus.Collector
}

// register adds cs to the registry and to the families listed.
func (m *Metrics) register(cs ...prometheus.Collector) {
	m.reg.MustRegister(cs...)
	m.fams.mu.Lock()
	defer m.fams.mu.Unlock()
	m.fams.collectors = append(m.fams.collectors, cs...)
}

// descName reads a Desc's name from its String form, the only way
// client_golang gives it out.
var descName = regexp.MustCompile(`fqName: "([^"]+)"`)

// Families names, sorted, every metric family registered (ours, the Go
// runtime's and the process's), whether or not it has a sample yet: what
// a dashboard or an alert may query. The handler's own
// promhttp_metric_handler_errors_total is not among them.
func (m *Metrics) Families() []string {
	m.fams.mu.Lock()
	cs := slices.Clone(m.fams.collectors)
	m.fams.mu.Unlock()
	ch := make(chan *prometheus.Desc)
	go func() {
		defer close(ch)
		for _, c := range cs {
			c.Describe(ch)
		}
	}()
	var names []string
	for d := range ch {
		if sub := descName.FindStringSubmatch(d.String()); sub != nil {
			names = append(names, sub[1])
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}
