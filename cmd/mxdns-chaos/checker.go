package main

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/internal/harness"
)

// counts are one scenario's checked answers.
type counts struct {
	ok, wrong, unanswered, down atomic.Int64

	mu       sync.Mutex
	examples []string // the first wrong answers and unanswered queries
}

// exampleList copies the examples; a worker that loaded these counts
// before the swap may still add one.
func (c *counts) exampleList() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.examples)
}

func (c *counts) example(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.examples) < 3 {
		c.examples = append(c.examples, fmt.Sprintf(format, args...))
	}
}

// checker queries previously served names continuously and checks each
// answer: NOERROR, authoritative, exactly the expected address. It also
// follows every zone's SOA serial, across restarts.
type checker struct {
	addr    string
	names   []name
	origins []string

	cur atomic.Pointer[counts]
	// downEpoch is odd while the server is stopped on purpose (the kill -9
	// restart); a query that fails while it is odd or that it changed
	// during counts as down.
	downEpoch atomic.Uint64

	serialMu  sync.Mutex
	serials   map[string]uint32
	backwards []string

	stop chan struct{}
	wg   sync.WaitGroup
}

func newChecker(addr string, names []name, origins []string) *checker {
	c := &checker{addr: addr, names: names, origins: origins, serials: map[string]uint32{}, stop: make(chan struct{})}
	c.cur.Store(new(counts))
	return c
}

// start runs workers that each check about 400 names a second, and the
// serial follower.
func (c *checker) start(workers int) {
	for w := range workers {
		c.wg.Go(func() { c.work(w, workers) })
	}
	c.wg.Go(c.followSerials)
}

func (c *checker) close() {
	close(c.stop)
	c.wg.Wait()
}

// setDown marks the start and the end of a planned stop of the server.
func (c *checker) setDown(down bool) {
	if (c.downEpoch.Load()%2 == 1) != down {
		c.downEpoch.Add(1)
	}
}

// swap starts counting into a new set and returns the finished one.
func (c *checker) swap() *counts { return c.cur.Swap(new(counts)) }

func (c *checker) work(w, workers int) {
	tick := time.NewTicker(2500 * time.Microsecond)
	defer tick.Stop()
	for i := w; ; i += workers {
		select {
		case <-c.stop:
			return
		case <-tick.C:
		}
		n := c.names[i%len(c.names)]
		cnt := c.cur.Load()
		e0 := c.downEpoch.Load()
		r, err := c.ask(n.fqdn, dns.TypeA)
		e1 := c.downEpoch.Load()
		switch {
		case err != nil && (e0 != e1 || e1%2 == 1):
			cnt.down.Add(1)
		case err != nil:
			cnt.unanswered.Add(1)
			cnt.example("%s A: no answer over UDP or TCP: %v", n.fqdn, err)
		case r.Rcode != dns.RcodeSuccess || !r.Authoritative || len(r.Answer) != 1 || !isA(r.Answer[0], n.addr):
			cnt.wrong.Add(1)
			cnt.example("%s A: %s", n.fqdn, brief(r))
		default:
			cnt.ok.Add(1)
		}
	}
}

// ask queries over UDP, and over TCP when UDP times out: a datagram lost
// under load is not a missing answer.
func (c *checker) ask(qname string, qtype uint16) (*dns.Msg, error) {
	r, err := harness.Exchange(c.addr, qname, qtype, false, time.Second)
	var ne net.Error
	if err != nil && errors.As(err, &ne) && ne.Timeout() {
		r, err = harness.Exchange(c.addr, qname, qtype, true, time.Second)
	}
	return r, err
}

func isA(rr dns.RR, addr string) bool {
	a, ok := rr.(*dns.A)
	return ok && a.A.String() == addr
}

func brief(r *dns.Msg) string {
	s := dns.RcodeToString[r.Rcode]
	if !r.Authoritative {
		s += " (not AA)"
	}
	for _, rr := range r.Answer {
		s += " | " + rr.String()
	}
	return s
}

// followSerials asks every zone's SOA in turn, every 10 ms, and records a
// serial that is not after or equal to the last one seen (RFC 1982).
func (c *checker) followSerials() {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-c.stop:
			return
		case <-tick.C:
		}
		origin := c.origins[i%len(c.origins)]
		r, err := harness.Exchange(c.addr, origin, dns.TypeSOA, false, time.Second)
		if err != nil {
			continue
		}
		serial, ok := harness.Serial(r)
		if !ok {
			continue // a withdrawn zone is the checker's wrong answer
		}
		c.serialMu.Lock()
		if last, seen := c.serials[origin]; seen && harness.SerialAfter(last, serial) {
			c.backwards = append(c.backwards, fmt.Sprintf("%s %d after %d", origin, serial, last))
		}
		c.serials[origin] = serial
		c.serialMu.Unlock()
	}
}

// takeBackwards returns the serials seen going backwards since the last call.
func (c *checker) takeBackwards() []string {
	c.serialMu.Lock()
	defer c.serialMu.Unlock()
	out := c.backwards
	c.backwards = nil
	return out
}
