package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/mxdns/mxdns/zone"
)

// checker runs the health check of one link in its own goroutine. Only
// the goroutine touches the rise/fall counters; results reach the server
// through report, which drops them once the checker has been replaced.
type checker struct {
	link   string
	spec   zone.Check
	cancel context.CancelFunc
	probe  func(ctx context.Context) (ok bool, result string)
}

// checkResult is one probe's outcome.
type checkResult struct {
	ok      bool
	result  string // "tcp 127.0.0.1:2525: connection refused", "http 200", ...
	time    time.Time
	latency time.Duration
}

// describeCheck names a check the way logs and the status page show it.
func describeCheck(c zone.Check) string {
	if c.TCP != "" {
		return "tcp " + c.TCP
	}
	return redactURL(c.HTTP) // the URL says it is http; its secrets are not shown
}

// syncCheckers makes the running checkers match links: a link whose check
// is unchanged keeps its goroutine and counters; a changed one is stopped
// and started afresh from the verdict it had; a removed one is stopped and
// forgotten. Manual states need no checker change: the check keeps running
// under a manual override so that "auto" has a fresh verdict at once.
// Callers hold mu.
func (s *Server) syncCheckers(links []zone.Link) {
	want := make(map[string]zone.Check)
	for _, l := range links {
		if l.Check != nil {
			want[l.Name] = *l.Check
		}
	}
	for name, c := range s.checkers {
		if spec, ok := want[name]; !ok || spec != c.spec {
			c.cancel()
			delete(s.checkers, name)
			if !ok {
				delete(s.health, name)
				delete(s.checkWhy, name)
				delete(s.lastCheck, name)
				s.metrics.forgetCheck(name)
			}
		}
	}
	for _, l := range links {
		spec, ok := want[l.Name]
		if !ok || s.checkers[l.Name] != nil {
			continue
		}
		up, seen := s.health[l.Name]
		if !seen {
			up = true // unchecked links serve until the check proves otherwise
		}
		s.startChecker(l.Name, spec, up)
	}
}

// startChecker starts the goroutine of one link's check. Callers hold mu.
func (s *Server) startChecker(link string, spec zone.Check, up bool) {
	ctx, cancel := context.WithCancel(context.Background())
	c := &checker{link: link, spec: spec, cancel: cancel}
	if spec.TCP != "" {
		c.probe = tcpProbe(spec)
	} else {
		c.probe = httpProbe(spec)
	}
	s.checkers[link] = c
	s.checkWG.Go(func() { s.runChecker(ctx, c, up) })
}

// stopCheckers cancels every checker and waits for their goroutines, or
// for ctx. It must be called without mu: a checker may be waiting for it
// to report.
func (s *Server) stopCheckers(ctx context.Context) error {
	s.mu.Lock()
	for name, c := range s.checkers {
		c.cancel()
		delete(s.checkers, name)
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.checkWG.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("health checks: %w", ctx.Err())
	}
}

// probeTimeoutFloor is the least time a checker gives a probe: 0 in
// service, where the configured timeout rules; tests that need checks of
// a healthy target to succeed raise it (health_load_test.go), since on a
// busy machine a 100 ms probe can take seconds.
var probeTimeoutFloor time.Duration

// runChecker probes every interval, shortened by up to a tenth at random
// so that checks of many links spread out, never lengthened: a failure is
// then seen within interval × fall (plus the probe's own timeout). The
// first probe comes within a second (or an interval, if shorter), so a
// link already down at start is known soon.
func (s *Server) runChecker(ctx context.Context, c *checker, up bool) {
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
		pctx, cancel := context.WithTimeout(ctx, max(c.spec.Timeout, probeTimeoutFloor))
		ok, result := c.probe(pctx)
		cancel()
		if ctx.Err() != nil {
			return // stopped mid-probe: the result says nothing about the link
		}
		res := checkResult{ok: ok, result: result, time: start, latency: time.Since(start)}
		if ok {
			okRun, failRun = okRun+1, 0
		} else {
			okRun, failRun = 0, failRun+1
		}
		flip := !up && okRun >= c.spec.Rise || up && failRun >= c.spec.Fall
		if flip {
			up = !up
		}
		s.report(c, res, up, flip)
	}
}

// report records a probe result and, when the verdict flipped, publishes
// the new up set. Results of a checker that was replaced are dropped.
func (s *Server) report(c *checker, res checkResult, up, flip bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.checkers[c.link] != c {
		return
	}
	s.lastCheck[c.link] = res
	s.ObserveLinkCheck(c.link, res.ok, res.latency)
	if s.onCheck != nil {
		s.onCheck(c.link, res.ok)
	}
	if !flip {
		if _, seen := s.checkWhy[c.link]; !seen {
			// The first result explains the verdict the link started with.
			s.checkWhy[c.link] = res.result
		}
		return
	}
	s.health[c.link] = up
	s.checkWhy[c.link] = res.result
	st := s.state.Load()
	if i := st.snap.LinkIndex(c.link); i >= 0 && st.snap.Settings().Links[i].State != zone.LinkAuto {
		// Not a change of the answers, so setUp will not log it.
		s.log.Info("link check changed; the manual state wins", "link", c.link, "check_up", up, "why", res.result)
	}
	s.setUp(st.snap, upLinks(st.snap.Settings().Links, s.health), res.time)
}

// tcpProbe connects and closes at once: the link is up when the target
// accepts a connection through it.
func tcpProbe(spec zone.Check) func(context.Context) (bool, string) {
	var d net.Dialer
	return func(ctx context.Context) (bool, string) {
		conn, err := d.DialContext(ctx, "tcp", spec.TCP)
		if err != nil {
			return false, "tcp " + spec.TCP + ": " + probeError(err, spec.Timeout)
		}
		conn.Close()
		return true, "tcp " + spec.TCP + ": connected"
	}
}

// httpProbe GETs the URL on a fresh connection each time (a kept-alive
// connection would hide a link that stopped accepting new ones); any 2xx
// is up. Redirects are not followed: a 3xx is an answer about the health
// URL, not a healthy link.
func httpProbe(spec zone.Check) func(context.Context) (bool, string) {
	client := &http.Client{
		Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	return func(ctx context.Context) (bool, string) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, spec.HTTP, nil)
		if err != nil {
			return false, fmt.Sprintf("%s: %s", redactURL(spec.HTTP), probeError(err, spec.Timeout))
		}
		req.Header.Set("User-Agent", "mxdns-health-check")
		resp, err := client.Do(req)
		if err != nil {
			return false, fmt.Sprintf("%s: %s", redactURL(spec.HTTP), probeError(err, spec.Timeout))
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		return resp.StatusCode >= 200 && resp.StatusCode < 300, fmt.Sprintf("http %d", resp.StatusCode)
	}
}

// probeError shortens a dial error to what an operator needs:
// "connection refused" rather than "dial tcp 127.0.0.1:2525: connect:
// connection refused", "timeout after 1s" rather than a context error.
func probeError(err error, timeout time.Duration) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // its URL, secrets and all, is shown redacted by the caller
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		return fmt.Sprintf("timeout after %s", timeout)
	}
	var se *os.SyscallError
	if errors.As(err, &se) {
		return se.Err.Error()
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err.Error()
	}
	return err.Error()
}
