//go:build linux

package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The batched UDP reader takes up to a batch of queries with one recvmmsg
// and answers them with one sendmmsg, which halves the system calls per
// query against one read and one write each. Both calls are non-blocking
// (MSG_DONTWAIT) and made inside the socket's RawConn callbacks: when the
// queue is empty the goroutine parks in the netpoller like any other Go
// socket, so a reader never holds a P, a thread or a stop-the-world
// while it waits. One SO_REUSEPORT socket per core lets the kernel spread
// clients over the readers.
//
// There is no pause to coalesce batches. Under load they grow by
// themselves: what arrives while a batch is answered is read at once
// with the next. A timed wait was measured (docs/performance.md) and
// cost more than it saved: a sleep through the runtime keeps sysmon
// waking every 20 µs, one through a raw call holds the P, and the
// netpoller's own timeouts are whole milliseconds.

const (
	udpBatch    = 64
	udpQueryMax = 4096 // larger datagrams are not queries we answer
	udpReplyCap = 4096 // grows when a reply needs more
)

// udpReaderCount is how many reuse-port sockets, each with a reader,
// every listen address gets: one per core the process may use.
func udpReaderCount() int { return runtime.GOMAXPROCS(0) }

// udpGroup is the SO_REUSEPORT sockets of one listen address.
type udpGroup struct {
	local   net.Addr
	readers []*udpReader
	wg      sync.WaitGroup
}

type udpReader struct {
	conn  *net.UDPConn
	rc    syscall.RawConn
	srv   *Listeners
	addr  string
	local net.Addr
	b     *batch
	// The RawConn callbacks, made once: a closure or method value made
	// at each call would be an allocation per batch.
	recvFn, sendFn func(fd uintptr) bool
	sent, queued   int // replies sendmmsg has taken, of queued
	errno          unix.Errno
	rotate         uint32
}

// listenUDPBatch opens n reuse-port sockets on addr (port 0 picks one port
// for all) and starts a reader on each.
func listenUDPBatch(srv *Listeners, addr string, n int) (*udpGroup, error) {
	g := new(udpGroup)
	at := addr
	for i := 0; i < n; i++ {
		conn, err := listenReusePort(at)
		if err != nil {
			g.closeConns()
			return nil, fmt.Errorf("listen udp %s: %w", addr, err)
		}
		if i == 0 {
			g.local = conn.LocalAddr()
			at = g.local.String() // the others join the port the first one got
		}
		r, err := newUDPReader(srv, addr, conn)
		if err != nil {
			conn.Close()
			g.closeConns()
			return nil, fmt.Errorf("listen udp %s: %w", addr, err)
		}
		g.readers = append(g.readers, r)
	}
	for _, r := range g.readers {
		r.local = g.local
		g.wg.Go(r.serve)
	}
	return g, nil
}

// listenReusePort binds one socket of a reuse-port group. An IPv4 address,
// the unspecified one included, gets an IPv4 socket, as written; Go's
// "udp" would make 0.0.0.0 a dual-stack IPv6 socket. No host at all, or
// [::], is both families.
func listenReusePort(addr string) (*net.UDPConn, error) {
	network := "udp"
	if ap, err := netip.ParseAddrPort(addr); err == nil && ap.Addr().Is4() {
		network = "udp4"
	}
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
			// A deep receive queue absorbs bursts while a batch is
			// answered; the kernel caps it at net.core.rmem_max.
			_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, 4<<20)
		})
		return errors.Join(err, serr)
	}}
	pc, err := lc.ListenPacket(context.Background(), network, addr)
	if err != nil {
		return nil, err
	}
	return pc.(*net.UDPConn), nil
}

func newUDPReader(srv *Listeners, addr string, conn *net.UDPConn) (*udpReader, error) {
	rc, err := conn.SyscallConn()
	if err != nil {
		return nil, err
	}
	r := &udpReader{conn: conn, rc: rc, srv: srv, addr: addr, b: newBatch(addr)}
	r.recvFn, r.sendFn = r.recv, r.send
	return r, nil
}

// close stops the readers by closing their sockets, which wakes a parked
// read with net.ErrClosed, and waits for them.
func (g *udpGroup) close() {
	g.closeConns()
	g.wg.Wait()
}

func (g *udpGroup) closeConns() {
	for _, r := range g.readers {
		r.conn.Close()
	}
}

// serve reads and answers until the socket is closed. The work is done
// in the read callback (recv), which returns after a full batch, to wait
// for room in a full send queue, or to report an error.
func (r *udpReader) serve() {
	for {
		r.errno = 0
		if err := r.rc.Read(r.recvFn); err != nil {
			if !errors.Is(err, net.ErrClosed) {
				r.srv.log.Error("udp reader stopped", "listen", r.addr, "err", err)
			}
			return
		}
		if r.errno != 0 && r.errno != unix.EINTR {
			r.srv.log.Warn("udp receive", "listen", r.addr, "err", r.errno)
		}
		for r.sent < r.queued {
			if err := r.rc.Write(r.sendFn); err != nil {
				return // closed
			}
		}
	}
}

// recv is the read callback: it reads a batch, answers it and sends the
// replies. It returns false to wait in the netpoller when the queue is
// empty, and true after a full batch, so that Read returns between the
// batches of a flood and a Close (shutdown, a listen address removed)
// takes effect: Close waits for the callback to give the socket back.
//
// The wait after a short batch stays inside this Read, which saves a
// system call a batch: each Read first forgets any readiness the
// netpoller has seen (pollReset), so a reader that returned after every
// batch had to ask recvmmsg once more to learn the queue was empty. A
// short batch already says so, and the wait follows at once: the sockets
// are edge-triggered, so every datagram queued since raised an event that
// ends it, and a Close ends it too.
func (r *udpReader) recv(fd uintptr) bool {
	b := r.b
	for i := range b.in {
		b.in[i].hdr.Namelen = unix.SizeofSockaddrAny
		b.in[i].hdr.Flags = 0
	}
	n, _, errno := unix.RawSyscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&b.in[0])), udpBatch, unix.MSG_DONTWAIT, 0, 0)
	switch errno {
	case 0:
	case unix.EAGAIN:
		return false
	default:
		r.errno = errno
		return true
	}
	r.queued = r.answerBatch(r.srv.state(), b, int(n), &r.rotate)
	for r.sent = 0; r.sent < r.queued; {
		if !r.send(fd) {
			return true // no room: serve waits for it
		}
	}
	return int(n) == udpBatch
}

// send is the write callback: it sends what it can of the queued replies
// and waits for room only when the socket's send queue is full.
func (r *udpReader) send(fd uintptr) bool {
	b := r.b
	m, _, errno := unix.RawSyscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&b.out[r.sent])), uintptr(r.queued-r.sent), unix.MSG_DONTWAIT, 0, 0)
	switch errno {
	case 0:
		r.sent += int(m)
	case unix.EAGAIN:
		return false
	case unix.EINTR:
	default:
		// One bad destination fails the call: skip it, send the rest.
		r.sent++
	}
	return true
}
