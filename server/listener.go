package server

import (
	"slices"

	"github.com/mxdns/mxdns/server/transport"
	"github.com/mxdns/mxdns/zone"
)

// Addr is where one configured listen address is actually bound.
type Addr = transport.Addr

// Addrs returns the bound addresses, sorted by configured address. With a
// port of 0 in the config, UDP and TCP share the port the kernel picked.
func (s *Server) Addrs() []Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.listeners.Addrs()
}

// syncListeners opens the listen addresses of set not yet served and
// closes those no longer listed (transport.Listeners.Sync). Callers hold
// mu.
func (s *Server) syncListeners(set zone.Settings) error {
	return s.listeners.Sync(listenAddrs(set))
}

// listenAddrs is the deduplicated union of the top-level and link listen
// addresses, in config order.
func listenAddrs(set zone.Settings) []string {
	var out []string
	add := func(a string) {
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	for _, a := range set.Listen {
		add(a)
	}
	for _, l := range set.Links {
		for _, a := range l.Listen {
			add(a)
		}
	}
	return out
}

// initListeners makes the transports, which call the answer pipeline
// with the state being served. Call it after initAnswers.
func (s *Server) initListeners() {
	s.listeners = transport.New(transport.Config{Log: s.log, Answers: s.answers, State: s.state.Load, Counters: &s.counters})
}
