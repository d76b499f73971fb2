package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// refServer is a reference authoritative server running as a child process
// on a loopback port, serving the exported zone files.
type refServer struct {
	name string // "knot" or "nsd"
	addr string // host:port, UDP and TCP
	cmd  *exec.Cmd
	log  string // its log file
	done chan error
}

// refKinds are the reference servers known to the tool, by name.
var refKinds = map[string]func(dir string, port int, zones []zoneFile) (args []string, conf string){
	"knot": knotConfig,
	"nsd":  nsdConfig,
}

// zoneFile is one exported zone: its origin and the file holding it.
type zoneFile struct {
	origin string
	file   string // base name inside the zone directory
}

func knotConfig(dir string, port int, zones []zoneFile) ([]string, string) {
	var b strings.Builder
	fmt.Fprintf(&b, "server:\n  listen: 127.0.0.1@%d\n  rundir: %q\n", port, dir)
	fmt.Fprintf(&b, "log:\n  - target: stderr\n    any: warning\n")
	fmt.Fprintf(&b, "database:\n  storage: %q\n", dir)
	fmt.Fprintf(&b, "control:\n  listen: %q\n", filepath.Join(dir, "knot.sock"))
	// Serve the files exactly as written: no journal, no write-back.
	fmt.Fprintf(&b, "template:\n  - id: default\n    storage: %q\n    zonefile-sync: -1\n    zonefile-load: whole\n    journal-content: none\n    semantic-checks: off\n", filepath.Join(dir, "zones"))
	b.WriteString("zone:\n")
	for _, z := range zones {
		fmt.Fprintf(&b, "  - domain: %q\n    file: %q\n", z.origin, z.file)
	}
	conf := filepath.Join(dir, "knot.conf")
	return []string{"knotd", "-c", conf}, b.String()
}

func nsdConfig(dir string, port int, zones []zoneFile) ([]string, string) {
	var b strings.Builder
	fmt.Fprintf(&b, "server:\n  ip-address: 127.0.0.1@%d\n  port: %d\n", port, port)
	fmt.Fprintf(&b, "  zonesdir: %q\n  pidfile: %q\n  username: \"\"\n  chroot: \"\"\n  verbosity: 1\n  rrl-ratelimit: 0\n",
		filepath.Join(dir, "zones"), filepath.Join(dir, "nsd.pid"))
	fmt.Fprintf(&b, "  database: \"\"\n  xfrdfile: %q\n  zonelistfile: %q\n  xfrdir: %q\n",
		filepath.Join(dir, "xfrd.state"), filepath.Join(dir, "zone.list"), dir)
	fmt.Fprintf(&b, "remote-control:\n  control-enable: no\n")
	for _, z := range zones {
		fmt.Fprintf(&b, "zone:\n  name: %q\n  zonefile: %q\n", z.origin, z.file)
	}
	conf := filepath.Join(dir, "nsd.conf")
	return []string{"nsd", "-c", conf, "-d"}, b.String()
}

// startRef writes kind's configuration under dir (which holds zones/) and
// starts it on a free port, waiting until it answers the first zone's SOA.
func startRef(ctx context.Context, kind, dir string, zones []zoneFile) (*refServer, error) {
	mk, ok := refKinds[kind]
	if !ok {
		return nil, fmt.Errorf("unknown reference server %q (want knot or nsd)", kind)
	}
	rdir := filepath.Join(dir, kind)
	if err := os.MkdirAll(rdir, 0o755); err != nil {
		return nil, err
	}
	if err := os.Symlink(filepath.Join(dir, "zones"), filepath.Join(rdir, "zones")); err != nil {
		return nil, err
	}
	var lastErr error
	for try := 0; try < 5; try++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		args, conf := mk(rdir, port, zones)
		if err := os.WriteFile(args[2], []byte(conf), 0o644); err != nil {
			return nil, err
		}
		r := &refServer{name: kind, addr: fmt.Sprintf("127.0.0.1:%d", port), log: filepath.Join(rdir, "log"), done: make(chan error, 1)}
		logf, err := os.Create(r.log)
		if err != nil {
			return nil, err
		}
		r.cmd = exec.Command(args[0], args[1:]...)
		r.cmd.Stdout, r.cmd.Stderr = logf, logf
		if err := r.cmd.Start(); err != nil {
			logf.Close()
			return nil, fmt.Errorf("start %s: %w", kind, err)
		}
		go func() { r.done <- r.cmd.Wait(); logf.Close() }()
		err = r.waitReady(ctx, zones)
		if err == nil {
			return r, nil
		}
		r.stop()
		lastErr = err
		if !errors.Is(err, errExited) {
			// Up but not serving every zone: another port will not help.
			break
		}
	}
	return nil, lastErr
}

// errExited marks a reference server that stopped before it was ready.
var errExited = errors.New("exited")

// waitReady polls the SOA of every zone until the server answers each with
// AA (a zone it refused to load never does), the process exits, or a
// deadline passes.
func (r *refServer) waitReady(ctx context.Context, zones []zoneFile) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	c := &dns.Client{Net: "udp", Timeout: 200 * time.Millisecond}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	origin := zones[0].origin
	for {
		for len(zones) > 0 {
			origin = zones[0].origin
			m := new(dns.Msg)
			m.SetQuestion(origin, dns.TypeSOA)
			resp, _, err := c.Exchange(m, r.addr)
			if err != nil || !resp.Authoritative || resp.Rcode != dns.RcodeSuccess {
				break
			}
			zones = zones[1:]
		}
		if len(zones) == 0 {
			return nil
		}
		select {
		case err := <-r.done:
			r.done <- err
			out, _ := os.ReadFile(r.log)
			return fmt.Errorf("%s %w (%v), perhaps port %s was taken:\n%s", r.name, errExited, err, r.addr, out)
		case <-ctx.Done():
			out, _ := os.ReadFile(r.log)
			return fmt.Errorf("%s did not answer %s SOA on %s: %w\n%s", r.name, origin, r.addr, ctx.Err(), out)
		case <-tick.C:
		}
	}
}

func (r *refServer) stop() {
	if r.cmd.Process == nil {
		return
	}
	_ = r.cmd.Process.Signal(os.Interrupt)
	select {
	case <-r.done:
	case <-time.After(5 * time.Second):
		_ = r.cmd.Process.Kill()
		<-r.done
	}
}

// freePort asks the kernel for a port free for both UDP and TCP on 127.0.0.1.
func freePort() (int, error) {
	for i := 0; i < 20; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		l.Close()
		if err == nil {
			u.Close()
			return port, nil
		}
	}
	return 0, errors.New("no free port on 127.0.0.1")
}
