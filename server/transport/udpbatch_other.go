//go:build !linux

package transport

import (
	"errors"
	"net"
	"net/netip"
	"sync"

	"github.com/mxdns/mxdns/server/answer"
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

func listenUDPBatch(srv *Listeners, addr string, _ int) (*udpGroup, error) {
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

func (p *netPeer) Addr() netip.Addr {
	a, _ := netip.AddrFromSlice(p.from.IP)
	return a.Unmap()
}
func (p *netPeer) RemoteAddr() net.Addr { return p.from }
func (p *netPeer) LocalAddr() net.Addr  { return p.local }

func (g *udpGroup) serve(srv *Listeners) {
	buf := make([]byte, 4096)
	out := make([]byte, 0, 4096)
	var p netPeer
	req := answer.Request{Listen: g.addr, Peer: &p}
	for {
		n, from, err := g.pc.ReadFrom(buf)
		if errors.Is(err, net.ErrClosed) {
			return // by close
		}
		if err != nil {
			continue
		}
		p = netPeer{from: from.(*net.UDPAddr), local: g.local}
		req.Query, req.Out = buf[:n], out
		req.Rotate++
		if reply, _ := srv.answers.Answer(srv.state(), &req); len(reply) > 0 {
			g.pc.WriteTo(reply, from)
		}
	}
}

// close ends the reader by closing its socket: its read fails at once.
func (g *udpGroup) close() {
	g.pc.Close()
	g.wg.Wait()
}
