package server

import (
	"context"
	"log/slog"
	"time"

	"github.com/mxdns/mxdns/zone"
)

// Keeper remembers across restarts what was served: the last good copy of
// each file and each zone's serial (package state keeps them in the state
// directory).
type Keeper interface {
	zone.Memory
	SaveCopies([]zone.FileCopy) error
	SaveSerials(map[string]zone.SerialRecord) error
	// Path is the directory the state is kept in, opened at start.
	Path() string
}

// beforeServing does what a load needs before it is swapped in: its
// serials kept, so that no crash can bring back a lower one, and what
// changed in its files logged once. prev is nil at start.
func (s *Server) beforeServing(prev, snap *zone.Snapshot) {
	if s.keeper != nil {
		// Failing to, it still serves: answers matter more than a
		// serial a secondary might see go back after a crash.
		if err := s.keeper.SaveSerials(snap.SerialsSince(prev)); err != nil {
			s.log.Error("state: serials not kept; after a crash a serial may go back", "err", err)
		}
	}
	s.saveCatalog(prev, snap)
	s.logFaults(prev, snap)
	s.logRemoved(prev, snap)
}

// afterServing does what a load needs once it is served: its warnings
// made current, its faults counted, its good files kept as copies.
// Callers hold mu.
func (s *Server) afterServing(l zone.Loaded) {
	s.logWarnings(l.Diags, true)
	s.stateDir.note(s.log, l.Snapshot.Settings().StateDir)
	s.metrics.FilesInError(len(l.Snapshot.Faults()))
	s.keepCopies(l.Copies)
}

// copyWriter writes last good copies in the order loads read them, away
// from the paths that serve: a first start with ten thousand files, or a
// burst of saves, does not wait for the disk. A copy is only a fallback
// for a later failure, so a moment's delay costs nothing.
type copyWriter struct {
	queue chan []zone.FileCopy
	done  chan struct{}
}

func (s *Server) startCopyWriter() {
	w := &copyWriter{queue: make(chan []zone.FileCopy, 64), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for copies := range w.queue {
			if err := s.keeper.SaveCopies(copies); err != nil {
				s.log.Error("state: last good copies not kept", "err", err)
			}
		}
	}()
	s.copies = w
}

// keepCopies queues the files read good to be kept as their last good
// copies. Callers hold mu, so the queue keeps the order of the loads and
// is never sent to once Shutdown closed it.
func (s *Server) keepCopies(copies []zone.FileCopy) {
	if s.copies == nil || len(copies) == 0 {
		return
	}
	s.copies.queue <- copies
}

const copyDrainTime = 2 * time.Second

// stopCopyWriter writes what is queued, unless ctx ends first: then what
// is not written yet is given up, which costs nothing served (the copies
// kept before stay whole), and is only logged. Callers hold mu.
func (s *Server) stopCopyWriter(ctx context.Context) {
	if s.copies == nil {
		return
	}
	close(s.copies.queue)
	// At most a part of the shutdown's time: the listeners and checkers
	// still to be stopped need the rest.
	ctx, cancel := context.WithTimeout(ctx, copyDrainTime)
	defer cancel()
	select {
	case <-s.copies.done:
	case <-ctx.Done():
		s.log.Warn("state: shutting down before every last good copy was written; the older copies stay", "err", ctx.Err())
	}
}

// stateDirUse is the state directory in use against the one the
// configuration names. Copies and serials written to a directory the
// next start would not read are worse than none, so a changed state_dir
// takes effect at a restart; until then it is warned about, once per
// value, for nothing a user writes may be dropped without a word.
type stateDirUse struct {
	inUse  string
	byFlag bool
	noted  string // the state_dir last warned about
}

func (u *stateDirUse) note(log *slog.Logger, written string) {
	if written == "" || written == u.inUse {
		u.noted = ""
		return
	}
	if written == u.noted {
		return
	}
	u.noted = written
	if u.byFlag {
		log.Warn("state_dir is overridden by -state-dir", "state_dir", written, "in_use", u.inUse)
		return
	}
	log.Warn("state_dir changed: it takes effect when mxdns restarts", "state_dir", written, "in_use", u.inUse)
}
