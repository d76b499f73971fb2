package health

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/mxdns/mxdns/zone"
)

// fileDebounce lets the events of one save (a write and a rename) settle
// into one probe.
const fileDebounce = 10 * time.Millisecond

// fileProbe reads the state another monitor writes: "up" or "down". The
// file's directory is watched, as zone files are, so that a change is
// probed at once; it is read again every interval too, which covers a
// directory that could not be watched (yet). What the file holds is
// never shown: it could be anything, a secret included.
func fileProbe(ctx context.Context, spec zone.Check, wg *sync.WaitGroup) (func(context.Context) outcome, <-chan struct{}) {
	wake := make(chan struct{}, 1)
	wg.Go(func() { watchFile(ctx, spec.File, wake) })
	return func(context.Context) outcome { return readState(spec.File) }, wake
}

func readState(path string) outcome {
	what := "file " + path
	// Only a regular file: opening a FIFO would block past the probe's
	// timeout, and hold a goroutine for good.
	if fi, err := os.Stat(path); err != nil {
		return outcome{result: what + ": " + fileError(err)}
	} else if !fi.Mode().IsRegular() {
		return outcome{result: what + ": not a regular file"}
	}
	f, err := os.Open(path)
	if err != nil {
		return outcome{result: what + ": " + fileError(err)}
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 64))
	if err != nil {
		return outcome{result: what + ": " + fileError(err)}
	}
	switch strings.ToLower(strings.TrimSpace(string(b))) {
	case "up":
		return outcome{ok: true, result: what + ": up"}
	case "down":
		return outcome{result: what + ": down"}
	case "":
		return outcome{result: what + ": empty; want up or down"}
	}
	return outcome{result: fmt.Sprintf("%s: want up or down, found something else (not shown)", what)}
}

func fileError(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return err.Error()
}

// watchFile signals wake when an event names path, until ctx ends. A
// directory that cannot be watched is tried again every few seconds.
func watchFile(ctx context.Context, path string, wake chan<- struct{}) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return // the interval still reads the file
	}
	defer w.Close()
	dir := filepath.Dir(path)
	retry := time.NewTicker(5 * time.Second)
	defer retry.Stop()
	watching := w.Add(dir) == nil
	debounce := time.NewTimer(time.Hour)
	debounce.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-retry.C:
			if !watching {
				if watching = w.Add(dir) == nil; watching {
					debounce.Reset(fileDebounce) // it may have changed unseen
				}
			}
		case ev, ok := <-w.Events:
			if !ok {
				return
			}
			if filepath.Clean(ev.Name) == path || ev.Name == dir {
				debounce.Reset(fileDebounce)
			}
			if ev.Name == dir && ev.Has(fsnotify.Remove|fsnotify.Rename) {
				watching = false
			}
		case <-w.Errors:
		case <-debounce.C:
			select {
			case wake <- struct{}{}:
			default: // a probe is already asked for
			}
		}
	}
}
