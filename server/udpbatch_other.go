//go:build !linux

package server

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// Without recvmmsg, each listen address gets one socket read through the
// netpoller, one datagram at a time, answered by the same code.

func udpReaderCount() int { return 1 }

type udpGroup struct {
	addr  string
	local net.Addr
	pc    net.PacketConn
	stop  atomic.Bool
	wg    sync.WaitGroup
}

func listenUDPBatch(srv *Server, addr string, _ int, _ dns.Handler) (*udpGroup, error) {
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return nil, err
	}
	g := &udpGroup{addr: addr, local: pc.LocalAddr(), pc: pc}
	g.wg.Go(func() { g.serve(srv) })
	return g, nil
}

type netPeer struct {
	from  *net.UDPAddr
	local net.Addr
}

func (p netPeer) addr() netip.Addr {
	a, _ := netip.AddrFromSlice(p.from.IP)
	return a.Unmap()
}
func (p netPeer) udpAddr() net.Addr   { return p.from }
func (p netPeer) localAddr() net.Addr { return p.local }

func (g *udpGroup) serve(srv *Server) {
	buf := make([]byte, 4096)
	out := make([]byte, 0, 4096)
	var q wireQuery
	var rotate uint32
	for !g.stop.Load() {
		g.pc.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		n, from, err := g.pc.ReadFrom(buf)
		if err != nil || !srv.worthAnswer(buf[:n]) {
			continue
		}
		st := srv.state.Load()
		if st == nil {
			continue // nothing to serve yet
		}
		rotate++
		p := netPeer{from: from.(*net.UDPAddr), local: g.local}
		if reply := srv.answerDatagram(st, buf[:n], g.addr, rotate, p, &q, out); len(reply) > 0 {
			g.pc.WriteTo(reply, from)
		}
	}
}

func (g *udpGroup) close() {
	g.stop.Store(true)
	g.wg.Wait()
	g.pc.Close()
}
