package server

import "github.com/mxdns/mxdns/zone"

// Keeper remembers across restarts what was served: the last good copy of
// each file and each zone's serial (package state keeps them in the state
// directory).
type Keeper interface {
	zone.Memory
	SaveCopies([]zone.FileCopy) error
	SaveSerials(map[string]zone.SerialRecord) error
}

// memory is the keeper as the loader reads it; nil when there is none (a
// nil Keeper in a zone.Memory would not compare equal to nil).
func (s *Server) memory() zone.Memory {
	if s.keeper == nil {
		return nil
	}
	return s.keeper
}

// keepSerials records the serials of snap before it is served, so that no
// crash can bring back a lower one. Failing to, it still serves: answers
// matter more than a serial a secondary might see go back after a crash.
func (s *Server) keepSerials(snap *zone.Snapshot) {
	if s.keeper == nil {
		return
	}
	if err := s.keeper.SaveSerials(snap.Serials()); err != nil {
		s.log.Error("state: serials not kept; after a crash a serial may go back", "err", err)
	}
}

// keepCopies records the files read good as their last good copies.
func (s *Server) keepCopies(copies []zone.FileCopy) {
	if s.keeper == nil || len(copies) == 0 {
		return
	}
	if err := s.keeper.SaveCopies(copies); err != nil {
		s.log.Error("state: last good copies not kept", "err", err)
	}
}
