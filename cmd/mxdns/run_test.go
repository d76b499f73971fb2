package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mxdns/mxdns/server"
)

func runArgs(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, &out, &errb)
	code = 0
	if err != nil {
		code = 1
		var ee *exitError
		if errors.As(err, &ee) {
			code = ee.code
		}
	}
	return out.String(), errb.String(), code
}

func TestVersion(t *testing.T) {
	out, _, code := runArgs(t, "version")
	if code != 0 || out != "mxdns dev\n" {
		t.Errorf("version: %q, status %d", out, code)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"frobnicate"},
		{"-config", "x.yaml", "check"}, // flags only after the subcommand
		{"check", "-nope"},
		{"serve", "-log-format", "xml"},
		{"serve", "-log-level", "verbose"},
		{"check", "a.yaml", "b.yaml"},
		{"check", "-config", "a.yaml", "b.yaml"},
		{"check", "-format", "xml", "a.yaml"},
		{"version", "extra"},
	} {
		_, stderr, code := runArgs(t, args...)
		if code != 2 || stderr == "" {
			t.Errorf("%q: status %d, stderr %q; want 2 with usage", args, code, stderr)
		}
	}
}

func TestServeStopsOnCancel(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	config := "listen: [\"127.0.0.1:0\"]\nzones:\n  example.com:\n    ns: [ns1]\n    records:\n      ns1: {a: 192.0.2.53}\n"
	if err := os.WriteFile(path, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // serve must start, then see the cancellation and shut down cleanly
	var stderr bytes.Buffer
	if err := run(ctx, []string{"serve", "-config", path, "-state-dir", t.TempDir(), "-log-format", "json"}, &bytes.Buffer{}, &stderr); err != nil {
		t.Fatalf("serve: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), `"msg":"shutting down"`) {
		t.Errorf("log:\n%s", stderr.String())
	}
}

// serveConfig writes config to path and serves it until the test ends.
func serveConfig(t *testing.T, path, config string) *server.Server {
	t.Helper()
	if err := os.WriteFile(path, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := server.New(server.Options{Logger: slog.New(slog.DiscardHandler), ConfigPath: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	return s
}

// TestServeLogLevel: -log-level sets the least severe level written.
func TestServeLogLevel(t *testing.T) {
	path := writeConfig(t, "listen: [\"127.0.0.1:0\"]\nzones:\n  example.com:\n    ns: [ns1]\n    records:\n      ns1: {a: 192.0.2.53}\n")
	for level, want := range map[string]bool{"debug": true, "info": true, "warn": false, "error": false} {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		var stderr bytes.Buffer
		if err := run(ctx, []string{"serve", "-config", path, "-state-dir", t.TempDir(), "-log-level", level}, &bytes.Buffer{}, &stderr); err != nil {
			t.Fatalf("%s: %v\n%s", level, err, stderr.String())
		}
		if got := strings.Contains(stderr.String(), `msg="shutting down"`); got != want {
			t.Errorf("-log-level %s: INFO written %v, want %v:\n%s", level, got, want, stderr.String())
		}
	}
}
