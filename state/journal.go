package state

import (
	"bufio"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"github.com/mxdns/mxdns/zone"
)

// journal keeps serials as lines appended to a file, "origin serial
// digest", the last line for an origin winning. An edit appends one line
// and syncs it, where rewriting the serials of ten thousand zones would
// cost each save milliseconds. When the journal holds many times more lines
// than zones it is rewritten whole, atomically.
type journal struct {
	path  string
	f     *os.File
	last  map[string]zone.SerialRecord
	lines int
}

func openJournal(path string) (*journal, error) {
	j := &journal{path: path, last: map[string]zone.SerialRecord{}}
	f, err := os.Open(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("state: %w", err)
	default:
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			// A line cut by a crash while it was appended does not
			// parse, and is passed over.
			if origin, r, ok := parseSerialLine(sc.Text()); ok {
				j.last[origin] = r
				j.lines++
			}
		}
		err := sc.Err()
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("state: %s: %w", path, err)
		}
	}
	if err := j.reopen(); err != nil {
		return nil, err
	}
	return j, nil
}

func (j *journal) reopen() error {
	if j.f != nil {
		j.f.Close()
	}
	f, err := os.OpenFile(j.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("state: %w", err)
	}
	j.f = f
	return nil
}

func (j *journal) close() error {
	if j.f == nil {
		return nil
	}
	err := j.f.Close()
	j.f = nil
	return err
}

func parseSerialLine(line string) (string, zone.SerialRecord, bool) {
	f := strings.Fields(line)
	var r zone.SerialRecord
	if len(f) != 3 {
		return "", r, false
	}
	n, err := strconv.ParseUint(f[1], 10, 32)
	h, herr := hex.DecodeString(f[2])
	if err != nil || herr != nil || len(h) != len(r.Hash) {
		return "", r, false
	}
	r.Serial = uint32(n)
	copy(r.Hash[:], h)
	return f[0], r, true
}

func serialLine(origin string, r zone.SerialRecord) string {
	return origin + " " + strconv.FormatUint(uint64(r.Serial), 10) + " " + hex.EncodeToString(r.Hash[:]) + "\n"
}

// record appends the serials that changed and syncs them.
func (j *journal) record(serials map[string]zone.SerialRecord) error {
	var b strings.Builder
	n := 0
	for origin, r := range serials {
		if old, ok := j.last[origin]; ok && old == r {
			continue
		}
		if strings.ContainsAny(origin, " \n") {
			continue
		}
		b.WriteString(serialLine(origin, r))
		n++
	}
	if n == 0 {
		return nil
	}
	if j.f == nil {
		if err := j.reopen(); err != nil {
			return err
		}
	}
	if _, err := j.f.WriteString(b.String()); err != nil {
		return fmt.Errorf("state: %w", err)
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("state: %w", err)
	}
	for origin, r := range serials {
		if !strings.ContainsAny(origin, " \n") {
			j.last[origin] = r
		}
	}
	j.lines += n
	if j.lines > 4*len(j.last)+1000 {
		return j.compact()
	}
	return nil
}

// compact rewrites the journal with one line per zone.
func (j *journal) compact() error {
	var b strings.Builder
	for origin, r := range j.last {
		b.WriteString(serialLine(origin, r))
	}
	if err := writeAll([]pending{{path: j.path, text: []byte(b.String())}}); err != nil {
		return err
	}
	j.lines = len(j.last)
	return j.reopen()
}
