// Package ops serves the admin endpoint: GET /status, the JSON of what a
// Provider reports, GET /, the same and more as a page for people
// (page.go), and GET /metrics, the handler it is given, to loopback and
// admin_allow clients only, with timeouts and a connection
// cap. It knows nothing of the server whose status it shows.
package ops

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
)

// Provider is what the admin endpoint shows and whom it lets in.
type Provider interface {
	// Status is called for every GET /status.
	Status() Status
	// AdminAllow is the admin_allow of the configuration in service,
	// read per request so that a reload changes it at once.
	AdminAllow() []netip.Prefix
	// Mail lists the mail domains whose name holds filter ("": every
	// one), those with a record withdrawn first, at most limit of them,
	// and how many matched: the status page's mail table.
	Mail(filter string, limit int) (domains []MailDomain, matched int)
	// History is what the status page remembers; nil keeps nothing.
	History() *History
}

// Admin is a running admin HTTP server.
type Admin struct {
	addr string // as configured
	log  *slog.Logger
	ln   net.Listener
	http *http.Server
	done chan struct{}
}

// Start binds addr and serves the status of p and metrics on it.
func Start(addr string, p Provider, metrics http.Handler, log *slog.Logger) (*Admin, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("admin: %w", err)
	}
	ln = &capListener{Listener: ln, max: adminMaxConns} // guard.go
	a := &Admin{addr: addr, log: log, ln: ln, done: make(chan struct{}), http: newHTTP(p, mux(p, metrics, log))}
	go func() {
		defer close(a.done)
		if err := a.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("admin", "listen", addr, "err", err)
		}
	}()
	log.Info("admin listening", "listen", addr, "addr", ln.Addr().String())
	return a, nil
}

// mux holds every admin endpoint; another one is one more Handle line.
func mux(p Provider, metrics http.Handler, log *slog.Logger) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(p.Status()); err != nil {
			log.Debug("admin: write status", "err", err)
		}
	})
	mux.Handle("GET /metrics", metrics)
	mux.Handle("GET /{$}", pageHandler(p, log))
	return mux
}

// ConfiguredAddr is the address a was started with, as configured.
func (a *Admin) ConfiguredAddr() string { return a.addr }

// Addr is where a listens.
func (a *Admin) Addr() net.Addr { return a.ln.Addr() }

// Close stops a at once, cutting requests in flight, and waits for it.
// It suits a caller holding a lock that a status request in flight may
// be waiting for: that request fails on its closed connection instead.
func (a *Admin) Close() {
	if err := a.http.Close(); err != nil {
		a.log.Warn("admin: close", "listen", a.addr, "err", err)
	}
	<-a.done
	a.log.Info("admin stopped", "listen", a.addr)
}

// Shutdown stops a, letting requests in flight finish unless ctx ends
// first, when they are cut. Callers must not hold a lock that Status
// takes.
func (a *Admin) Shutdown(ctx context.Context) error {
	err := a.http.Shutdown(ctx)
	if err != nil {
		err = errors.Join(err, a.http.Close())
	}
	<-a.done // Serve returns as soon as its listener is closed
	return err
}
