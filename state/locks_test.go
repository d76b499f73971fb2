package state

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/mxdns/mxdns/zone"
)

// A reload records its serials before it serves; the copies of a first
// start with thousands of files take seconds to write. The one must not
// wait for the other: a save made right after start would be served
// seconds late.
func TestSerialsDoNotWaitForCopies(t *testing.T) {
	d, err := Open(filepath.Join(t.TempDir(), "state"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	d.copyMu.Lock() // a SaveCopies in the middle of its writes
	defer d.copyMu.Unlock()

	done := make(chan error, 1)
	go func() {
		done <- d.SaveSerials(map[string]zone.SerialRecord{"b.test.": {Serial: 7}})
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("SaveSerials waited for a copy write in progress")
	}
	if r, ok := d.LastSerial("b.test."); !ok || r.Serial != 7 {
		t.Fatalf("serial kept: %v %v, want 7", r, ok)
	}
}
