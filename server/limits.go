package server

import (
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/zone"
)

const (
	// udpWorkers bounds the UDP queries in flight, over all listeners.
	// miekg/dns starts a goroutine per datagram; the gate below lets a
	// datagram through only with a free slot and drops it (counted)
	// otherwise, so a flood costs a read and a counter, not a goroutine.
	udpWorkers = 1024

	// tcpMaxQueries: unlimited, as in NSD and BIND. A busy connection is a
	// cheap one (RFC 7766 6.2.1 asks servers to allow many queries per
	// connection); an idle one is closed by tcpIdleTimeout.
	tcpMaxQueries = -1
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

// udpGate hands out the worker slots.
type udpGate struct {
	slots chan struct{}
	c     *counters
}

func newUDPGate(n int, c *counters) *udpGate {
	return &udpGate{slots: make(chan struct{}, n), c: c}
}

// release frees a slot taken in ReadUDP. Every datagram let through ends
// in exactly one release: in the handler, or in MsgInvalidFunc when it
// does not parse (miekg/dns then answers FORMERR itself).
func (g *udpGate) release() {
	select {
	case <-g.slots:
	default:
	}
}

func (g *udpGate) decorate(r dns.Reader) dns.Reader { return gatedReader{Reader: r, g: g} }

type gatedReader struct {
	dns.Reader
	g *udpGate
}

// ReadUDP returns the next datagram worth a worker. Datagrams shorter than
// a header and responses (QR set) are dropped here: answering either
// invites reflection loops and miekg/dns would drop them anyway.
func (r gatedReader) ReadUDP(conn *net.UDPConn, timeout time.Duration) ([]byte, *dns.SessionUDP, error) {
	for {
		m, s, err := r.Reader.ReadUDP(conn, timeout)
		if err != nil {
			return m, s, err
		}
		switch {
		case len(m) < headerLen:
			r.g.c.udpShort.Add(1)
			continue
		case m[2]&0x80 != 0:
			r.g.c.udpResponse.Add(1)
			continue
		}
		select {
		case r.g.slots <- struct{}{}:
			return m, s, nil
		default:
			r.g.c.udpBusy.Add(1)
		}
	}
}

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
	s.gate = newUDPGate(udpWorkers, &s.counters)
	s.conns.c = &s.counters
	s.conns.max.Store(zone.DefaultTCPMaxConns)
}
