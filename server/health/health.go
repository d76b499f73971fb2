// Package health checks the links: each check of a link probes its
// target in its own goroutine and turns the results into an up or down
// verdict (rise and fall); the link's verdict is that of all its checks
// or of any (require). Every result is reported through a callback. It
// knows nothing of the server that serves the verdicts; Up turns them
// into the set of links that answers use.
package health

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/mxdns/mxdns/zone"
)

// Result is one probe's outcome.
type Result struct {
	Check   int    // the check's index in its link's list
	OK      bool   //
	Result  string // "tcp 127.0.0.1:2525: connection refused", "http 200", ...
	Time    time.Time
	Latency time.Duration
	// CertExpiry is when the certificate an SMTP check with STARTTLS was
	// shown expires; zero for other checks and failed handshakes.
	CertExpiry time.Time
}

// Report is called after every probe of a current checker, without the
// Monitor's lock held (it may call the Monitor, and Current tells it
// whether c was replaced meanwhile). up is the link's verdict after the
// probe, and flip says it changed.
type Report func(c Checker, res Result, up, flip bool)

// Config is what a Monitor is given.
type Config struct {
	// Report receives every probe result; nil drops them.
	Report Report
	// MinTimeout is the least time a probe is given: 0 in service, where
	// the configured timeout rules; tests that need checks of a healthy
	// target to succeed raise it, since on a busy machine a 100 ms probe
	// can take seconds.
	MinTimeout time.Duration
}

// Monitor runs the checkers of a set of links and keeps their verdicts
// by link name, so that they survive a reload that reorders links.
type Monitor struct {
	cfg Config

	mu       sync.Mutex
	checkers map[string]*checker
	verdict  map[string]bool   // by link name
	why      map[string]string // by link name: the probe result behind the verdict
	checkUp  map[string][]bool // by link name: each check's own verdict
	last     map[string][]Result
	nextID   uint64
	closed   bool
	wg       sync.WaitGroup // every checker goroutine ever started
}

// New returns a Monitor running no checks.
func New(cfg Config) *Monitor {
	return &Monitor{cfg: cfg,
		checkers: make(map[string]*checker),
		verdict:  make(map[string]bool),
		why:      make(map[string]string),
		checkUp:  make(map[string][]bool),
		last:     make(map[string][]Result),
	}
}

// Sync makes the running checkers match links: a link whose checks are
// unchanged keeps its goroutines and counters; a changed one is stopped
// and started afresh from the verdict it had; a removed one is stopped
// and forgotten, and returned so that the caller can forget it too.
// Manual states need no checker change: the checks keep running under a
// manual override so that "auto" has a fresh verdict at once.
func (m *Monitor) Sync(links []zone.Link) (removed []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	want := make(map[string]linkSpec)
	for _, l := range links {
		if len(l.Checks) > 0 {
			want[l.Name] = specOf(l)
		}
	}
	for name, c := range m.checkers {
		if spec, ok := want[name]; !ok || !spec.equal(c.spec) {
			c.cancel()
			delete(m.checkers, name)
			if !ok {
				delete(m.verdict, name)
				delete(m.why, name)
				delete(m.checkUp, name)
				delete(m.last, name)
				removed = append(removed, name)
			}
		}
	}
	for _, l := range links {
		spec, ok := want[l.Name]
		if !ok || m.checkers[l.Name] != nil {
			continue
		}
		up, seen := m.verdict[l.Name]
		if !seen {
			up = true // unchecked links serve until the check proves otherwise
		}
		m.start(l.Name, spec, up)
	}
	return removed
}

// start starts the goroutines of one link's checks, each from the
// link's verdict. Callers hold mu.
func (m *Monitor) start(link string, spec linkSpec, up bool) {
	ctx, cancel := context.WithCancel(context.Background())
	m.nextID++
	c := &checker{id: m.nextID, link: link, spec: spec, cancel: cancel, minTimeout: m.cfg.MinTimeout}
	m.verdict[link] = up
	m.checkUp[link] = make([]bool, len(spec.checks))
	m.last[link] = make([]Result, len(spec.checks))
	for i, cs := range spec.checks {
		m.checkUp[link][i] = up
		p := newProbe(ctx, i, cs, spec, &m.wg)
		c.probes = append(c.probes, p)
		m.wg.Go(func() { c.run(ctx, p, up, m.record) })
	}
	m.checkers[link] = c
}

// Cancel stops every checker without waiting; their results are dropped
// from then on. Stop waits for them.
func (m *Monitor) Cancel() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	for name, c := range m.checkers {
		c.cancel()
		delete(m.checkers, name)
	}
}

// Stop cancels every checker and waits for their goroutines, or for ctx.
func (m *Monitor) Stop(ctx context.Context) error {
	m.Cancel()
	done := make(chan struct{})
	go func() { m.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("health checks: %w", ctx.Err())
	}
}

// record keeps a probe result and the verdict of its check, works out
// the link's, and passes them on. Results of a checker that was
// replaced or stopped are dropped.
func (m *Monitor) record(c *checker, res Result, checkUp bool) {
	m.mu.Lock()
	if m.closed || m.checkers[c.link] != c {
		m.mu.Unlock()
		return
	}
	m.last[c.link][res.Check] = res
	ups := m.checkUp[c.link]
	ups[res.Check] = checkUp
	up := combine(ups, c.spec.require)
	flip := up != m.verdict[c.link]
	if flip {
		m.verdict[c.link] = up
		m.why[c.link] = res.Result
	} else if _, seen := m.why[c.link]; !seen {
		// The first result explains the verdict the link started with.
		m.why[c.link] = res.Result
	}
	m.mu.Unlock()
	if m.cfg.Report != nil {
		m.cfg.Report(Checker{ID: c.id, Link: c.link}, res, up, flip)
	}
}

// combine is a link's verdict from its checks'.
func combine(ups []bool, require zone.Require) bool {
	for _, up := range ups {
		if up == (require == zone.RequireAny) {
			return up
		}
	}
	return require == zone.RequireAll
}
