package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/miekg/dns"
)

// NobodyID is the uid and gid of 'nobody', the unprivileged user a root
// caller runs the server as when permissions must count (root ignores
// chmod 000).
const NobodyID = 65534

// addressBackstop caps the server's address space, so that a server that
// reads without bound fails by itself even if the RSS watchdog is slow.
// An idle server maps about 2 GiB (arena reservations, thread stacks).
const addressBackstop = 8 << 30

// Options say how to run the server.
type Options struct {
	Bin string // the mxdns binary, absolute
	Dir string // the server's working directory
	// Args follow the binary, e.g. serve -config config.yaml -state-dir state.
	Args []string
	// WriteConfig writes the configuration into Dir for the given DNS and
	// admin ports. It is called again with new ports when a first start
	// fails to bind.
	WriteConfig func(port, admin int) error
	// Nobody runs the server as uid and gid 65534.
	Nobody bool
	// MemLimit kills the server once its resident set passes it; 0 means
	// no watchdog. The kill is recorded (MemKilled), so a test can say
	// the server would have kept growing.
	MemLimit int64
	// Env replaces the default environment (PATH, and HOME and
	// XDG_STATE_HOME inside Dir so that no default state leaks out).
	Env []string
	// Output, when set, gets a copy of everything the server writes.
	Output io.Writer
}

// Server is a running (or stopped) mxdns process and its ports, which stay
// the same across restarts.
type Server struct {
	opts      Options
	Port      int
	AdminPort int

	log lockedBuffer

	mu   sync.Mutex
	proc *process

	peak     atomic.Int64 // highest VmHWM seen over every process
	window   atomic.Int64 // highest VmRSS sampled since TakeWindowPeak
	memKills atomic.Int32
}

type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has been waited for
	err  error         // its exit, once done is closed
}

// ErrBind says that the server could not bind its port.
var ErrBind = errors.New("address already in use")

// Start picks free ports, writes the configuration and starts the server,
// returning once it answers DNS queries. A server that exits instead is an
// error carrying its output.
func Start(opts Options) (*Server, error) {
	if opts.Env == nil {
		opts.Env = []string{
			"PATH=" + os.Getenv("PATH"),
			"HOME=" + opts.Dir,
			"XDG_STATE_HOME=" + filepath.Join(opts.Dir, "xdg-state"),
		}
	}
	s := &Server{opts: opts}
	var err error
	for range 5 {
		if s.Port, err = FreePort(); err != nil {
			return nil, err
		}
		if s.AdminPort, err = FreePort(); err != nil {
			return nil, err
		}
		if err = opts.WriteConfig(s.Port, s.AdminPort); err != nil {
			return nil, fmt.Errorf("write config: %w", err)
		}
		if err = s.startOnce(); !errors.Is(err, ErrBind) {
			break
		}
	}
	if err != nil {
		return s, err
	}
	return s, nil
}

// Restart starts the server again on the same ports after Stop or Kill.
// A port still held by the dying process is retried for a few seconds.
func (s *Server) Restart() error {
	var err error
	for range 20 {
		if err = s.startOnce(); !errors.Is(err, ErrBind) {
			return err
		}
		time.Sleep(250 * time.Millisecond) // the port is held elsewhere; nothing to wait on
	}
	return err
}

// startOnce launches one process and waits until it answers or exits.
func (s *Server) startOnce() error {
	mark := s.log.Len()
	cmd := exec.Command(s.opts.Bin, s.opts.Args...)
	cmd.Dir = s.opts.Dir
	cmd.Env = s.opts.Env
	var out io.Writer = &s.log
	if s.opts.Output != nil {
		out = io.MultiWriter(&s.log, s.opts.Output)
	}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = ChildAttr()
	if s.opts.Nobody {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: NobodyID, Gid: NobodyID}
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", s.opts.Bin, err)
	}
	limitAddressSpace(cmd.Process.Pid, addressBackstop)
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	s.mu.Lock()
	s.proc = p
	s.mu.Unlock()
	go s.watchMemory(p)

	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			log := s.log.String()[mark:]
			if strings.Contains(log, "address already in use") {
				return fmt.Errorf("port %d: %w", s.Port, ErrBind)
			}
			return fmt.Errorf("server exited at start (%v); its output:\n%s", p.err, log)
		default:
		}
		// Any reply, even REFUSED, means the listeners are up, and they
		// open only after the first load; but the reply must be this
		// process's: another test may have taken the port meanwhile, so
		// this one's own word that it serves is awaited too.
		if strings.Contains(s.log.String()[mark:], "serving") {
			if _, err := Exchange(s.Addr(), ".", dns.TypeSOA, false, 300*time.Millisecond); err == nil {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond) // between polls
	}
	s.Kill()
	return fmt.Errorf("server did not answer on %s within 30s; its output:\n%s", s.Addr(), s.log.String()[mark:])
}

// watchMemory samples the process's memory until it exits, keeping the
// peak and killing it past MemLimit.
func (s *Server) watchMemory(p *process) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-p.done:
			return
		case <-tick.C:
		}
		m, err := ReadMemory(p.cmd.Process.Pid)
		if err != nil {
			continue // exiting
		}
		raise(&s.peak, max(m.HWM, m.RSS))
		raise(&s.window, m.RSS)
		if s.opts.MemLimit > 0 && m.RSS > s.opts.MemLimit {
			s.memKills.Add(1)
			_ = p.cmd.Process.Kill()
			fmt.Fprintf(&s.log, "harness: killed the server at RSS %s (limit %s)\n", MiB(m.RSS), MiB(s.opts.MemLimit))
			return
		}
	}
}

// Addr is the DNS address, host:port.
func (s *Server) Addr() string { return fmt.Sprintf("127.0.0.1:%d", s.Port) }

// PID is the current process's id.
func (s *Server) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proc.cmd.Process.Pid
}

// Done is closed when the current process has exited.
func (s *Server) Done() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proc.done
}

// Running reports whether the current process is alive.
func (s *Server) Running() bool {
	select {
	case <-s.Done():
		return false
	default:
		return true
	}
}

// ExitErr is how the current process ended (nil while running).
func (s *Server) ExitErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.proc.done:
		return s.proc.err
	default:
		return nil
	}
}

// Signal sends sig to the current process.
func (s *Server) Signal(sig os.Signal) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proc.cmd.Process.Signal(sig)
}

// Stop ends the server with SIGTERM, as a service manager does, and
// SIGKILL if it has not exited after 10 s.
func (s *Server) Stop() error {
	if !s.Running() {
		return nil
	}
	_ = s.Signal(syscall.SIGTERM)
	select {
	case <-s.Done():
		return nil
	case <-time.After(10 * time.Second):
		s.Kill()
		return errors.New("server ignored SIGTERM for 10s; killed")
	}
}

// Kill ends the server with SIGKILL (kill -9) and waits for it.
func (s *Server) Kill() {
	if !s.Running() {
		return
	}
	_ = s.Signal(syscall.SIGKILL)
	<-s.Done()
}

// Log is everything the server has written, over every restart.
func (s *Server) Log() string { return s.log.String() }

// PeakRSS is the highest resident set (VmHWM) seen over every process.
func (s *Server) PeakRSS() int64 { return s.peak.Load() }

// TakeWindowPeak returns the highest resident set sampled (every 20 ms)
// since the last call, and starts a new window.
func (s *Server) TakeWindowPeak() int64 { return s.window.Swap(0) }

func raise(v *atomic.Int64, x int64) {
	for {
		old := v.Load()
		if x <= old || v.CompareAndSwap(old, x) {
			return
		}
	}
}

// MemKilled reports whether the watchdog killed the server.
func (s *Server) MemKilled() bool { return s.memKills.Load() > 0 }

// MemKills counts the watchdog's kills over every process.
func (s *Server) MemKills() int { return int(s.memKills.Load()) }

// Wait blocks until cond holds or ctx ends, polling every 20 ms.
func Wait(ctx context.Context, cond func() bool) bool {
	for {
		if cond() {
			return true
		}
		select {
		case <-ctx.Done():
			return cond()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *lockedBuffer) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Len()
}
