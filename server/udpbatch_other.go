//go:build !linux

package server

import (
	"errors"
	"net"
	"net/netip"
	"sync"
)

// Without recvmmsg, each listen address gets one socket read through the
// netpoller, one datagram at a time, answered by the same code.

func udpReaderCount() int { return 1 }

type udpGroup struct {
	addr  string
	local net.Addr
	pc    net.PacketConn
	wg    sync.WaitGroup
}

func listenUDPBatch(srv *Server, addr string, _ int) (*udpGroup, error) {
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
	for {
		n, from, err := g.pc.ReadFrom(buf)
		if errors.Is(err, net.ErrClosed) {
			return // by close
		}
		if err != nil || !srv.worthAnswer(buf[:n]) {
			continue
		}
		st := srv.state.Load()
		rotate++
		p := netPeer{from: from.(*net.UDPAddr), local: g.local}
		if reply := srv.answerDatagram(st, buf[:n], g.addr, new(arrival), rotate, p, &q, out); len(reply) > 0 {
			g.pc.WriteTo(reply, from)
		}
	}
}

// close ends the reader by closing its socket: its read fails at once.
func (g *udpGroup) close() {
	g.pc.Close()
	g.wg.Wait()
}
