package transport

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mxdns/mxdns/server/answer"
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

// connLimit is the TCP connection count shared by every listener, in
// all and per client prefix.
type connLimit struct {
	active    atomic.Int64
	max       atomic.Int64 // tcp_max_conns of the configuration in service
	perSource atomic.Int64 // tcp_max_conns_per_source
	c         *answer.Counters

	mu       sync.Mutex
	bySource map[netip.Prefix]int // open connections of each client prefix
}

// sourceOf is the prefix a client's connections are counted under: /24
// for IPv4 and /56 for IPv6, as rate limiting groups clients, so that
// one host, or one network of them, cannot take every slot.
func sourceOf(a net.Addr) netip.Prefix {
	addr, ok := answer.AddrOf(a)
	if !ok {
		return netip.Prefix{}
	}
	bits := 24
	if addr.Is6() {
		bits = 56
	}
	p, _ := addr.Prefix(bits)
	return p
}

// take claims a slot for a connection from src, if both the total and
// src's share allow it.
func (l *connLimit) take(src netip.Prefix) bool {
	if l.active.Add(1) > l.max.Load() {
		l.active.Add(-1)
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if n := l.perSource.Load(); n > 0 && int64(l.bySource[src]) >= n {
		l.active.Add(-1)
		return false
	}
	if l.bySource == nil {
		l.bySource = make(map[netip.Prefix]int)
	}
	l.bySource[src]++
	return true
}

// give returns the slot take claimed for src.
func (l *connLimit) give(src netip.Prefix) {
	l.mu.Lock()
	if l.bySource[src]--; l.bySource[src] <= 0 {
		delete(l.bySource, src) // the map holds only sources with connections
	}
	l.mu.Unlock()
	l.active.Add(-1)
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
		src := sourceOf(c.RemoteAddr())
		if !l.lim.take(src) {
			l.lim.c.TCPRejected.Add(1)
			if tc, ok := c.(*net.TCPConn); ok {
				tc.SetLinger(0)
			}
			c.Close()
			continue
		}
		return &countedConn{Conn: c, lim: l.lim, src: src}, nil
	}
}

// countedConn gives its slot back when closed, once.
type countedConn struct {
	net.Conn
	lim  *connLimit
	src  netip.Prefix
	once sync.Once
}

// SyscallConn gives the socket's RawConn, for the raw TCP path
// (tcpconn_linux.go); a connection without one is served through
// net.Conn.
func (c *countedConn) SyscallConn() (syscall.RawConn, error) {
	sc, ok := c.Conn.(syscall.Conn)
	if !ok {
		return nil, errors.ErrUnsupported
	}
	return sc.SyscallConn()
}

func (c *countedConn) Close() error {
	c.once.Do(func() { c.lim.give(c.src) })
	return c.Conn.Close()
}
