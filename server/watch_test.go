package server

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fsnotify/fsnotify"
	"github.com/miekg/dns"
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

// One broken file never holds back the others (issue #13, failure 9): a
// good save of another file is served while the broken one keeps serving
// its last good version, and the error still names it, whatever is saved
// next (a reload told only what changed must not forget it).
func TestWatchKeepsBrokenFileAcrossSaves(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "zones"), 0o755); err != nil {
		t.Fatal(err)
	}
	zoneText := func(name, addr string) string {
		return "zones:\n  " + name + ":\n    ns: [ns1.example.net.]\n    records:\n      mx1: {a: " + addr + "}\n"
	}
	a, b := filepath.Join(dir, "zones", "a.yaml"), filepath.Join(dir, "zones", "b.yaml")
	writeFile(t, a, zoneText("a.test", "192.0.2.1"))
	writeFile(t, b, zoneText("b.test", "192.0.2.1"))
	s, _, reloads := startServerIn(t, dir, "listen: [\"127.0.0.1:0\"]\nzone_files: [\"zones/*.yaml\"]\n")
	w, err := s.Watch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	mx1 := func(zone string) string {
		got := rdata(exchange(t, s, "udp", "mx1."+zone+".", dns.TypeA))
		if len(got) != 1 {
			t.Fatalf("mx1.%s: %q", zone, got)
		}
		return got[0]
	}

	writeFile(t, a, zoneText("a.test", "not-an-address"))
	waitReload(t, reloads, func(res ReloadResult) bool { return res.Err != nil })
	writeFile(t, b, zoneText("b.test", "192.0.2.2"))
	waitReload(t, reloads, func(res ReloadResult) bool {
		if res.Err == nil || !strings.Contains(res.Err.Error(), a) || !res.Served {
			t.Fatalf("reload after saving b with a still broken: served %v, %v, want a's error", res.Served, res.Err)
		}
		return true
	})
	if got := mx1("b.test"); got != "A 192.0.2.2" {
		t.Errorf("b served %s while a is broken, want its new A 192.0.2.2", got)
	}
	if got := mx1("a.test"); got != "A 192.0.2.1" {
		t.Errorf("a served %s while broken, want its last good A 192.0.2.1", got)
	}
	if f := s.Status().FilesInError; len(f) != 1 || f[0].File != a || f[0].Serving != "last good copy" {
		t.Errorf("status files_in_error = %+v, want a, serving its last good copy", f)
	}

	writeFile(t, a, zoneText("a.test", "192.0.2.2"))
	waitReload(t, reloads, func(res ReloadResult) bool { return res.Err == nil })
	if got, got2 := mx1("a.test"), mx1("b.test"); got != "A 192.0.2.2" || got2 != "A 192.0.2.2" {
		t.Errorf("after the fix: a %s, b %s, want both A 192.0.2.2", got, got2)
	}
}

// A save made while the server was loading, before its directories were
// watched, made no event: the watcher's first reload still serves it.
func TestWatchCatchesSavesBeforeItStarted(t *testing.T) {
	s, path, reloads := startServer(t, testConfig)
	writeFile(t, path, strings.Replace(testConfig, "mx1: {a: 203.0.113.25}", "mx1: {a: 203.0.113.28}", 1))
	w, err := s.Watch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	waitReload(t, reloads, func(res ReloadResult) bool {
		if res.Err != nil {
			t.Fatalf("reload: %v", res.Err)
		}
		got := rdata(exchange(t, s, "udp", "mx1.example.com.", dns.TypeA))
		return len(got) == 1 && got[0] == "A 203.0.113.28"
	})
}

// A configuration named by a relative path, with relative globs, reloads
// on every save, however the path is spelled (issue #13, failure 1: the
// watcher reported ./config.yaml, the snapshot knew config.yaml).
func TestWatchRelativePaths(t *testing.T) {
	for _, spelling := range []string{"config.yaml", "./config.yaml", "sub/../config.yaml"} {
		t.Run(spelling, func(t *testing.T) {
			dir := t.TempDir()
			t.Chdir(dir)
			os.Mkdir("sub", 0o755)
			writeFile(t, "z.yaml", "zones:\n  z.test:\n    ns: [ns1.example.net.]\n    records:\n      mx1: {a: 192.0.2.1}\n")
			writeFile(t, "config.yaml", testConfig+"zone_files: [\"*.yaml\"]\n")
			reloads := make(chan ReloadResult, 16)
			s, err := New(Options{Logger: testLogger(t), ConfigPath: spelling, OnReload: func(r ReloadResult) { reloads <- r }})
			if err != nil {
				t.Fatal(err)
			}
			stopAtCleanup(t, s)
			w, err := s.Watch(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			waitReload(t, reloads, func(res ReloadResult) bool { return true }) // the first, checking every file

			writeFile(t, "config.yaml", strings.Replace(testConfig, "mx1: {a: 203.0.113.25}", "mx1: {a: 203.0.113.28}", 1)+"zone_files: [\"*.yaml\"]\n")
			waitReload(t, reloads, func(res ReloadResult) bool {
				got := rdata(exchange(t, s, "udp", "mx1.example.com.", dns.TypeA))
				return len(got) == 1 && got[0] == "A 203.0.113.28"
			})
			writeFile(t, "z.yaml", "zones:\n  z.test:\n    ns: [ns1.example.net.]\n    records:\n      mx1: {a: 192.0.2.2}\n")
			waitReload(t, reloads, func(res ReloadResult) bool {
				got := rdata(exchange(t, s, "udp", "mx1.z.test.", dns.TypeA))
				return len(got) == 1 && got[0] == "A 192.0.2.2"
			})
		})
	}
}
