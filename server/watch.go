package server

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/fsnotify/fsnotify"
)

// debounce lets a burst of events (an editor's write+rename, a Kubernetes
// ..data symlink swap, each well within a millisecond) settle into one
// reload. Each event restarts it, so a longer burst still makes one
// reload; it is short because it adds to every save-to-served time (the
// target is 200ms with 10,000 zones). A file written in place over a
// longer time (cat >, scp) can be read half written: if that half parses,
// it is served until the rest of the write's events bring the next
// reload. Saving by rename, as editors do, never shows half a file.
const debounce = 10 * time.Millisecond

// Watcher reloads the server when a file in one of the snapshot's
// WatchDirs changes. Directories, not files, are watched: editors replace
// files by rename and Kubernetes swaps a symlink, both of which a watch on
// the file itself would lose.
type Watcher struct {
	srv    *Server
	fs     *fsnotify.Watcher
	cancel context.CancelFunc
	done   chan struct{}
	// standIn maps each directory to watch that does not exist yet to
	// the nearest one above it that does, watched in its place; only
	// the loop's goroutine uses it once started (watchparent.go).
	standIn map[string]string
}

// Watch starts watching the directories of the current snapshot until ctx
// ends or Close is called.
func (s *Server) Watch(ctx context.Context) (*Watcher, error) {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watch: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	w := &Watcher{srv: s, fs: fw, cancel: cancel, done: make(chan struct{})}
	w.sync()
	go w.loop(ctx)
	return w, nil
}

// Close stops the watcher and waits for its goroutine.
func (w *Watcher) Close() error {
	w.cancel()
	<-w.done
	return w.fs.Close()
}

func (w *Watcher) loop(ctx context.Context) {
	defer close(w.done)
	timer := time.NewTimer(debounce)
	timer.Stop()
	// changed holds every path an event named since the last reload that
	// was served; nil means check every file (lost events, start). A
	// failed reload leaves it as it is: the file that broke it is still
	// to be read, whatever is saved next.
	// The first reload checks every file: one saved while the server was
	// loading (seconds, with thousands of zones) or before the
	// directories were watched made no event here.
	var changed map[string]bool
	timer.Reset(debounce)
	for {
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case ev, ok := <-w.fs.Events:
			if !ok {
				return
			}
			// Every op counts: create/write/rename/remove/chmod all occur
			// in some way of replacing a file. Other files in the same
			// directories (a log written beside the config, an editor's
			// swap file) must not trigger reloads.
			if w.onTheWay(ev.Name) {
				// A directory on the way to one to watch came or went:
				// watch it, or the next one down.
				if w.sync() {
					changed = nil
					timer.Reset(debounce)
				}
				continue
			}
			if !w.srv.Snapshot().Concerns(ev.Name) {
				continue
			}
			w.srv.log.Debug("watch event", "file", ev.Name, "op", ev.Op.String())
			if changed != nil {
				changed[ev.Name] = true
			}
			timer.Reset(debounce)
		case err, ok := <-w.fs.Errors:
			if !ok {
				return
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				// The kernel dropped events, possibly for files we serve:
				// reload rather than wait for some later edit.
				w.srv.log.Warn("watch: events lost, reloading", "err", err)
				changed = nil
				timer.Reset(debounce)
				continue
			}
			w.srv.log.Warn("watch", "err", err)
		case <-timer.C:
			// A served reload signals swapped, which re-syncs below; after
			// a failed one, retry the directories that could not be
			// watched yet.
			var paths []string
			if changed != nil {
				paths = slices.Collect(maps.Keys(changed))
			}
			res := w.srv.reloadChanged(paths)
			if res.Served {
				// Served, even with a file in error (kept as it last
				// was good until its next save) or a listener failed.
				changed = map[string]bool{}
			}
			if res.Err != nil && w.sync() {
				changed = nil
				timer.Reset(debounce)
			}
		case <-w.srv.swapped:
			// Any successful reload, this watcher's or another's (SIGHUP),
			// may have changed WatchDirs.
			if w.sync() {
				changed = nil
				timer.Reset(debounce)
			}
		}
	}
}

// sync makes the watched directories those of the current snapshot. A
// directory that does not exist yet is stood in for by the nearest one
// above it that does; one that cannot be watched for another reason is
// retried at the next sync. It reports whether a directory stood in for
// came nearer to being watched: what was made in it before made no event,
// so every file must be read again.
func (w *Watcher) sync() (nearer bool) {
	want := w.srv.Snapshot().WatchDirs()
	have := w.fs.WatchList()
	standIn := map[string]string{}
	keep := slices.Clone(want)
	for _, d := range want {
		if slices.Contains(have, d) {
			continue
		}
		at, err := w.watchNearest(d)
		if err != nil {
			w.srv.log.Warn("watch", "dir", d, "err", err)
			continue
		}
		if was, ok := w.standIn[d]; ok && was != at {
			nearer = true
		}
		if at != d {
			standIn[d] = at
			keep = append(keep, at)
			if w.standIn[d] != at {
				w.srv.log.Debug("watching a directory above one not made yet", "dir", d, "watching", at)
			}
			continue
		}
		w.srv.log.Debug("watching", "dir", d)
	}
	w.standIn = standIn
	for _, d := range w.fs.WatchList() {
		if !slices.Contains(keep, d) {
			if err := w.fs.Remove(d); err != nil {
				w.srv.log.Debug("unwatch", "dir", d, "err", err)
			}
		}
	}
	return nearer
}
