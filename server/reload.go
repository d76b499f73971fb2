package server

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mxdns/mxdns/zone"
)

// ReloadResult describes one reload attempt.
type ReloadResult struct {
	Time time.Time
	// Duration is from the start of reading to the swap, or to the
	// failure: what an operator waits for.
	Duration time.Duration
	// Served says a new snapshot was put into service: every file as it
	// is now, but for those in error (Faults), served as they last were
	// good.
	Served bool
	// Err is nil when every file loaded as it is and every listener
	// opened. It is a *zone.LoadError when a file has errors, whether or
	// not a snapshot was served (see Served), or the error of opening a
	// new listen or admin address.
	Err error
	// Diags holds every diagnostic of the load, warnings included.
	Diags zone.Diagnostics
}

// ReloadStatus summarises reloads for the admin endpoint.
type ReloadStatus struct {
	Count       uint64    // reloads that loaded every file as it is, the initial load excluded
	Failures    uint64    // reloads with an error: some or all files kept as they last were good
	LastTime    time.Time // last attempt, successful or not (or the initial load)
	LastSuccess time.Time // last time a configuration was put into service
	LastError   error     // error of the last failed attempt; kept after later successes
}

// ReloadStatus returns a copy of the reload counters.
func (s *Server) ReloadStatus() ReloadStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status
}

// Reload loads the configuration again and serves it from the next query
// on: every file as it is now, a file in error as it last was good. Each
// new error is logged once, here.
func (s *Server) Reload() ReloadResult {
	return s.reloadChanged(nil)
}

// reloadChanged is Reload told which files changed since the snapshot
// served was loaded (nil: not known, check them all).
func (s *Server) reloadChanged(changed []string) ReloadResult {
	return s.reported(s.reload(changed, nil))
}

// reloadRekey builds the signed zones of rekey again with their keys as
// they stand now: nothing else has changed.
func (s *Server) reloadRekey(rekey []string) ReloadResult {
	return s.reported(s.reload([]string{}, rekey))
}

// reported keeps res for the status page and hands it to OnReload.
func (s *Server) reported(res ReloadResult) ReloadResult {
	s.recordReload(res)
	if s.onReload != nil {
		s.onReload(res)
	}
	return res
}

// reload builds outside mu, which queries never take but health checks,
// link changes and /status do: a build of ten thousand zones takes
// seconds. reloadMu keeps one build at a time, so the snapshot a build
// starts from is still the one served when it is swapped.
//
// rekey names signed zones whose keys must move; a reload of every file
// (changed nil) moves those whose key event is due, too.
func (s *Server) reload(changed, rekey []string) ReloadResult {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()

	start := time.Now()
	res := ReloadResult{Time: start}
	s.mu.Lock()
	closed := s.closed
	if !closed {
		s.status.LastTime = start
	}
	s.mu.Unlock()
	if closed {
		res.Err = errClosed
		return res
	}
	defer func() { s.metrics.ReloadDuration(res.Duration) }()

	prev := s.state.Load().Snap
	lo := s.loadOptions()
	lo.Changed, lo.Rekey = changed, rekey
	if changed == nil {
		lo.Rekey = append(lo.Rekey, s.dueZones(prev, s.now())...)
	}
	l := zone.Open(s.path, prev, lo)
	res.Diags, res.Duration = l.Diags, time.Since(start)
	res.Err = l.Diags.Err()
	if l.Snapshot == nil {
		s.mu.Lock()
		s.logWarnings(l.Diags, false)
		s.status.Failures++
		s.status.LastError = res.Err
		s.mu.Unlock()
		s.metrics.Reload(false)
		for _, d := range l.Diags.Errors() {
			s.log.Error("config error", "at", position(d), "error", d.Msg)
		}
		s.log.Error("reload failed, previous configuration kept", "config", s.path, "errors", len(l.Diags.Errors()))
		return res
	}
	snap := l.Snapshot
	if err := s.saveKeys(); err != nil {
		s.mu.Lock()
		s.status.Failures++
		s.status.LastError = err
		s.mu.Unlock()
		s.metrics.Reload(false)
		s.log.Error("reload failed, previous configuration kept", "config", s.path, "err", err)
		res.Err = err
		return res
	}
	res.Served = true
	// Held to the swap: an update served meanwhile is laid over snap
	// too, and its serials are the ones the new ones must pass.
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	prev = s.state.Load().Snap
	snap = s.withUpdates(snap, prev)
	s.beforeServing(prev, snap)
	prevSigners := s.state.Load().Signers()
	signers := s.signersFor(snap, prevSigners)
	snap.PrepareDenial()
	s.journalVersions(prev, snap, signers, prevSigners)

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		res.Err, res.Served = errClosed, false
		return res
	}
	s.signers = signers
	// Listeners follow the swap: an address opened or closed in between
	// merely maps to link -1 for an instant, and unchanged ones stay open.
	s.publish(snap)
	if err := s.syncListeners(snap.Settings()); err != nil {
		res.Err = errors.Join(res.Err, err)
		s.log.Error("reload: listeners", "err", err)
	}
	if err := s.syncAdmin(snap.Settings().Admin); err != nil {
		res.Err = errors.Join(res.Err, err)
		s.log.Error("reload: admin", "err", err)
	}
	// A reload with a file in error serves, but is no success: the
	// status and the failure count say so until the file is fixed.
	if res.Err != nil {
		s.status.Failures++
		s.status.LastError = res.Err
	} else {
		s.status.Count++
		s.status.LastSuccess = start
	}
	s.notifier.ZonesChanged(prev, snap)
	s.afterServing(l) // under mu: Shutdown closes the copy queue under it
	s.mu.Unlock()
	s.journal.Forget(removedOrigins(prev, snap))
	s.metrics.Reload(res.Err == nil)
	res.Duration = time.Since(start) // the swap and what readied it too
	s.updates.Poke()                 // updates.expire may have changed
	select {
	case s.swapped <- struct{}{}:
	default:
	}
	s.log.Info("reloaded", "config", s.path, "zones", snap.ZoneCount(), "files_in_error", len(snap.Faults()),
		"warnings", len(l.Diags.Warnings()), "took", res.Duration)
	return res
}

// logFaults logs each file that went bad, or whose errors changed, since
// prev, and each that is good again: once, not at every reload.
func (s *Server) logFaults(prev, snap *zone.Snapshot) {
	before := map[string]string{}
	if prev != nil {
		for _, f := range prev.Faults() {
			before[f.File] = faultText(f)
		}
	}
	now := map[string]bool{}
	for _, f := range snap.Faults() {
		now[f.File] = true
		if before[f.File] == faultText(f) {
			continue
		}
		msg := "file error, serving last good copy"
		if !f.Serving {
			msg = "file error, none of its zones served (no good copy known)"
		}
		s.log.Error(msg, "file", f.File, "error", faultText(f), "since", f.Since.Format(time.RFC3339))
	}
	for file := range before {
		if !now[file] {
			s.log.Info("file good again", "file", file)
		}
	}
}

// faultText is a fault's errors in one line.
func faultText(f zone.FileFault) string {
	parts := make([]string, len(f.Errors))
	for i, d := range f.Errors {
		parts[i] = d.String()
	}
	return strings.Join(parts, "; ")
}

func removedOrigins(prev, snap *zone.Snapshot) []string {
	var out []string
	for _, z := range snap.Removed(prev) {
		out = append(out, z.Origin)
	}
	return out
}

// logRemoved logs the zones that prev served and snap does not: a file
// deleted, or a zone's key removed from one.
func (s *Server) logRemoved(prev, snap *zone.Snapshot) {
	var gone []string
	for _, z := range snap.Removed(prev) {
		gone = append(gone, strings.TrimSuffix(z.Origin, ".")+" ("+z.File+")")
	}
	if len(gone) == 0 {
		return
	}
	if len(gone) > 20 {
		gone = append(gone[:20], fmt.Sprintf("and %d more", len(gone)-20))
	}
	s.log.Info("zones removed", "zones", strings.Join(gone, ", "))
}

// position renders where a diagnostic points, file:line:col.
func position(d zone.Diagnostic) string {
	if d.Line <= 0 {
		return d.File
	}
	return fmt.Sprintf("%s:%d:%d", d.File, d.Line, d.Col)
}
