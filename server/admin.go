package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/mxdns/mxdns/server/health"
)

// Status is what GET /status returns, and what `mxdns status` decodes.
type Status struct {
	Links  []LinkStatus `json:"links"`
	Zones  []ZoneStatus `json:"zones"`
	Reload ReloadInfo   `json:"reload"`
	// Warnings are those of the configuration in service, each logged
	// once when it appeared.
	Warnings []WarningStatus `json:"warnings"`
	// FilesInError lists the files in error and what is served of each.
	FilesInError []FileStatus `json:"files_in_error"`
}

// FileStatus is a file in error.
type FileStatus struct {
	File  string    `json:"file"`
	Error string    `json:"error"`
	Since time.Time `json:"since"` // when it was first seen in error
	// Serving is "last good copy", or "nothing" when no good copy of it
	// is known and none of its zones are served.
	Serving string `json:"serving"`
}

// LinkStatus is one link as the answers see it.
type LinkStatus struct {
	Name      string       `json:"name"`
	State     string       `json:"state"`  // up or down: what the answers use
	Manual    string       `json:"manual"` // the configured state: auto, up or down
	Why       string       `json:"why"`
	Since     time.Time    `json:"since"`
	Check     string       `json:"check,omitempty"` // "tcp 127.0.0.1:2525" or the http URL
	LastCheck *CheckStatus `json:"last_check,omitempty"`
}

// CheckStatus is the latest probe of a link's health check.
type CheckStatus struct {
	Time      time.Time `json:"time"`
	OK        bool      `json:"ok"`
	Result    string    `json:"result"`
	LatencyMS float64   `json:"latency_ms"`
}

// ZoneStatus is one zone served.
type ZoneStatus struct {
	Origin string `json:"origin"`
	Serial uint32 `json:"serial"`
	File   string `json:"file"`
}

// ReloadInfo is the outcome of the latest reload.
type ReloadInfo struct {
	OK          bool      `json:"ok"` // the latest attempt put its configuration into service
	Count       uint64    `json:"count"`
	Failures    uint64    `json:"failures"`
	LastTime    time.Time `json:"last_time"`
	LastSuccess time.Time `json:"last_success"`
	LastError   string    `json:"last_error,omitempty"` // of the latest failed attempt, kept after later successes
}

// Status reports links, zones and reloads.
func (s *Server) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.state.Load()
	out := Status{Links: []LinkStatus{}, Zones: []ZoneStatus{}} // [] rather than null in the JSON
	for i, l := range st.snap.Settings().Links {
		ls := LinkStatus{Name: l.Name, State: "down", Manual: l.State.String(), Why: s.checks.Why(l)}
		if st.up.Has(i) {
			ls.State = "up"
		}
		if info := s.links[l.Name]; info != nil {
			ls.Since = info.since
		}
		if l.Check != nil {
			ls.Check = health.Describe(*l.Check)
			if r, ok := s.checks.Last(l.Name); ok {
				ls.LastCheck = &CheckStatus{Time: r.Time, OK: r.OK, Result: r.Result, LatencyMS: float64(r.Latency.Microseconds()) / 1000}
			}
		}
		out.Links = append(out.Links, ls)
	}
	for _, z := range st.snap.Zones() {
		out.Zones = append(out.Zones, ZoneStatus{Origin: z.Origin, Serial: z.Serial, File: z.File})
	}
	out.Warnings = s.warningStatus()
	out.FilesInError = []FileStatus{}
	for _, f := range st.snap.Faults() {
		fs := FileStatus{File: f.File, Error: faultText(f), Since: f.Since, Serving: "last good copy"}
		if !f.Serving {
			fs.Serving = "nothing"
		}
		out.FilesInError = append(out.FilesInError, fs)
	}
	rs := s.status
	out.Reload = ReloadInfo{
		OK:    !rs.LastSuccess.Before(rs.LastTime),
		Count: rs.Count, Failures: rs.Failures,
		LastTime: rs.LastTime, LastSuccess: rs.LastSuccess,
	}
	if rs.LastError != nil {
		out.Reload.LastError = rs.LastError.Error()
	}
	return out
}

// adminMux holds every admin endpoint; another one (e.g. /metrics) is one
// more Handle line here.
func (s *Server) adminMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", s.serveStatus)
	mux.Handle("GET /metrics", s.MetricsHandler())
	return mux
}

func (s *Server) serveStatus(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(s.Status()); err != nil {
		s.log.Debug("admin: write status", "err", err)
	}
}

// adminServer is the running admin HTTP server.
type adminServer struct {
	addr string // as configured
	ln   net.Listener
	http *http.Server
	done chan struct{}
}

// AdminAddr returns where the admin server listens, or nil when it is off.
func (s *Server) AdminAddr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.admin == nil {
		return nil
	}
	return s.admin.ln.Addr()
}

// syncAdmin starts, moves or stops the admin server to match addr. A new
// address is bound before the old server stops, so a failed bind leaves
// the old one serving (and is retried at the next reload). Callers hold mu.
func (s *Server) syncAdmin(addr string) error {
	old := s.admin
	if old != nil && old.addr == addr {
		return nil
	}
	var next *adminServer
	if addr != "" {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("admin: %w", err)
		}
		ln = &capListener{Listener: ln, max: adminMaxConns} // adminguard.go
		next = &adminServer{addr: addr, ln: ln, done: make(chan struct{}), http: s.newAdminHTTP()}
		go func() {
			defer close(next.done)
			if err := next.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Error("admin", "listen", addr, "err", err)
			}
		}()
		s.log.Info("admin listening", "listen", addr, "addr", ln.Addr().String())
	}
	s.admin = next
	if old != nil {
		// Close, not close's Shutdown: a status request in flight may be
		// waiting for mu, which we hold; it fails on its closed connection
		// instead.
		if err := old.http.Close(); err != nil {
			s.log.Warn("admin: close", "listen", old.addr, "err", err)
		}
		<-old.done
		s.log.Info("admin stopped", "listen", old.addr)
	}
	return nil
}

// close stops the server, letting requests in flight finish unless ctx
// ends first, when they are cut. Callers must not hold mu: a status
// request in flight may be waiting for it.
func (a *adminServer) close(ctx context.Context) error {
	err := a.http.Shutdown(ctx)
	if err != nil {
		err = errors.Join(err, a.http.Close())
	}
	<-a.done // Serve returns as soon as its listener is closed
	return err
}
