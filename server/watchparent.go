package server

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// watchNearest watches dir, or, while it does not exist, the nearest
// directory above it that does (certbot makes /etc/letsencrypt/live/mx1
// when it first runs, maybe after mxdns started), and returns the one
// watched. A directory made on the way between finding the nearest and
// watching it made no event there: it is looked for again.
func (w *Watcher) watchNearest(dir string) (string, error) {
	at := dir
	for {
		err := w.fs.Add(at)
		if err == nil {
			if at == dir || !exists(childTowards(at, dir)) {
				return at, nil
			}
			at = dir // one more level exists now: start again from the bottom
			continue
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return at, err
		}
		up := filepath.Dir(at)
		if up == at {
			return at, err
		}
		at = up
	}
}

// childTowards is the directory just below parent on the way to dir.
func childTowards(parent, dir string) string {
	rest := strings.TrimPrefix(dir, parent)
	rest = strings.TrimPrefix(rest, string(filepath.Separator))
	first, _, _ := strings.Cut(rest, string(filepath.Separator))
	return filepath.Join(parent, first)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// onTheWay reports whether path, named by an event, is a directory on the
// way to one to watch that does not exist yet, or that directory itself.
func (w *Watcher) onTheWay(path string) bool {
	for dir := range w.standIn {
		if dir == path || strings.HasPrefix(dir, path+string(filepath.Separator)) {
			return true
		}
	}
	return false
}
