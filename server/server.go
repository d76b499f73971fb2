// Package server answers DNS queries from the zone model: it owns the
// sockets, the current snapshot, reloads and the file watcher.
package server

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mxdns/mxdns/zone"
)

// Options configure a Server.
type Options struct {
	// Logger receives every log line; nil discards them.
	Logger *slog.Logger
	// ConfigPath is the configuration file to load and reload.
	ConfigPath string
	// OnReload, when set, is called after every Reload attempt (tests wait
	// on it instead of sleeping). It must not block for long.
	OnReload func(ReloadResult)
}

// state is what a query needs, swapped as one value so that a query never
// sees a snapshot paired with the link states of another.
type state struct {
	snap *zone.Snapshot
	up   zone.LinkSet
}

// Server is an authoritative DNS server for the zones of one config file.
type Server struct {
	log      *slog.Logger
	path     string
	onReload func(ReloadResult)

	state  atomic.Pointer[state]
	rotate atomic.Uint32

	metrics  *metrics
	notifier *notifier
	xfrSlots chan struct{} // one token per running zone transfer

	// mu serialises every writer: reloads, link changes, listener changes
	// and shutdown. Queries never take it.
	mu        sync.Mutex
	listeners map[string]*listener // by listen address as configured
	health    map[string]bool      // health-check verdicts by link name
	status    ReloadStatus
	closed    bool

	// swapped is signalled after each successful reload so the watcher can
	// follow changes of WatchDirs whoever triggered the reload.
	swapped chan struct{}
}

// New loads the configuration and starts serving on every listen address.
// A configuration with errors returns a *zone.LoadError listing all of them;
// a listen address that cannot be bound returns its net error.
func New(opts Options) (*Server, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		log:       log,
		path:      opts.ConfigPath,
		onReload:  opts.OnReload,
		listeners: make(map[string]*listener),
		health:    make(map[string]bool),
		swapped:   make(chan struct{}, 1),
		metrics:   newMetrics(),
		xfrSlots:  make(chan struct{}, maxTransfers),
	}
	s.notifier = newNotifier(s)

	snap, diags := zone.Load(s.path, nil)
	s.logWarnings(diags)
	if err := diags.Err(); err != nil {
		return nil, err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.publish(snap)
	if err := s.syncListeners(snap.Settings()); err != nil {
		s.closeListeners(context.Background(), s.allListeners())
		return nil, err
	}
	now := time.Now()
	s.status.LastTime, s.status.LastSuccess = now, now
	// Zones may have changed while we were down: tell the secondaries now
	// rather than at their next refresh, as BIND and Knot do on load.
	s.notifier.zonesChanged(nil, snap)
	return s, nil
}

// Snapshot returns the snapshot being served.
func (s *Server) Snapshot() *zone.Snapshot { return s.state.Load().snap }

// Up returns the set of links currently considered up.
func (s *Server) Up() zone.LinkSet { return s.state.Load().up }

// publish stores snap with the up set derived from it. Callers hold mu.
func (s *Server) publish(snap *zone.Snapshot) {
	s.state.Store(&state{snap: snap, up: upLinks(snap.Settings().Links, s.health)})
}

// Shutdown stops every listener and waits for them, or for ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.notifier.stop()
	return s.closeListeners(ctx, s.allListeners())
}

var errClosed = errors.New("server closed")
