package server

import (
	"context"
	"testing"

	"github.com/fsnotify/fsnotify"
)

// An overflow means events were dropped, possibly for a served file: the
// watcher must reload without waiting for another edit.
func TestWatchOverflowReloads(t *testing.T) {
	s, _, reloads := startServer(t, testConfig)
	w, err := s.Watch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()

	w.fs.Errors <- fsnotify.ErrEventOverflow
	waitReload(t, reloads, func(res ReloadResult) bool {
		if res.Err != nil {
			t.Fatalf("reload: %v", res.Err)
		}
		return true
	})
}
