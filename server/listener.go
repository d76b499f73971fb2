package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/zone"
)

// listener is the UDP socket and TCP listener of one listen address.
type listener struct {
	addr     string // as written in the config
	udp, tcp *dns.Server
	wg       sync.WaitGroup // the two serve goroutines
}

// Addr is where one configured listen address is actually bound.
type Addr struct {
	Listen string   // as written in the config
	UDP    net.Addr // the bound UDP socket
	TCP    net.Addr // the bound TCP listener
}

// Addrs returns the bound addresses, sorted by configured address. With a
// port of 0 in the config, UDP and TCP share the port the kernel picked.
func (s *Server) Addrs() []Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Addr, 0, len(s.listeners))
	for _, l := range s.listeners {
		out = append(out, Addr{Listen: l.addr, UDP: l.udp.PacketConn.LocalAddr(), TCP: l.tcp.Listener.Addr()})
	}
	slices.SortFunc(out, func(a, b Addr) int { return cmp.Compare(a.Listen, b.Listen) })
	return out
}

// listenAddrs is the deduplicated union of the top-level and link listen
// addresses, in config order.
func listenAddrs(set zone.Settings) []string {
	var out []string
	add := func(a string) {
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	for _, a := range set.Listen {
		add(a)
	}
	for _, l := range set.Links {
		for _, a := range l.Listen {
			add(a)
		}
	}
	return out
}

// syncListeners opens the addresses of set not yet served and closes those
// no longer listed; unchanged ones are left alone so no query is lost.
// Callers hold mu. All new addresses are tried; the errors are joined.
func (s *Server) syncListeners(set zone.Settings) error {
	want := listenAddrs(set)
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
		s.log.Info("listening", "listen", a, "udp", l.udp.PacketConn.LocalAddr().String(), "tcp", l.tcp.Listener.Addr().String())
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

func (s *Server) allListeners() []*listener {
	out := make([]*listener, 0, len(s.listeners))
	for _, l := range s.listeners {
		out = append(out, l)
	}
	return out
}

// closeListeners shuts ls down concurrently and waits for their goroutines
// (or ctx). Callers hold mu.
func (s *Server) closeListeners(ctx context.Context, ls []*listener) error {
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

// openListener binds addr over UDP and TCP and starts serving both. It
// returns once both servers run, so a Shutdown right after cannot race
// their start.
func (s *Server) openListener(addr string) (*listener, error) {
	pc, ln, err := bindPair(addr)
	if err != nil {
		return nil, err
	}
	l := &listener{addr: addr}
	l.udp = &dns.Server{
		PacketConn:     pc,
		Handler:        guard{&handler{srv: s, addr: addr, udp: true}, &s.panicLog},
		UDPSize:        ednsSize,
		MsgAcceptFunc:  acceptMsg,
		DecorateReader: s.gate.decorate,
		MsgInvalidFunc: func([]byte, error) { s.gate.release() },
		TsigProvider:   keyring{s},
	}
	l.tcp = &dns.Server{
		Listener:      limitListener{ln, &s.conns},
		Handler:       guard{&handler{srv: s, addr: addr}, &s.panicLog},
		MsgAcceptFunc: acceptMsg,
		ReadTimeout:   tcpReadTimeout,
		WriteTimeout:  tcpWriteTimeout,
		IdleTimeout:   func() time.Duration { return tcpIdleTimeout },
		MaxTCPQueries: tcpMaxQueries,
		TsigProvider:  keyring{s},
	}
	errc := make(chan error, 2)
	for _, ds := range []*dns.Server{l.udp, l.tcp} {
		started := make(chan struct{})
		ds.NotifyStartedFunc = func() { close(started) }
		l.wg.Go(func() {
			if err := ds.ActivateAndServe(); err != nil {
				errc <- err
			}
		})
		select {
		case <-started:
		case err := <-errc:
			pc.Close()
			ln.Close()
			l.wg.Wait()
			return nil, fmt.Errorf("serve %s: %w", addr, err)
		}
	}
	go func() {
		// A serve loop that ends on its own (not via close) is worth a log line.
		for err := range errc {
			s.log.Error("serve", "listen", addr, "err", err)
		}
	}()
	go func() { l.wg.Wait(); close(errc) }()
	return l, nil
}

func (l *listener) close(ctx context.Context) error {
	err := errors.Join(l.udp.ShutdownContext(ctx), l.tcp.ShutdownContext(ctx))
	done := make(chan struct{})
	go func() { l.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		return errors.Join(err, ctx.Err())
	}
	return err
}

// bindPair opens the UDP socket and TCP listener of addr. The net errors
// already read "listen udp 127.0.0.1:53: bind: ...". For port 0 the TCP
// listener takes the port the kernel gave UDP, retrying when it is taken.
func bindPair(addr string) (net.PacketConn, net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	const tries = 10
	for i := 0; ; i++ {
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			return nil, nil, err
		}
		taddr := addr
		if port == "0" {
			taddr = net.JoinHostPort(host, strconv.Itoa(pc.LocalAddr().(*net.UDPAddr).Port))
		}
		ln, err := net.Listen("tcp", taddr)
		if err == nil {
			return pc, ln, nil
		}
		pc.Close()
		if port != "0" || i == tries-1 {
			return nil, nil, err
		}
	}
}
