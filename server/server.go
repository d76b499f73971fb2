// Package server serves the zone model: it owns the state being served
// and changes it (loads, reloads, the file watcher, link changes,
// shutdown), and wires the parts that do the rest, each given handles
// and never the Server: answer (the answer pipeline), transport (the
// sockets), health (the link checks), xfr (transfers and NOTIFY) and ops
// (the admin endpoint and the metrics).
package server

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mxdns/mxdns/dnssec"
	"github.com/mxdns/mxdns/server/answer"
	"github.com/mxdns/mxdns/server/health"
	"github.com/mxdns/mxdns/server/ops"
	"github.com/mxdns/mxdns/server/transport"
	"github.com/mxdns/mxdns/server/update"
	"github.com/mxdns/mxdns/server/xfr"
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
	// OnLinkChange, when set, is called whenever a link goes up or down in
	// the answers, after the new state is served. It is called with the
	// server's lock held: it must not block or call the Server.
	OnLinkChange func(LinkChange)

	// Keeper, when set, remembers last good copies and serials across
	// restarts: a file broken at start is then served as it last was.
	Keeper Keeper
	// StateDirByFlag says -state-dir chose Keeper's directory over the
	// configuration's state_dir. The directory is opened once: a reload
	// that names another is warned about, not followed.
	StateDirByFlag bool
	// Strict refuses to start while any file is in error, rather than
	// serving it from its last good copy.
	Strict bool

	// onCheck lets tests wait for probes that change nothing.
	onCheck func(link string, ok bool)
	// onTransferView lets tests wait for the transferred zones to follow
	// the links (transferview.go): it gets the zones whose serial moved.
	onTransferView func([]zone.ZoneInfo)
	// now is the clock of key events; nil is time.Now. Tests of
	// rollovers run it fast. Signatures always take the real time.
	now func() time.Time
}

// Server is an authoritative DNS server for the zones of one config file.
type Server struct {
	log          *slog.Logger
	path         string // absolute: the watcher's events name files so
	keeper       Keeper
	stateDir     stateDirUse // guarded by mu
	copies       *copyWriter // nil without a keeper
	onReload     func(ReloadResult)
	onLinkChange func(LinkChange)
	onCheck      func(link string, ok bool)
	// onTransferView: Options.onTransferView.
	onTransferView func([]zone.ZoneInfo)
	// viewKick asks followTransferView to make the transferred zones
	// follow the links up (transferview.go); nil in servers tests
	// assemble by hand.
	viewKick  chan struct{}
	viewDelay time.Duration // transferViewDelay, taken when the Server is made

	state atomic.Pointer[answer.State]
	// signers sign the signed zones of the snapshot being served (mu);
	// signatures are remembered by content across reloads.
	signers    answer.Signers
	signatures *dnssec.Cache
	now        func() time.Time // of key events (Options.now)

	// The answer pipeline every listener calls, and the counters of the
	// abuse limits it and the TCP connection limit bump.
	answers  *answer.Answerer
	counters answer.Counters
	xfrLog   logThrottle // refused transfers and bad TSIGs: anyone can send them
	metrics  *ops.Metrics
	history  *ops.History // the status page's (statuspage.go)
	// mailView is the status page's last unfiltered mail table, with
	// the state it was made from (statuspage.go).
	mailView atomic.Pointer[mailView]
	// Transfers, the IXFR journal, NOTIFY and TSIG (transfers.go).
	transfers *xfr.Server
	journal   *xfr.Journal
	notifier  *xfr.Notifier
	keys      xfr.Keyring
	// updates applies RFC 2136 updates and holds the records they added
	// (updates.go).
	updates *update.Updater

	// reloadMu keeps one reload building at a time; it is held while
	// building, mu only while swapping.
	reloadMu sync.Mutex
	// pubMu orders the swaps of reloads and of updates: each lays the
	// updated records over the snapshot it swaps in, and must start from
	// the one served. Taken after reloadMu, before mu.
	pubMu sync.Mutex
	// stopping is closed by Shutdown: a reload building then gives up.
	stopping  chan struct{}
	closeOnce sync.Once
	// background is the goroutines that write the state directory or
	// serve on their own (the start's journaling, key events, update
	// expiry, the transferred view): Shutdown waits for them, so that
	// none is cut off in a write when the process exits.
	background sync.WaitGroup
	// mu serialises every writer: reload swaps, link changes, listener
	// changes and shutdown. Queries never take it.
	mu        sync.Mutex
	listeners *transport.Listeners
	checks    *health.Monitor // reports through linkChecked (linkstate.go)
	links     map[string]*linkInfo
	stranded  []string   // names answering every address, as last logged
	admin     *ops.Admin // nil when off
	status    ReloadStatus
	warnings  warningSet // of the configuration in service (warnings.go)
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
		log:            log,
		path:           zone.AbsPath(opts.ConfigPath),
		keeper:         opts.Keeper,
		stateDir:       stateDirUse{byFlag: opts.StateDirByFlag},
		onReload:       opts.OnReload,
		onLinkChange:   opts.OnLinkChange,
		onCheck:        opts.onCheck,
		onTransferView: opts.onTransferView,
		viewKick:       make(chan struct{}, 1),
		viewDelay:      transferViewDelay,
		links:          make(map[string]*linkInfo),
		swapped:        make(chan struct{}, 1),
		stopping:       make(chan struct{}),
	}
	if s.keeper != nil {
		s.stateDir.inUse = s.keeper.Path()
	}
	s.metrics = ops.NewMetrics()
	s.history = ops.NewHistory(s.metrics)
	s.checks = health.New(health.Config{Report: s.linkChecked, MinTimeout: probeTimeoutFloor})
	s.exportLimits()
	s.metrics.DNSSECFunc(func() map[string]ops.ZoneDNSSEC {
		if st := s.state.Load(); st != nil {
			return signedStatus(st)
		}
		return nil
	})
	s.initTransfers()
	s.initUpdates()
	s.metrics.UpdatedFunc(func() map[string][]ops.UpdatedRecord { return s.updatedStatus(time.Now()) })
	s.initAnswers()
	s.initListeners()

	s.signatures = dnssec.NewCache(signatureCacheSize)
	if s.now = opts.now; s.now == nil {
		s.now = time.Now
	}
	lo := s.loadOptions()
	lo.Cancel, lo.Strict = nil, opts.Strict
	start := time.Now()
	l := zone.Open(s.path, nil, lo)
	loaded := ReloadResult{Time: start, Duration: time.Since(start), Served: l.Snapshot != nil, Err: l.Diags.Err()}
	if l.Snapshot == nil {
		s.logWarnings(l.Diags, false)
		return nil, l.Diags.Err()
	}
	snap := s.withUpdates(l.Snapshot, nil)
	if err := s.saveKeys(); err != nil {
		return nil, err
	}
	s.beforeServing(nil, snap)
	signers := s.signersFor(snap, nil)

	// At a start nothing waits on the chains but the first DO queries of
	// each zone, and nothing on the IXFR journals but IXFR: serve at once
	// and make them meanwhile (a reload makes both before it serves,
	// server/reload.go). Journaling ten thousand signed zones the first
	// time signs all of them, minutes on two cores. A transfer asked for
	// before its zone is journaled is sent whole, signed then. reloadMu
	// is taken here and given back by journalStart, so that no reload
	// journals a zone's next version before this one.
	s.reloadMu.Lock()
	s.background.Go(func() { s.journalStart(snap, signers) })
	s.background.Go(snap.PrepareDenial)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.signers = signers
	s.publish(snap)
	err := s.syncListeners(snap.Settings())
	if err == nil {
		err = s.syncAdmin(snap.Settings().Admin)
	}
	if err != nil {
		s.closed = true
		s.checks.Cancel() // checkers exit without reporting: the server is closed
		s.listeners.Close(context.Background())
		// The start's journaling stops at its next batch: nothing is left
		// writing the state directory once New has failed.
		s.closeOnce.Do(func() { close(s.stopping) })
		s.background.Wait()
		return nil, err
	}
	now := time.Now()
	s.status.LastTime, s.status.LastSuccess = now, now
	if err := l.Diags.Err(); err != nil {
		s.status.LastError = err
	}
	if s.keeper != nil {
		s.startCopyWriter()
	}
	s.afterServing(l)
	s.recordReload(loaded)
	s.background.Go(func() { s.history.Run(s.stopping) })
	s.background.Go(s.runKeyEvents)
	s.background.Go(func() { s.updates.Run(s.stopping, s.updateExpire) })
	s.background.Go(s.followTransferView)
	// Zones may have changed while we were down: tell the secondaries now
	// rather than at their next refresh, as BIND and Knot do on load.
	s.notifier.ZonesChanged(nil, snap)
	return s, nil
}

// Snapshot returns the snapshot being served.
func (s *Server) Snapshot() *zone.Snapshot { return s.state.Load().Snap }

// Up returns the set of links currently considered up.
func (s *Server) Up() zone.LinkSet { return s.state.Load().Up }

// publish stores snap with the up set derived from it, and makes the
// health checkers follow its links. Callers hold mu.
func (s *Server) publish(snap *zone.Snapshot) {
	links := snap.Settings().Links
	for _, name := range s.checks.Sync(links) {
		s.metrics.ForgetCheck(name)
	}
	s.keepCheckSeries(links)
	s.setUp(snap, s.checks.Up(links), time.Now())
	s.listeners.SetTCPLimits(snap.Settings().TCPMaxConns, snap.Settings().TCPMaxConnsPerSource)
}

var errClosed = errors.New("server closed")
