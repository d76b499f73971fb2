package ops

import (
	"net"
	"net/http"
	"net/netip"
	"sync/atomic"
	"time"
)

// The admin endpoint shows every zone, link and file in error, so it
// answers only loopback clients and those admin_allow names (the
// configuration insists on the list when admin is not a loopback
// address), and no client can hold it open: idle and read timeouts, and
// a cap on connections (variables so that tests can shorten them).
var (
	adminReadHeaderTimeout = 5 * time.Second
	adminReadTimeout       = 10 * time.Second
	adminWriteTimeout      = 30 * time.Second
	adminIdleTimeout       = 60 * time.Second
	adminMaxConns          = 64
)

// newHTTP is the admin HTTP server with its timeouts and guard.
func newHTTP(p Provider, h http.Handler) *http.Server {
	return &http.Server{
		Handler:           guard(p, h),
		ReadHeaderTimeout: adminReadHeaderTimeout,
		ReadTimeout:       adminReadTimeout,
		WriteTimeout:      adminWriteTimeout,
		IdleTimeout:       adminIdleTimeout,
	}
}

// guard answers 403 to a client that is neither loopback nor in
// admin_allow of the configuration in service, read per request so that
// a reload changes it at once.
func guard(p Provider, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ap, err := netip.ParseAddrPort(r.RemoteAddr)
		client := ap.Addr().Unmap()
		if err != nil || !client.IsLoopback() && !inPrefixes(client, p.AdminAllow()) {
			http.Error(w, "forbidden: not in admin_allow", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func inPrefixes(a netip.Addr, list []netip.Prefix) bool {
	for _, p := range list {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// capListener closes connections beyond max as soon as they are
// accepted, so held connections cannot pile up (1,000 kept-alive ones
// took 124 MB before).
type capListener struct {
	net.Listener
	max    int
	active atomic.Int64
}

func (l *capListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.active.Add(1) > int64(l.max) {
			l.active.Add(-1)
			c.Close()
			continue
		}
		return &capConn{Conn: c, l: l}, nil
	}
}

type capConn struct {
	net.Conn
	l      *capListener
	closed atomic.Bool
}

func (c *capConn) Close() error {
	if c.closed.CompareAndSwap(false, true) {
		c.l.active.Add(-1)
	}
	return c.Conn.Close()
}
