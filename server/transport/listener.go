package transport

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"sync"
)

// listener is the UDP sockets and TCP listener of one listen address.
type listener struct {
	addr string // as written in the config
	udp  *udpGroup
	tcp  *tcpServer
	wg   sync.WaitGroup // the TCP accept loop
}

// Addr is where one configured listen address is actually bound.
type Addr struct {
	Listen string   // as written in the config
	UDP    net.Addr // the bound UDP socket
	TCP    net.Addr // the bound TCP listener
}

// Addrs returns the bound addresses, sorted by configured address. With a
// port of 0 in the config, UDP and TCP share the port the kernel picked.
func (s *Listeners) Addrs() []Addr {
	out := make([]Addr, 0, len(s.listeners))
	for _, l := range s.listeners {
		out = append(out, Addr{Listen: l.addr, UDP: l.udp.local, TCP: l.tcp.ln.Addr()})
	}
	slices.SortFunc(out, func(a, b Addr) int { return cmp.Compare(a.Listen, b.Listen) })
	return out
}

// Sync opens the addresses of want not yet served and closes those no
// longer listed; unchanged ones are left alone so no query is lost. All
// new addresses are tried; the errors are joined.
func (s *Listeners) Sync(want []string) error {
	var errs []error
	for _, a := range want {
		if _, ok := s.listeners[a]; ok {
			continue
		}
		l, err := s.openListener(a)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s.listeners[a] = l
		s.log.Info("listening", "listen", a, "udp", l.udp.local.String(), "tcp", l.tcp.ln.Addr().String())
	}
	var gone []*listener
	for a, l := range s.listeners {
		if !slices.Contains(want, a) {
			gone = append(gone, l)
		}
	}
	if len(gone) > 0 {
		if err := s.closeListeners(context.Background(), gone); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Close shuts every listener down and waits for them, or for ctx.
func (s *Listeners) Close(ctx context.Context) error {
	return s.closeListeners(ctx, s.allListeners())
}

func (s *Listeners) allListeners() []*listener {
	out := make([]*listener, 0, len(s.listeners))
	for _, l := range s.listeners {
		out = append(out, l)
	}
	return out
}

// closeListeners shuts ls down concurrently and waits for their goroutines
// (or ctx).
func (s *Listeners) closeListeners(ctx context.Context, ls []*listener) error {
	var (
		wg   sync.WaitGroup
		emu  sync.Mutex
		errs []error
	)
	for _, l := range ls {
		delete(s.listeners, l.addr)
		wg.Go(func() {
			if err := l.close(ctx); err != nil {
				emu.Lock()
				errs = append(errs, fmt.Errorf("close %s: %w", l.addr, err))
				emu.Unlock()
				return
			}
			s.log.Info("stopped listening", "listen", l.addr)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// openListener binds addr over UDP (one reuse-port socket per core, see
// udpbatch_linux.go) and TCP, and starts serving both.
func (s *Listeners) openListener(addr string) (*listener, error) {
	g, ln, err := bindPair(addr, func(a string) (*udpGroup, error) {
		return listenUDPBatch(s, a, udpReaderCount())
	})
	if err != nil {
		return nil, err
	}
	l := &listener{addr: addr, udp: g}
	l.tcp = newTCPServer(s, addr, limitListener{ln, &s.conns}, s.answers)
	l.wg.Go(l.tcp.serve)
	return l, nil
}

func (l *listener) close(ctx context.Context) error {
	done := make(chan error, 1)
	go func() {
		l.udp.close()
		err := l.tcp.close()
		l.wg.Wait()
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// bindPair opens the UDP sockets and the TCP listener of addr on one port.
// With a fixed port TCP binds first: it takes no SO_REUSEPORT, so a second
// server on the same port fails here instead of silently sharing the UDP
// port with the first. With port 0 UDP picks the port and TCP follows,
// retrying when that port is taken for TCP.
func bindPair(addr string, listenUDP func(string) (*udpGroup, error)) (*udpGroup, net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	if port != "0" {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, nil, err
		}
		g, err := listenUDP(addr)
		if err != nil {
			ln.Close()
			return nil, nil, err
		}
		return g, ln, nil
	}
	// A port is taken for TCP by any socket on it, a client's in
	// TIME_WAIT included: after a burst of outgoing connections (a
	// benchmark's ten thousand transfers) most ephemeral ports are, for
	// a minute.
	const tries = 64
	for i := 0; ; i++ {
		g, err := listenUDP(addr)
		if err != nil {
			return nil, nil, err
		}
		taddr := net.JoinHostPort(host, strconv.Itoa(g.local.(*net.UDPAddr).Port))
		ln, err := net.Listen("tcp", taddr)
		if err == nil {
			return g, ln, nil
		}
		g.close()
		if i == tries-1 {
			return nil, nil, err
		}
	}
}
