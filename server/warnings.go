package server

import (
	"github.com/mxdns/mxdns/server/ops"
	"github.com/mxdns/mxdns/zone"
)

// warningSet holds the warnings of the configuration in service, so that
// each is logged once when it appears rather than at every reload, where
// users would learn to skip them. A warning is known by its file and
// text: one that moves to another line as lines are added above it is
// the same warning. Guarded by Server.mu once the server runs.
type warningSet struct {
	current []zone.Diagnostic // in file order, positions as last loaded
}

type warningKey struct{ file, msg string }

func keyOf(d zone.Diagnostic) warningKey { return warningKey{d.File, d.Msg} }

// logWarnings logs the warnings of a load that are not current yet. When
// the load is served (even with a file in error, served from its last
// good copy) its warnings become the current set, and a warning that went
// away is logged as cleared; a load not served changes nothing but says
// what is new in it. Callers hold mu, or own the server alone (New).
func (s *Server) logWarnings(diags zone.Diagnostics, served bool) {
	ws := &s.warnings
	known := make(map[warningKey]bool, len(ws.current))
	for _, d := range ws.current {
		known[keyOf(d)] = true
	}
	warnings := diags.Warnings()
	now := make(map[warningKey]bool, len(warnings))
	for _, d := range warnings {
		k := keyOf(d)
		if !known[k] && !now[k] {
			s.log.Warn("config warning", "at", position(d), "warning", d.Msg)
		}
		now[k] = true
	}
	if !served {
		return
	}
	for _, d := range ws.current {
		if !now[keyOf(d)] {
			s.log.Info("config warning cleared", "at", position(d), "warning", d.Msg)
		}
	}
	ws.current = warnings
}

// warningStatus lists the current warnings for /status. Callers hold mu.
func (s *Server) warningStatus() []ops.WarningStatus {
	out := make([]ops.WarningStatus, 0, len(s.warnings.current))
	for _, d := range s.warnings.current {
		out = append(out, ops.WarningStatus{At: position(d), Warning: d.Msg})
	}
	return out
}
