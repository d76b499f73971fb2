package server

import (
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mxdns/mxdns/zone"
)

// TCP timeouts (variables so that tests can shorten them). A client has
// tcpIdleTimeout between queries, and tcpReadTimeout to send the first
// query and to finish any query it has started: one that sends a byte of
// the length and stalls (Slowloris) is closed after that.
var (
	tcpReadTimeout  = 2 * time.Second
	tcpIdleTimeout  = 10 * time.Second
	tcpWriteTimeout = 2 * time.Second
)

const headerLen = 12

// connLimit is the TCP connection count shared by every listener.
type connLimit struct {
	active atomic.Int64
	max    atomic.Int64 // tcp_max_conns of the configuration in service
	c      *counters
}

// limitListener closes connections beyond the limit as soon as they are
// accepted: the client sees a reset at once instead of hanging in the
// backlog, and the accept loop keeps draining.
type limitListener struct {
	net.Listener
	lim *connLimit
}

func (l limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.lim.active.Add(1) > l.lim.max.Load() {
			l.lim.active.Add(-1)
			l.lim.c.tcpRejected.Add(1)
			if tc, ok := c.(*net.TCPConn); ok {
				tc.SetLinger(0)
			}
			c.Close()
			continue
		}
		return &countedConn{Conn: c, lim: l.lim}, nil
	}
}

// countedConn gives its slot back when closed, once.
type countedConn struct {
	net.Conn
	lim  *connLimit
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() { c.lim.active.Add(-1) })
	return c.Conn.Close()
}

// initLimits sets up the abuse limits of a new Server.
func (s *Server) initLimits() {
	s.rrl = newLimiter()
	s.conns.c = &s.counters
	s.conns.max.Store(zone.DefaultTCPMaxConns)
}
