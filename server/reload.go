package server

import (
	"errors"
	"fmt"
	"time"

	"github.com/mxdns/mxdns/zone"
)

// ReloadResult describes one reload attempt.
type ReloadResult struct {
	Time     time.Time
	Duration time.Duration
	// Err is nil when the new configuration is served. It is a
	// *zone.LoadError when the configuration has errors (the previous
	// snapshot keeps being served), or the error of opening a new listen
	// or admin address (the new snapshot is served all the same).
	Err error
	// Diags holds every diagnostic of the load, warnings included.
	Diags zone.Diagnostics
}

// ReloadStatus summarises reloads for the admin endpoint.
type ReloadStatus struct {
	Count       uint64    // successful reloads, the initial load excluded
	Failures    uint64    // reloads that kept the previous configuration
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

// Reload loads the configuration again and, if it has no errors, serves it
// from the next query on. With errors the current snapshot stays in
// service and each error is logged once, here.
func (s *Server) Reload() ReloadResult {
	return s.reloadChanged(nil)
}

// reloadChanged is Reload told which files changed since the snapshot
// served was loaded (nil: not known, check them all).
func (s *Server) reloadChanged(changed []string) ReloadResult {
	res := s.reload(changed)
	if s.onReload != nil {
		s.onReload(res)
	}
	return res
}

func (s *Server) reload(changed []string) ReloadResult {
	s.mu.Lock()
	defer s.mu.Unlock()

	start := time.Now()
	res := ReloadResult{Time: start}
	if s.closed {
		res.Err = errClosed
		return res
	}
	s.status.LastTime = start

	prev := s.state.Load().snap
	snap, diags := zone.Reload(s.path, prev, changed)
	res.Diags = diags
	res.Duration = time.Since(start)
	s.logWarnings(diags)
	if err := diags.Err(); err != nil {
		res.Err = err
		s.status.Failures++
		s.metrics.reload(false)
		s.status.LastError = err
		for _, d := range diags.Errors() {
			s.log.Error("config error", "at", position(d), "error", d.Msg)
		}
		s.log.Error("reload failed, previous configuration kept", "config", s.path, "errors", len(diags.Errors()))
		return res
	}

	// Listeners follow the swap: an address opened or closed in between
	// merely maps to link -1 for an instant, and unchanged ones stay open.
	s.publish(snap)
	if err := s.syncListeners(snap.Settings()); err != nil {
		res.Err = err
		s.log.Error("reload: listeners", "err", err)
	}
	if err := s.syncAdmin(snap.Settings().Admin); err != nil {
		res.Err = errors.Join(res.Err, err)
		s.log.Error("reload: admin", "err", err)
	}
	s.status.Count++
	s.metrics.reload(true)
	s.notifier.zonesChanged(prev, snap)
	s.status.LastSuccess = start
	select {
	case s.swapped <- struct{}{}:
	default:
	}
	s.log.Info("reloaded", "config", s.path, "zones", snap.ZoneCount(), "warnings", len(diags.Warnings()), "took", res.Duration)
	return res
}

// position renders where a diagnostic points, file:line:col.
func position(d zone.Diagnostic) string {
	if d.Line <= 0 {
		return d.File
	}
	return fmt.Sprintf("%s:%d:%d", d.File, d.Line, d.Col)
}
