// Package state keeps what mxdns must remember across restarts in its
// state directory: the last good copy of every file it served and the last
// serial of every zone. A copy is written atomically (a temporary file,
// fsync, rename, fsync of the directory), so a crash leaves the old copy or
// the new, never half of one; serials go to a journal that is appended to
// and synced before the serials are served, and so do the differences
// between versions of transferred zones (ixfr.go).
package state

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/mxdns/mxdns/zone"
)

const (
	copiesDir   = "files"
	serialsFile = "serials.log"
)

// Dir is an open state directory. It is safe for concurrent use.
type Dir struct {
	path string

	// Copies and serials have a lock each: writing thousands of copies
	// (a first start) takes seconds, and a reload that records its
	// serials before it serves must not wait for them.
	copyMu  sync.Mutex
	digests map[string]string // file → digest of its copy, as far as known
	mu      sync.Mutex        // the serial journal
	serials *journal
	keyMu   sync.Mutex // signing keys (keys.go)
	keys    map[string]*zoneKeys
	keysDue map[string][]byte // key files changed, written by FlushKeys
	// marksTaken are DS marks taken in, removed once their effect is saved.
	marksTaken []string
	journalMu  sync.Mutex // IXFR journal writes not yet synced (ixfr.go)
	journals   journalWrites

	catalog catalogStore // the labels of the catalog's members (catalog.go)
}

// Open opens the state directory at path, making it (mode 0700) when it
// does not exist.
func Open(path string) (*Dir, error) {
	if err := os.MkdirAll(filepath.Join(path, copiesDir), 0o700); err != nil {
		return nil, fmt.Errorf("state directory: %w", err)
	}
	j, err := openJournal(filepath.Join(path, serialsFile))
	if err != nil {
		return nil, err
	}
	return &Dir{path: path, digests: map[string]string{}, serials: j}, nil
}

// Path is where the directory is.
func (d *Dir) Path() string { return d.path }

// Close closes the serial journal.
func (d *Dir) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.serials.close()
}

// LastGood returns the last good copy of file. A copy that does not match
// its digest (a disk error, a hand edit) is not returned.
func (d *Dir) LastGood(file string) (zone.FileCopy, bool) {
	c, err := readCopy(filepath.Join(d.path, copiesDir, copyName(file)))
	if err != nil || c.File != file {
		return zone.FileCopy{}, false
	}
	return c, true
}

// KnownFiles lists the zone files with a last good copy: not the
// certificate files, which no zone_files pattern is to match in their
// place.
func (d *Dir) KnownFiles() []string {
	entries, err := os.ReadDir(filepath.Join(d.path, copiesDir))
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		if c, err := readCopy(filepath.Join(d.path, copiesDir, e.Name())); err == nil && !c.Cert {
			out = append(out, c.File)
		}
	}
	return out
}

// LastSerial returns the serial a zone was last served with.
func (d *Dir) LastSerial(origin string) (zone.SerialRecord, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	r, ok := d.serials.last[origin]
	return r, ok
}

// SaveCopies keeps copies as the last good version of their files. A copy
// equal to the one kept is not written again, so a restart with unchanged
// files writes nothing.
func (d *Dir) SaveCopies(copies []zone.FileCopy) error {
	d.copyMu.Lock()
	defer d.copyMu.Unlock()
	var batch []pending
	written := map[string]string{} // file → digest of its new copy
	for _, c := range copies {
		if !keepable(c.File) {
			continue
		}
		text := encodeCopy(c)
		sum := digest(text)
		path := filepath.Join(d.path, copiesDir, copyName(c.File))
		known, ok := d.digests[c.File]
		if !ok {
			if old, err := os.ReadFile(path); err == nil {
				known = digest(old)
			}
		}
		if known == sum {
			d.digests[c.File] = sum
			continue
		}
		batch = append(batch, pending{path: path, text: text})
		written[c.File] = sum
	}
	if err := writeAll(batch); err != nil {
		return err
	}
	for f, sum := range written {
		d.digests[f] = sum
	}
	return nil
}

// SaveSerials records the serials served, before they are served: a crash
// after that can never bring back a lower one. Zones no longer served keep
// their entry, so that a zone that comes back goes on from where it was.
// Only serials that changed are written.
func (d *Dir) SaveSerials(serials map[string]zone.SerialRecord) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.serials.record(serials)
}
