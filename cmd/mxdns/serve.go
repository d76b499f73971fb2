package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/mxdns/mxdns/server"
	"github.com/mxdns/mxdns/state"
	"github.com/mxdns/mxdns/zone"
)

// shutdownGrace bounds how long in-flight TCP exchanges may finish.
const shutdownGrace = 5 * time.Second

func runServe(ctx context.Context, args []string, stderr io.Writer) error {
	fs := newFlagSet("serve", stderr)
	config := fs.String("config", defaultConfig, "configuration `file`")
	format := fs.String("log-format", "text", "log `format`: text or json")
	level := fs.String("log-level", "info", "least severe log `level` written: debug, info, warn or error")
	stateDir := fs.String("state-dir", "", "`directory` for last good copies and serials (default: state_dir in the config, else $STATE_DIRECTORY, $XDG_STATE_HOME/mxdns or ~/.local/state/mxdns)")
	strict := fs.Bool("strict", false, "refuse to start while any file is in error, rather than serve its last good copy")
	if err := parse(fs, args); err != nil {
		return err
	}
	if os.Getenv("GOGC") == "" {
		// Most of a server's heap is the zone data it serves, which lives
		// from one reload to the next; the default GOGC of 100 lets the
		// heap grow to twice that. With 10,000 zones this keeps the server
		// near 770 MiB across reloads instead of over 1 GiB, for a little
		// more GC work while a reload builds its snapshot.
		debug.SetGCPercent(50)
	}
	lvl, ok := logLevels[*level]
	if !ok {
		fmt.Fprintf(stderr, "mxdns serve: -log-level must be debug, info, warn or error, not %q\n", *level)
		return &exitError{code: 2}
	}
	opts := &slog.HandlerOptions{Level: lvl}
	var h slog.Handler
	switch *format {
	case "text":
		h = slog.NewTextHandler(stderr, opts)
	case "json":
		h = slog.NewJSONHandler(stderr, opts)
	default:
		fmt.Fprintf(stderr, "mxdns serve: -log-format must be text or json, not %q\n", *format)
		return &exitError{code: 2}
	}
	log := slog.New(h)
	sopts := server.Options{Logger: log, ConfigPath: *config, Strict: *strict}
	if err := openState(*stateDir, &sopts); err != nil {
		return err
	}
	return serve(ctx, sopts)
}

// openState opens the state directory the flag, the configuration or the
// environment names. Without one the server still serves, but a file
// broken at start then has no last good copy, and serials are not kept.
// It fills in opts's Keeper and StateDirByFlag.
func openState(flagDir string, opts *server.Options) error {
	log := opts.Logger
	dir := flagDir
	if dir == "" {
		dir = zone.ConfigStateDir(opts.ConfigPath)
	}
	if dir == "" {
		dir = zone.DefaultStateDir()
	}
	if dir == "" {
		log.Warn("no state directory (set -state-dir): last good copies and serials are not kept")
		return nil
	}
	d, err := state.Open(zone.AbsPath(dir))
	if err != nil {
		return fmt.Errorf("%w (set -state-dir or state_dir to a writable directory)", err)
	}
	log.Info("state", "dir", d.Path())
	opts.Keeper, opts.StateDirByFlag = d, flagDir != ""
	return nil
}

var logLevels = map[string]slog.Level{
	"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError,
}

// serve runs the server until ctx ends; SIGHUP reloads the configuration.
func serve(ctx context.Context, opts server.Options) error {
	log, config := opts.Logger, opts.ConfigPath
	// Subscribe before the server exists so an early SIGHUP is not fatal.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	srv, err := server.New(opts)
	var loadErr *zone.LoadError
	switch {
	case errors.As(err, &loadErr):
		return fmt.Errorf("load %s:\n%w", config, err)
	case err != nil:
		return fmt.Errorf("serve %s: %w", config, err)
	}
	w, err := srv.Watch(ctx)
	if err != nil {
		log.Warn("config changes need SIGHUP", "err", err)
	}
	log.Info("serving", "config", config, "version", version)

	for done := false; !done; {
		select {
		case <-ctx.Done():
			done = true
		case <-hup:
			log.Info("SIGHUP, reloading")
			srv.Reload()
		}
	}

	log.Info("shutting down")
	if w != nil {
		w.Close()
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	return srv.Shutdown(sctx)
}
