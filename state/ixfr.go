package state

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// journalsDir holds each transferred zone's IXFR journal, one file per
// zone (server/xfr writes what is in them). A version's changes are
// appended to its zone's file and synced before the version is served;
// a file is replaced whole, atomically, now and then.
const journalsDir = "ixfr"

// journalWrites are the journal writes since the last SyncJournals.
type journalWrites struct {
	appended map[string]*os.File // path → the file, synced at SyncJournals
	replaced []pending
	made     bool // the directory exists: made on the first write, so that a server transferring nothing has none
}

// mkdir makes the journals' directory once. Callers hold journalMu.
func (d *Dir) mkdir() error {
	if d.journals.made {
		return nil
	}
	if err := os.MkdirAll(filepath.Join(d.path, journalsDir), 0o700); err != nil {
		return fmt.Errorf("state: %w", err)
	}
	d.journals.made = true
	return nil
}

// journalPath names a zone's journal: its origin, with any octet other
// than a lower-case letter, digit, hyphen or dot escaped as %XX, or a
// digest of it when that would make too long a name.
func (d *Dir) journalPath(origin string) string {
	var b strings.Builder
	for i := 0; i < len(origin); i++ {
		c := origin[i]
		if 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	name := b.String()
	if len(name) > 200 {
		sum := sha256.Sum256([]byte(origin))
		name = hex.EncodeToString(sum[:8]) + "-" + name[len(name)-100:]
	}
	return filepath.Join(d.path, journalsDir, name+"jnl")
}

// ReadJournal returns the zone's journal file whole; nil and no error
// when there is none.
func (d *Dir) ReadJournal(origin string) ([]byte, error) {
	b, err := os.ReadFile(d.journalPath(origin))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	return b, nil
}

// ReadJournalAt reads n octets of the zone's journal at off.
func (d *Dir) ReadJournalAt(origin string, off int64, n int) ([]byte, error) {
	f, err := os.Open(d.journalPath(origin))
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	defer f.Close()
	b := make([]byte, n)
	if _, err := f.ReadAt(b, off); err != nil {
		return nil, fmt.Errorf("state: %s: %d octets at %d: %w", f.Name(), n, off, err)
	}
	return b, nil
}

// AppendJournal writes data at offset at of the zone's journal, cutting
// the file there first: past a record a crash cut short. It lasts once
// SyncJournals returns.
func (d *Dir) AppendJournal(origin string, at int64, data []byte) error {
	d.journalMu.Lock()
	defer d.journalMu.Unlock()
	if err := d.mkdir(); err != nil {
		return err
	}
	path := d.journalPath(origin)
	f := d.journals.appended[path]
	if f == nil {
		var err error
		if f, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o600); err != nil {
			return fmt.Errorf("state: %w", err)
		}
		if d.journals.appended == nil {
			d.journals.appended = make(map[string]*os.File)
		}
		d.journals.appended[path] = f
	}
	if err := f.Truncate(at); err != nil {
		return fmt.Errorf("state: %w", err)
	}
	if _, err := f.WriteAt(data, at); err != nil {
		return fmt.Errorf("state: %w", err)
	}
	return nil
}

// ReplaceJournal makes data the zone's journal, atomically, at the next
// SyncJournals; until then the file stays as it was.
func (d *Dir) ReplaceJournal(origin string, data []byte) error {
	d.journalMu.Lock()
	defer d.journalMu.Unlock()
	if err := d.mkdir(); err != nil {
		return err
	}
	d.journals.replaced = append(d.journals.replaced, pending{path: d.journalPath(origin), text: data})
	return nil
}

// SyncJournals makes every journal write since the last call last: the
// appended files synced (or the file system, when they are many), then
// the replacements written as last good copies are.
func (d *Dir) SyncJournals() error {
	d.journalMu.Lock()
	defer d.journalMu.Unlock()
	w := d.journals
	d.journals = journalWrites{made: w.made}
	var errs []error
	if len(w.appended) > syncEachUpTo {
		errs = append(errs, syncFS(filepath.Join(d.path, journalsDir), nil))
	}
	for _, f := range w.appended {
		if len(w.appended) <= syncEachUpTo {
			errs = append(errs, f.Sync())
		}
		errs = append(errs, f.Close())
	}
	if len(w.appended) > 0 {
		errs = append(errs, syncDir(filepath.Join(d.path, journalsDir)))
	}
	errs = append(errs, writeAll(w.replaced))
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("state: ixfr journals: %w", err)
	}
	return nil
}
