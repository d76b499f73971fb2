package ops

import "time"

// The query rates of the status page: every rateEvery the totals of the
// lock-free counts by answer kind (kindcounts.go) are summed and kept, rateSamples of them; a rate is the difference of two. Queries
// never see any of this.
const (
	rateEvery   = 10 * time.Second
	rateSamples = 90 // 15 minutes
)

// rateKinds are the answer kinds the page shows.
var rateKinds = kindLabels

type rateSample struct {
	t time.Time
	n [len(rateKinds)]uint64
}

// rateRing holds the last rateSamples+1 samples: rateSamples intervals.
type rateRing struct {
	samples [rateSamples + 1]rateSample
	n       int // samples taken, ever
}

// ratePoint is the rate of each kind over one interval.
type ratePoint struct {
	Start, End time.Time
	PerKind    [len(rateKinds)]float64 // queries per second
	Total      float64
}

// Sample takes the query totals at now. Run calls it every rateEvery.
func (h *History) Sample(now time.Time) {
	if h == nil || h.counts == nil {
		return
	}
	s := rateSample{t: now, n: h.counts.totals()} // outside the lock
	h.mu.Lock()
	defer h.mu.Unlock()
	h.rates.samples[h.rates.n%len(h.rates.samples)] = s
	h.rates.n++
}

// Run samples the query totals every rateEvery until stop is closed.
func (h *History) Run(stop <-chan struct{}) {
	if h == nil {
		return
	}
	h.Sample(time.Now())
	t := time.NewTicker(rateEvery)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			h.Sample(now)
		}
	}
}

// queryRates is the rate of each interval kept, oldest first.
func (h *History) queryRates() []ratePoint {
	if h == nil {
		return nil
	}
	h.mu.Lock()
	r := h.rates
	h.mu.Unlock()
	kept := min(r.n, len(r.samples))
	out := make([]ratePoint, 0, max(kept-1, 0))
	for i := r.n - kept + 1; i < r.n; i++ {
		a, b := r.samples[(i-1)%len(r.samples)], r.samples[i%len(r.samples)]
		secs := b.t.Sub(a.t).Seconds()
		if secs <= 0 {
			continue
		}
		p := ratePoint{Start: a.t, End: b.t}
		for k := range rateKinds {
			p.PerKind[k] = float64(b.n[k]-a.n[k]) / secs // the counts never go down
			p.Total += p.PerKind[k]
		}
		out = append(out, p)
	}
	return out
}
