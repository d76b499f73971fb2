//go:build linux

package server

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The batched UDP reader leaves Go's netpoller: each socket is read by one
// goroutine locked to its thread, blocking in recvmmsg for up to a batch
// of queries and answering them with one sendmmsg. That halves the
// syscalls per query and skips the poller's wake-ups, which is what it
// takes for a Go server to keep up with Knot and NSD. One SO_REUSEPORT
// socket per core lets the kernel spread clients over the readers.

const (
	udpBatch    = 64
	udpQueryMax = 4096 // larger datagrams are not queries we answer
	udpReplyCap = 4096 // grows when a reply needs more
)

// Receive coalescing, as a network card moderates its interrupts: once
// queries come faster than one per wake-up, the reader waits a moment
// after answering a batch, so that the next read takes many queries at
// once. Waking up costs more than answering (a system call is about 1 µs
// on a virtual machine, a wake-up several), so under load this cuts the
// CPU per answer by a fifth or more, for at most coalesceWait of extra
// latency. A lone query (n = 1) is answered without any wait, and a full
// batch means queries are already waiting, so neither waits.
const coalesceWait = 200 * time.Microsecond

// coalesceSleep is coalesceWait for nanosleep, made once, not per batch.
var coalesceSleep = unix.NsecToTimespec(int64(coalesceWait))

// waitAfter is how long a reader pauses after answering a batch of n.
func waitAfter(n int) time.Duration {
	if n >= 2 && n < udpBatch {
		return coalesceWait
	}
	return 0
}

// A reader waits in the kernel holding its P (see serve), so every
// reader brings a P of its own: GOMAXPROCS is the number of cores the
// process may use plus the readers running, and the rest of the server
// (TCP, health checks, the admin endpoint, the GC) keeps its cores.
var procs struct {
	sync.Mutex
	cores, readers int
}

// udpReaderCount is how many reuse-port sockets, each with a reader,
// every listen address gets: one per core.
func udpReaderCount() int {
	procs.Lock()
	defer procs.Unlock()
	if procs.cores == 0 {
		procs.cores = runtime.GOMAXPROCS(0)
	}
	return procs.cores
}

func addReaders(n int) {
	procs.Lock()
	defer procs.Unlock()
	if procs.cores == 0 {
		procs.cores = runtime.GOMAXPROCS(0)
	}
	procs.readers += n
	runtime.GOMAXPROCS(procs.cores + procs.readers)
}

// mmsghdr is struct mmsghdr from <sys/socket.h>.
type mmsghdr struct {
	hdr unix.Msghdr
	len uint32
	_   [4]byte
}

// udpGroup is the SO_REUSEPORT sockets of one listen address.
type udpGroup struct {
	local   net.Addr
	readers []*udpReader
	wg      sync.WaitGroup
}

type udpReader struct {
	fd    int
	srv   *Server
	addr  string
	local net.Addr
	stop  atomic.Bool
}

// listenUDPBatch opens n reuse-port sockets on addr (port 0 picks one port
// for all) and starts a reader on each.
func listenUDPBatch(srv *Server, addr string, n int) (*udpGroup, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		// A host name, or no host at all (every address, both families).
		ua, rerr := net.ResolveUDPAddr("udp", addr)
		if rerr != nil {
			return nil, fmt.Errorf("listen udp %s: %w", addr, rerr)
		}
		ap = ua.AddrPort()
		if ua.IP == nil {
			ap = netip.AddrPortFrom(netip.IPv6Unspecified(), ap.Port())
		}
	}
	g := new(udpGroup)
	for i := 0; i < n; i++ {
		fd, bound, err := reusePortSocket(ap)
		if err != nil {
			g.closeFDs()
			return nil, fmt.Errorf("listen udp %s: %w", addr, err)
		}
		if i == 0 {
			ap = bound // the others join the port the first one got
			g.local = net.UDPAddrFromAddrPort(bound)
		}
		g.readers = append(g.readers, &udpReader{fd: fd, srv: srv, addr: addr})
	}
	addReaders(len(g.readers))
	for _, r := range g.readers {
		r.local = g.local
		g.wg.Go(r.serve)
	}
	return g, nil
}

func reusePortSocket(ap netip.AddrPort) (int, netip.AddrPort, error) {
	family := unix.AF_INET6
	if ap.Addr().Is4() {
		family = unix.AF_INET
	}
	fd, err := unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.IPPROTO_UDP)
	if err != nil {
		return -1, ap, err
	}
	fail := func(err error) (int, netip.AddrPort, error) {
		unix.Close(fd)
		return -1, ap, err
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); err != nil {
		return fail(err)
	}
	// A deep receive queue absorbs bursts while a batch is being answered;
	// the kernel caps it at net.core.rmem_max.
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 4<<20)
	// The reader wakes up at least this often: to notice a shutdown, and
	// to let a stop-the-world pause that caught it waiting go ahead.
	tv := unix.Timeval{Usec: 20_000}
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return fail(err)
	}
	var sa unix.Sockaddr
	if family == unix.AF_INET {
		sa = &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
	} else {
		if ap.Addr().IsUnspecified() {
			_ = unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 0)
		}
		sa = &unix.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}
	}
	if err := unix.Bind(fd, sa); err != nil {
		return fail(err)
	}
	got, err := unix.Getsockname(fd)
	if err != nil {
		return fail(err)
	}
	switch got := got.(type) {
	case *unix.SockaddrInet4:
		return fd, netip.AddrPortFrom(netip.AddrFrom4(got.Addr), uint16(got.Port)), nil
	case *unix.SockaddrInet6:
		return fd, netip.AddrPortFrom(netip.AddrFrom16(got.Addr), uint16(got.Port)), nil
	}
	return fail(errors.New("unexpected socket address family"))
}

// close stops the readers, waits for them, and closes the sockets.
func (g *udpGroup) close() {
	for _, r := range g.readers {
		r.stop.Store(true)
	}
	g.wg.Wait()
	addReaders(-len(g.readers))
	g.closeFDs()
}

func (g *udpGroup) closeFDs() {
	for _, r := range g.readers {
		unix.Close(r.fd)
	}
}

// batch is a reader's buffers, on the heap so that the kernel's pointers
// into them stay valid wherever the goroutine's stack moves.
type batch struct {
	in     [udpBatch]mmsghdr
	out    [udpBatch]mmsghdr
	iovIn  [udpBatch]unix.Iovec
	iovOut [udpBatch]unix.Iovec
	names  [udpBatch]unix.RawSockaddrAny
	bufs   [udpBatch][]byte
	reply  [udpBatch][]byte
	// peer is passed to the answer path by pointer: a datagramPeer value
	// put in the peer interface would cost an allocation a query. One
	// serves the whole batch, as nothing keeps it past its datagram.
	peer datagramPeer
	q    wireQuery
}

func newBatch() *batch {
	b := new(batch)
	for i := range b.in {
		b.bufs[i] = make([]byte, udpQueryMax)
		b.reply[i] = make([]byte, 0, udpReplyCap)
		b.iovIn[i].Base = &b.bufs[i][0]
		b.iovIn[i].SetLen(udpQueryMax)
		b.in[i].hdr.Name = (*byte)(unsafe.Pointer(&b.names[i]))
		b.in[i].hdr.Iov = &b.iovIn[i]
		b.in[i].hdr.SetIovlen(1)
	}
	return b
}

// serve reads and answers until stopped. recvmmsg and sendmmsg are raw
// system calls: the runtime does not hand this thread's P to another
// thread each time it waits, which (with sysmon waking to do so) cost
// more than the DNS work itself. The wait is bounded by SO_RCVTIMEO, and
// a preemption signal interrupts it (EINTR), so the GC never waits on a
// reader for long.
func (r *udpReader) serve() {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b := newBatch()
	var rotate uint32
	for !r.stop.Load() {
		for i := range b.in {
			b.in[i].hdr.Namelen = unix.SizeofSockaddrAny
			b.in[i].hdr.Flags = 0
		}
		n, _, errno := unix.RawSyscall6(unix.SYS_RECVMMSG, uintptr(r.fd), uintptr(unsafe.Pointer(&b.in[0])), udpBatch, unix.MSG_WAITFORONE, 0, 0)
		if errno != 0 {
			if errno != unix.EAGAIN && errno != unix.EINTR && !r.stop.Load() {
				r.srv.log.Warn("udp receive", "listen", r.addr, "err", errno)
			}
			// Timed out, or interrupted: a preemption signal does that.
			// Raw calls are invisible to the scheduler, so pass through
			// an ordinary system call, which runs whatever the GC has
			// asked of this P and yields to a stop-the-world.
			unix.Syscall(unix.SYS_GETPID, 0, 0, 0)
			continue
		}
		k := r.answerBatch(r.srv.state.Load(), b, int(n), &rotate)
		for sent := 0; sent < k; {
			m, _, errno := unix.RawSyscall6(unix.SYS_SENDMMSG, uintptr(r.fd), uintptr(unsafe.Pointer(&b.out[sent])), uintptr(k-sent), 0, 0, 0)
			if errno == unix.EINTR {
				continue
			}
			if errno != 0 {
				// One bad destination fails the call: skip it, send the rest.
				sent++
				continue
			}
			sent += int(m)
		}
		if waitAfter(int(n)) > 0 {
			// Raw, like the reads: the runtime need not know, and a
			// stop-the-world waits at most this long for it.
			unix.RawSyscall(unix.SYS_NANOSLEEP, uintptr(unsafe.Pointer(&coalesceSleep)), 0, 0)
		}
	}
}

// answerBatch answers the n datagrams read into b, leaving the replies
// ready in b.out, and returns how many there are. It allocates nothing
// for a query the answer cache holds (udpbatch_linux_test.go).
func (r *udpReader) answerBatch(st *state, b *batch, n int, rotate *uint32) int {
	var at arrival
	k := 0
	for i := 0; i < n; i++ {
		if b.in[i].hdr.Flags&unix.MSG_TRUNC != 0 {
			continue
		}
		query := b.bufs[i][:b.in[i].len]
		if !r.srv.worthAnswer(query) {
			continue
		}
		*rotate++
		b.peer = datagramPeer{name: &b.names[i], local: r.local}
		reply := r.srv.answerDatagram(st, query, r.addr, &at, *rotate, &b.peer, &b.q, b.reply[k])
		if len(reply) == 0 {
			continue
		}
		if cap(reply) > cap(b.reply[k]) {
			b.reply[k] = reply[:0]
		}
		b.iovOut[k].Base = &reply[0]
		b.iovOut[k].SetLen(len(reply))
		b.out[k].hdr = unix.Msghdr{Name: b.in[i].hdr.Name, Namelen: b.in[i].hdr.Namelen, Iov: &b.iovOut[k]}
		b.out[k].hdr.SetIovlen(1)
		k++
	}
	return k
}

// datagramPeer is where a datagram came from, as the kernel wrote it.
type datagramPeer struct {
	name  *unix.RawSockaddrAny
	local net.Addr
}

func (p *datagramPeer) localAddr() net.Addr { return p.local }

// addr is the peer's IP address, without allocating.
func (p *datagramPeer) addr() netip.Addr {
	switch p.name.Addr.Family {
	case unix.AF_INET:
		sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(p.name))
		return netip.AddrFrom4(sa.Addr)
	case unix.AF_INET6:
		sa := (*unix.RawSockaddrInet6)(unsafe.Pointer(p.name))
		return netip.AddrFrom16(sa.Addr).Unmap()
	}
	return netip.Addr{}
}

// udpAddr is the peer as a net.Addr, for the general path.
func (p *datagramPeer) udpAddr() net.Addr {
	var port *uint16 // in network byte order
	switch p.name.Addr.Family {
	case unix.AF_INET:
		port = &(*unix.RawSockaddrInet4)(unsafe.Pointer(p.name)).Port
	case unix.AF_INET6:
		port = &(*unix.RawSockaddrInet6)(unsafe.Pointer(p.name)).Port
	default:
		return &net.UDPAddr{}
	}
	b := (*[2]byte)(unsafe.Pointer(port))
	return net.UDPAddrFromAddrPort(netip.AddrPortFrom(p.addr(), uint16(b[0])<<8|uint16(b[1])))
}
