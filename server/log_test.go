package server

import (
	"log/slog"
	"testing"

	"github.com/mxdns/mxdns/internal/dnstest"
)

// testLogger sends server logs to the test's log, shown on failure or -v.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(p))
	return len(p), nil
}

// syncBuffer collects log output from several goroutines.
type syncBuffer = dnstest.LogBuffer
