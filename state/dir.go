// Package state keeps what mxdns must remember across restarts in its
// state directory: the last good copy of every file it served and the last
// serial of every zone. Every file is written atomically (a temporary
// file, fsync, rename, fsync of the directory), so a crash leaves either
// the old version or the new, never half of one.
package state

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/mxdns/mxdns/zone"
)

const (
	copiesDir   = "files"
	indexFile   = "files.json"
	serialsFile = "serials.json"
)

// Dir is an open state directory. It is safe for concurrent use.
type Dir struct {
	path string

	mu      sync.Mutex
	index   map[string]copyEntry         // by absolute path of the file copied
	serials map[string]serialEntry       // by zone origin
	saved   map[string]zone.SerialRecord // what serials.json holds
}

// copyEntry is one file's last good copy.
type copyEntry struct {
	Copy   string `json:"copy"`   // its name under files/
	SHA256 string `json:"sha256"` // of the text
	Mtime  int64  `json:"mtime"`  // the file's, when read
}

type serialEntry struct {
	Serial uint32 `json:"serial"`
	Hash   string `json:"hash"`
}

// Open opens the state directory at path, making it (mode 0700) when it
// does not exist.
func Open(path string) (*Dir, error) {
	if err := os.MkdirAll(filepath.Join(path, copiesDir), 0o700); err != nil {
		return nil, fmt.Errorf("state directory: %w", err)
	}
	d := &Dir{path: path, index: map[string]copyEntry{}, serials: map[string]serialEntry{}}
	if err := readJSON(filepath.Join(path, indexFile), &d.index); err != nil {
		return nil, err
	}
	if err := readJSON(filepath.Join(path, serialsFile), &d.serials); err != nil {
		return nil, err
	}
	d.saved = make(map[string]zone.SerialRecord, len(d.serials))
	for origin, e := range d.serials {
		if r, ok := e.record(); ok {
			d.saved[origin] = r
		}
	}
	return d, nil
}

// Path is where the directory is.
func (d *Dir) Path() string { return d.path }

func readJSON(path string, v any) error {
	text, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("state: %w", err)
	}
	if err := json.Unmarshal(text, v); err != nil {
		return fmt.Errorf("state: %s: %w", path, err)
	}
	return nil
}

func (e serialEntry) record() (zone.SerialRecord, bool) {
	r := zone.SerialRecord{Serial: e.Serial}
	h, err := hex.DecodeString(e.Hash)
	if err != nil || len(h) != len(r.Hash) {
		return r, false
	}
	copy(r.Hash[:], h)
	return r, true
}

// LastGood returns the last good copy of file. A copy that no longer
// matches its digest (a disk error, a hand edit) is not returned.
func (d *Dir) LastGood(file string) (zone.FileCopy, bool) {
	d.mu.Lock()
	e, ok := d.index[file]
	d.mu.Unlock()
	if !ok {
		return zone.FileCopy{}, false
	}
	text, err := os.ReadFile(filepath.Join(d.path, copiesDir, e.Copy))
	if err != nil || digest(text) != e.SHA256 {
		return zone.FileCopy{}, false
	}
	return zone.FileCopy{File: file, Text: text, Mtime: e.Mtime}, true
}

// KnownFiles lists the files with a last good copy, sorted.
func (d *Dir) KnownFiles() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]string, 0, len(d.index))
	for f := range d.index {
		out = append(out, f)
	}
	slices.Sort(out)
	return out
}

// LastSerial returns the serial a zone was last served with.
func (d *Dir) LastSerial(origin string) (zone.SerialRecord, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	r, ok := d.saved[origin]
	return r, ok
}

// SaveCopies keeps copies as the last good version of their files. A copy
// equal to the one kept is not written again, so a restart with unchanged
// files writes nothing.
func (d *Dir) SaveCopies(copies []zone.FileCopy) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	var batch []pending
	next := make(map[string]copyEntry, len(copies))
	for _, c := range copies {
		sum := digest(c.Text)
		if e, ok := d.index[c.File]; ok && e.SHA256 == sum {
			if e.Mtime != c.Mtime {
				e.Mtime = c.Mtime
				next[c.File] = e
			}
			continue
		}
		name := copyName(c.File)
		batch = append(batch, pending{path: filepath.Join(d.path, copiesDir, name), text: c.Text})
		next[c.File] = copyEntry{Copy: name, SHA256: sum, Mtime: c.Mtime}
	}
	if len(next) == 0 {
		return nil
	}
	if err := writeAll(batch); err != nil {
		return err
	}
	index := make(map[string]copyEntry, len(d.index)+len(next))
	for f, e := range d.index {
		index[f] = e
	}
	for f, e := range next {
		index[f] = e
	}
	text, err := json.MarshalIndent(index, "", "\t")
	if err != nil {
		return err
	}
	if err := writeAll([]pending{{path: filepath.Join(d.path, indexFile), text: text}}); err != nil {
		return err
	}
	d.index = index
	return nil
}

// SaveSerials records the serials served, before they are served: a crash
// after that can never bring back a lower one. Zones no longer served keep
// their entry, so that a zone that comes back goes on from where it was.
// Nothing is written when no serial changed.
func (d *Dir) SaveSerials(serials map[string]zone.SerialRecord) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	changed := false
	for origin, r := range serials {
		if d.saved[origin] != r {
			changed = true
			break
		}
	}
	if !changed {
		return nil
	}
	all := make(map[string]serialEntry, len(d.serials)+len(serials))
	for origin, e := range d.serials {
		all[origin] = e
	}
	for origin, r := range serials {
		all[origin] = serialEntry{Serial: r.Serial, Hash: hex.EncodeToString(r.Hash[:])}
	}
	text, err := json.Marshal(all)
	if err != nil {
		return err
	}
	if err := writeAll([]pending{{path: filepath.Join(d.path, serialsFile), text: text}}); err != nil {
		return err
	}
	d.serials = all
	for origin, r := range serials {
		d.saved[origin] = r
	}
	return nil
}

// copyName names a file's copy by a digest of its path: one copy per
// file, whatever characters its path holds, with its base name kept for
// whoever looks into the directory.
func copyName(file string) string {
	sum := sha256.Sum256([]byte(file))
	return hex.EncodeToString(sum[:8]) + "-" + filepath.Base(file)
}

func digest(text []byte) string {
	sum := sha256.Sum256(text)
	return hex.EncodeToString(sum[:])
}
