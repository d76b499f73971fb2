// Package transport carries queries between sockets and the answer
// pipeline: per listen address, reuse-port UDP sockets with batched
// readers and a TCP listener with its connection limits and timeouts.
// It is given an Answerer and a function that gives the state being
// served; it knows nothing of reloads, zones or the server that owns it.
package transport

import (
	"log/slog"
	"sync/atomic"

	"github.com/mxdns/mxdns/server/answer"
	"github.com/mxdns/mxdns/zone"
)

// Answerer is the answer pipeline (answer.Answerer): an interface so
// that tests can put one that stalls in its place.
type Answerer interface {
	Answer(st *answer.State, r *answer.Request) (reply []byte, keep bool)
}

// Config is what the listeners are given.
type Config struct {
	Log     *slog.Logger
	Answers Answerer
	// State is the state being served, loaded once per UDP batch and once
	// per TCP query.
	State func() *answer.State
	// Counters receives the count of TCP connections refused at once.
	Counters *answer.Counters
}

// Listeners are the sockets of every listen address. Its methods are not
// safe for concurrent use: the owner serialises them.
type Listeners struct {
	log       *slog.Logger
	answers   Answerer
	state     func() *answer.State
	conns     connLimit
	rotate    atomic.Uint32        // TCP's; each UDP reader keeps its own
	listeners map[string]*listener // by listen address as configured
}

// New returns Listeners with none open, and the default TCP limits.
func New(cfg Config) *Listeners {
	s := &Listeners{log: cfg.Log, answers: cfg.Answers, state: cfg.State, listeners: make(map[string]*listener)}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.conns.c = cfg.Counters
	if s.conns.c == nil {
		s.conns.c = new(answer.Counters)
	}
	s.SetTCPLimits(zone.DefaultTCPMaxConns, zone.DefaultTCPMaxConnsPerSource)
	return s
}

// SetTCPLimits sets tcp_max_conns and tcp_max_conns_per_source, shared by
// every listener; 0 leaves a limit as it is.
func (s *Listeners) SetTCPLimits(max, perSource int) {
	if max > 0 {
		s.conns.max.Store(int64(max))
	}
	if perSource > 0 {
		s.conns.perSource.Store(int64(perSource))
	}
}
