package health

import (
	"context"
	"math/rand/v2"
	"net/netip"
	"slices"
	"time"

	"github.com/mxdns/mxdns/zone"
)

// linkSpec is what a link's checker is made from: a change of any of it
// restarts the checker.
type linkSpec struct {
	checks  []zone.Check
	require zone.Require
	// src4, src6 and helo are what the link's outbound identity gives
	// the probes: the default source of each family, the EHLO name.
	src4, src6 netip.Addr
	helo       string
}

func specOf(l zone.Link) linkSpec {
	s := linkSpec{checks: l.Checks, require: l.Require, helo: l.Outbound.HELO}
	s.src4, _ = l.Outbound.Source(false)
	s.src6, _ = l.Outbound.Source(true)
	return s
}

func (s linkSpec) equal(t linkSpec) bool {
	return slices.Equal(s.checks, t.checks) && s.require == t.require && s.src4 == t.src4 && s.src6 == t.src6 && s.helo == t.helo
}

// checker runs the checks of one link, each in its own goroutine. Only
// that goroutine touches its rise/fall counters; results reach the
// Monitor through record, which drops them once the checker has been
// replaced.
type checker struct {
	id         uint64
	link       string
	spec       linkSpec
	cancel     context.CancelFunc
	minTimeout time.Duration
	probes     []probe
}

// probe is one check: its settings and the function that runs it once.
type probe struct {
	index int
	spec  zone.Check
	run   func(ctx context.Context) outcome
	// wake, when not nil, asks for a probe before the interval is up
	// (a watched file changed).
	wake <-chan struct{}
}

// outcome is what one probe found.
type outcome struct {
	ok     bool
	result string
	// certExpiry is when the certificate an SMTP check was shown
	// expires; zero for other checks.
	certExpiry time.Time
}

// run probes every interval, shortened by up to a tenth at random so
// that checks of many links spread out, never lengthened: a failure is
// then seen within interval × fall (plus the probe's own timeout). The
// first probe comes within a second (or an interval, if shorter), so a
// link already down at start is known soon.
func (c *checker) run(ctx context.Context, p probe, up bool, record func(*checker, Result, bool)) {
	var okRun, failRun int
	timer := time.NewTimer(rand.N(min(p.spec.Interval, time.Second)))
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-p.wake:
		}
		start := time.Now()
		// Since Go 1.23 Reset leaves no stale tick behind, even after a wake.
		timer.Reset(p.spec.Interval - rand.N(p.spec.Interval/10+1))
		pctx, cancel := context.WithTimeout(ctx, max(p.spec.Timeout, c.minTimeout))
		out := p.run(pctx)
		cancel()
		if ctx.Err() != nil {
			return // stopped mid-probe: the result says nothing about the link
		}
		res := Result{Check: p.index, OK: out.ok, Result: out.result, Time: start, Latency: time.Since(start), CertExpiry: out.certExpiry}
		if out.ok {
			okRun, failRun = okRun+1, 0
		} else {
			okRun, failRun = 0, failRun+1
		}
		if !up && okRun >= p.spec.Rise || up && failRun >= p.spec.Fall {
			up = !up
		}
		record(c, res, up)
	}
}

// Checker identifies a running checker: a changed check gets a new ID.
type Checker struct {
	ID   uint64
	Link string
}

// Checker returns the running checker of link, if any.
func (m *Monitor) Checker(link string) (Checker, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.checkers[link]
	if c == nil {
		return Checker{}, false
	}
	return Checker{ID: c.id, Link: c.link}, true
}

// Checks returns the checks the running checker of link runs.
func (m *Monitor) Checks(link string) []zone.Check {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c := m.checkers[link]; c != nil {
		return c.spec.checks
	}
	return nil
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
