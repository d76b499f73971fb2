//go:build linux

package transport

import (
	"net"
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/mxdns/mxdns/server/answer"
)

// mmsghdr is struct mmsghdr from <sys/socket.h>.
type mmsghdr struct {
	hdr unix.Msghdr
	len uint32
	_   [4]byte
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
	// put in the Peer interface would cost an allocation a query. One
	// serves the whole batch, as nothing keeps it past its datagram; req,
	// which points to it, likewise.
	peer datagramPeer
	req  answer.Request
}

func newBatch(listen string) *batch {
	b := new(batch)
	b.req.Listen, b.req.Peer = listen, &b.peer
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

// answerBatch answers the n datagrams read into b, leaving the replies
// ready in b.out, and returns how many there are. It allocates nothing
// for a query the answer cache holds (udpbatch_linux_test.go).
func (r *udpReader) answerBatch(st *answer.State, b *batch, n int, rotate *uint32) int {
	k := 0
	for i := 0; i < n; i++ {
		if b.in[i].hdr.Flags&unix.MSG_TRUNC != 0 {
			continue
		}
		*rotate++
		b.peer = datagramPeer{name: &b.names[i], local: r.local}
		b.req.Query, b.req.Rotate, b.req.Out = b.bufs[i][:b.in[i].len], *rotate, b.reply[k]
		reply, _ := r.srv.answers.Answer(st, &b.req)
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

func (p *datagramPeer) LocalAddr() net.Addr { return p.local }

// Addr is the peer's IP address, without allocating.
func (p *datagramPeer) Addr() netip.Addr {
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

// RemoteAddr is the peer as a net.Addr, for the general path.
func (p *datagramPeer) RemoteAddr() net.Addr {
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
	return net.UDPAddrFromAddrPort(netip.AddrPortFrom(p.Addr(), uint16(b[0])<<8|uint16(b[1])))
}
