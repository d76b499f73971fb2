package server

import (
	"net"
	"net/netip"
	"time"

	"github.com/mxdns/mxdns/server/ops"
)

// Status reports links, zones and reloads: what GET /status shows
// (ops.Provider).
//
// The zones, ten thousand of them on a large server, are listed from the
// state served before mu is taken: a health check's report waits on mu,
// and must not wait for a page.
func (s *Server) Status() ops.Status {
	st := s.state.Load()
	out := ops.Status{Links: []ops.LinkStatus{}, Zones: make([]ops.ZoneStatus, 0, st.Snap.ZoneCount())} // [] rather than null in the JSON
	signed := signedStatus(st)
	updated := s.updatedStatus(time.Now())
	for _, z := range st.Snap.Zones() {
		zs := ops.ZoneStatus{Origin: z.Origin, Serial: z.Serial, File: z.File, Updated: updated[z.Origin]}
		if d, ok := signed[z.Origin]; ok {
			zs.DNSSEC = &d
		}
		out.Zones = append(out.Zones, zs)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, l := range st.Snap.Settings().Links {
		ls := ops.LinkStatus{Name: l.Name, State: "down", Manual: l.State.String(), Why: s.checks.Why(l)}
		if st.Up.Has(i) {
			ls.State = "up"
		}
		if info := s.links[l.Name]; info != nil {
			ls.Since = info.since
		}
		s.linkChecks(&ls, l)
		out.Links = append(out.Links, ls)
	}
	out.Warnings = s.warningStatus()
	out.FilesInError = []ops.FileStatus{}
	for _, f := range st.Snap.Faults() {
		fs := ops.FileStatus{File: f.File, Error: faultText(f), Since: f.Since, Serving: "last good copy"}
		if !f.Serving {
			fs.Serving = "nothing"
		}
		out.FilesInError = append(out.FilesInError, fs)
	}
	rs := s.status
	out.Reload = ops.ReloadInfo{
		OK:    !rs.LastSuccess.Before(rs.LastTime),
		Count: rs.Count, Failures: rs.Failures,
		LastTime: rs.LastTime, LastSuccess: rs.LastSuccess,
	}
	if rs.LastError != nil {
		out.Reload.LastError = rs.LastError.Error()
	}
	return out
}

// AdminAllow is the admin_allow of the configuration in service
// (ops.Provider).
func (s *Server) AdminAllow() []netip.Prefix {
	return s.state.Load().Snap.Settings().AdminAllow
}

// AdminAddr returns where the admin server listens, or nil when it is off.
func (s *Server) AdminAddr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.admin == nil {
		return nil
	}
	return s.admin.Addr()
}

// syncAdmin starts, moves or stops the admin server to match addr. A new
// address is bound before the old server stops, so a failed bind leaves
// the old one serving (and is retried at the next reload). Callers hold mu.
func (s *Server) syncAdmin(addr string) error {
	old := s.admin
	if old != nil && old.ConfiguredAddr() == addr {
		return nil
	}
	var next *ops.Admin
	if addr != "" {
		var err error
		if next, err = ops.Start(addr, s, s.MetricsHandler(), s.log); err != nil {
			return err
		}
	}
	s.admin = next
	if old != nil {
		// Close, not Shutdown: a status request in flight may be waiting
		// for mu, which we hold; it fails on its closed connection instead.
		old.Close()
	}
	return nil
}
