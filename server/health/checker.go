package health

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/mxdns/mxdns/zone"
)

// checker runs the health check of one link in its own goroutine. Only
// the goroutine touches the rise/fall counters; results reach the
// Monitor through record, which drops them once the checker has been
// replaced.
type checker struct {
	id         uint64
	link       string
	spec       zone.Check
	cancel     context.CancelFunc
	minTimeout time.Duration
	probe      func(ctx context.Context) (ok bool, result string)
}

// run probes every interval, shortened by up to a tenth at random so
// that checks of many links spread out, never lengthened: a failure is
// then seen within interval × fall (plus the probe's own timeout). The
// first probe comes within a second (or an interval, if shorter), so a
// link already down at start is known soon.
func (c *checker) run(ctx context.Context, up bool, record func(*checker, Result, bool, bool)) {
	var okRun, failRun int
	timer := time.NewTimer(rand.N(min(c.spec.Interval, time.Second)))
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		start := time.Now()
		timer.Reset(c.spec.Interval - rand.N(c.spec.Interval/10+1))
		pctx, cancel := context.WithTimeout(ctx, max(c.spec.Timeout, c.minTimeout))
		ok, result := c.probe(pctx)
		cancel()
		if ctx.Err() != nil {
			return // stopped mid-probe: the result says nothing about the link
		}
		res := Result{OK: ok, Result: result, Time: start, Latency: time.Since(start)}
		if ok {
			okRun, failRun = okRun+1, 0
		} else {
			okRun, failRun = 0, failRun+1
		}
		flip := !up && okRun >= c.spec.Rise || up && failRun >= c.spec.Fall
		if flip {
			up = !up
		}
		record(c, res, up, flip)
	}
}

// Checker identifies a running checker: a changed check gets a new ID.
type Checker struct {
	ID   uint64
	Link string
	Spec zone.Check
}

// Checker returns the running checker of link, if any.
func (m *Monitor) Checker(link string) (Checker, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.checkers[link]
	if c == nil {
		return Checker{}, false
	}
	return Checker{ID: c.id, Link: c.link, Spec: c.spec}, true
}

// Running counts the running checkers.
func (m *Monitor) Running() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.checkers)
}

// Current reports whether c is still the running checker of its link.
func (m *Monitor) Current(c Checker) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur := m.checkers[c.Link]
	return cur != nil && cur.id == c.ID
}
