//go:build !linux

package server

import (
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Without recvmmsg, each listen address gets one socket read through the
// netpoller, one datagram at a time, answered by the same code.

type udpGroup struct {
	addr  string
	local net.Addr
	pc    net.PacketConn
	stop  atomic.Bool
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

func (g *udpGroup) serve(srv *Server) {
	buf := make([]byte, 4096)
	out := make([]byte, 0, 4096)
	var q wireQuery
	var rotate uint32
	for !g.stop.Load() {
		g.pc.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		n, from, err := g.pc.ReadFrom(buf)
		if err != nil {
			continue
		}
		st := srv.state.Load()
		link := st.snap.ListenLink(g.addr)
		rotate++
		if reply := st.answer(buf[:n], link, rotate, true, &q, out); len(reply) > 0 {
			g.pc.WriteTo(reply, from)
		}
	}
}

func (g *udpGroup) close() {
	g.stop.Store(true)
	g.wg.Wait()
	g.pc.Close()
}
