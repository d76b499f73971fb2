package state

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// pending is a file to write.
type pending struct {
	path string
	text []byte
}

// syncEachUpTo is the largest batch whose files are synced one by one;
// a larger one (a first start with ten thousand zones, where as many
// fsyncs would keep the disk busy for long) is synced with one syncfs,
// which flushes the whole file system and so costs more than a few
// fsyncs on a busy one.
const syncEachUpTo = 64

// writeAll writes each file atomically: all the temporary files first,
// each synced (or, for a large batch, all with one sync of the file
// system), then the renames, then an fsync of each directory so that the
// renames last.
func writeAll(files []pending) (err error) {
	if len(files) == 0 {
		return nil
	}
	temps := make([]string, 0, len(files))
	defer func() {
		if err != nil {
			for _, t := range temps {
				os.Remove(t)
			}
		}
	}()
	for _, f := range files {
		tmp, err := os.CreateTemp(filepath.Dir(f.path), ".tmp-"+filepath.Base(f.path)+"-*")
		if err != nil {
			return fmt.Errorf("state: %w", err)
		}
		temps = append(temps, tmp.Name())
		_, werr := tmp.Write(f.text)
		if len(files) <= syncEachUpTo {
			werr = errors.Join(werr, tmp.Sync())
		}
		if cerr := tmp.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return fmt.Errorf("state: write %s: %w", f.path, werr)
		}
	}
	if len(files) > syncEachUpTo {
		if err := syncFS(filepath.Dir(files[0].path), temps); err != nil {
			return fmt.Errorf("state: sync: %w", err)
		}
	}
	dirs := map[string]bool{}
	for i, f := range files {
		if err := os.Rename(temps[i], f.path); err != nil {
			return fmt.Errorf("state: %w", err)
		}
		dirs[filepath.Dir(f.path)] = true
	}
	temps = nil
	for dir := range dirs {
		if err := syncDir(dir); err != nil {
			return fmt.Errorf("state: sync %s: %w", dir, err)
		}
	}
	return nil
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
