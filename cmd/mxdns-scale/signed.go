package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/zone"
)

// signingFigures signs the data set twice, each from nothing: mxdns with
// a top-level `dnssec: on` and a new state directory, and Knot with the
// same zones exported and automatic signing. mxdns signs a set the first
// time it is asked for, so "every zone signed" means every zone
// transferred, signed, by AXFR; Knot signs every zone as it loads it, so
// its time is until every zone answers with a signature.
func signingFigures(o options, config string, out io.Writer) error {
	snap, diags := zone.Load(config, nil)
	if err := diags.Err(); err != nil {
		return err
	}
	var origins []string
	for _, z := range snap.Zones() {
		origins = append(origins, z.Origin)
	}
	signed := filepath.Join(o.dir, "signed-config.yaml")
	base, err := os.ReadFile(config)
	if err != nil {
		return err
	}
	text := string(base) + "dnssec: on\ntransfer: {allow: [127.0.0.1]}\n"
	if err := os.WriteFile(signed, []byte(text), 0o644); err != nil {
		return err
	}
	port, err := portOf(string(base))
	if err != nil {
		return err
	}
	took, err := mxdnsSignsAll(o, signed, port, origins)
	if err != nil {
		return fmt.Errorf("mxdns signing: %w", err)
	}
	fmt.Fprintf(out, "signing:      mxdns %v from start until all %d zones were transferred signed, keys made\n",
		took.Round(100*time.Millisecond), len(origins))
	knotd, err := exec.LookPath("knotd")
	if err != nil {
		fmt.Fprintln(out, "signing:      Knot not measured: no knotd (apt-get install knot)")
		return nil
	}
	took, err = knotSignsAll(knotd, o.dir, snap, origins)
	if err != nil {
		return fmt.Errorf("knot signing: %w", err)
	}
	fmt.Fprintf(out, "signing:      Knot  %v from start until all %d zones, exported, answered signed\n",
		took.Round(100*time.Millisecond), len(origins))
	return nil
}

// mxdnsSignsAll starts mxdns on config with a new state directory and
// returns the time until every origin was transferred with signatures.
func mxdnsSignsAll(o options, config string, port int, origins []string) (time.Duration, error) {
	stateDir := filepath.Join(o.dir, "state-signed")
	if err := os.RemoveAll(stateDir); err != nil {
		return 0, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := time.Now()
	srv := exec.CommandContext(ctx, o.bin, "serve", "-config", config, "-log-format", "text", "-state-dir", stateDir)
	logs := &lockedWriter{w: new(strings.Builder)}
	srv.Stdout, srv.Stderr = io.Discard, logs
	if err := srv.Start(); err != nil {
		return 0, err
	}
	defer func() { cancel(); _ = srv.Wait() }()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	err := waitSignedSOA(addr, origins[0], 120*time.Second)
	if err == nil {
		err = forEach(origins, func(origin string) error { return transferSigned(addr, origin) })
	}
	if err != nil {
		return 0, fmt.Errorf("%w\n%s", err, logs.errors())
	}
	return time.Since(start), nil
}

// transferSigned asks for origin by AXFR and fails unless its SOA comes
// with a signature.
func transferSigned(addr, origin string) error {
	m := new(dns.Msg)
	m.SetAxfr(origin)
	tr := &dns.Transfer{ReadTimeout: 60 * time.Second}
	envs, err := tr.In(m, addr)
	if err != nil {
		return err
	}
	signed := false
	for env := range envs {
		if env.Error != nil {
			return fmt.Errorf("%s: %w", origin, env.Error)
		}
		for _, rr := range env.RR {
			if sig, ok := rr.(*dns.RRSIG); ok && sig.TypeCovered == dns.TypeSOA {
				signed = true
			}
		}
	}
	if !signed {
		return fmt.Errorf("%s: transferred without a signed SOA", origin)
	}
	return nil
}

// knotSignsAll exports every zone of snap to a file, starts Knot on them
// with automatic signing (one ECDSA P-256 key per zone and NSEC, as mxdns
// by default) and returns the time until every origin answers signed.
func knotSignsAll(knotd, dir string, snap *zone.Snapshot, origins []string) (time.Duration, error) {
	work := filepath.Join(dir, "knot-signed")
	if err := os.RemoveAll(work); err != nil {
		return 0, err
	}
	if err := os.MkdirAll(filepath.Join(work, "zones"), 0o755); err != nil {
		return 0, err
	}
	port, err := freePort()
	if err != nil {
		return 0, err
	}
	var conf strings.Builder
	fmt.Fprintf(&conf, `server:
    listen: 127.0.0.1@%d
    rundir: %[2]s
database:
    storage: %[2]s
    kasp-db: %[2]s/kasp
policy:
  - id: scale
    algorithm: ecdsap256sha256
    single-type-signing: on
    nsec3: off
template:
  - id: default
    storage: %[2]s/zones
    zonefile-sync: -1
    journal-content: none
    dnssec-signing: on
    dnssec-policy: scale
log:
  - target: stderr
    any: warning
zone:
`, port, work)
	for _, origin := range origins {
		name := strings.TrimSuffix(origin, ".") + ".zone"
		if err := exportZone(snap, origin, filepath.Join(work, "zones", name)); err != nil {
			return 0, err
		}
		fmt.Fprintf(&conf, "  - domain: %s\n    file: %s\n", origin, name)
	}
	confFile := filepath.Join(work, "knot.conf")
	if err := os.WriteFile(confFile, []byte(conf.String()), 0o644); err != nil {
		return 0, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs strings.Builder
	start := time.Now()
	knot := exec.CommandContext(ctx, knotd, "-c", confFile)
	knot.Stdout, knot.Stderr = io.Discard, &lockedWriter{w: &logs}
	if err := knot.Start(); err != nil {
		return 0, err
	}
	defer func() { cancel(); _ = knot.Wait() }()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	err = forEach(origins, func(origin string) error { return waitSignedSOA(addr, origin, 300*time.Second) })
	if err != nil {
		return 0, fmt.Errorf("%w\n%s", err, logs.String())
	}
	return time.Since(start), nil
}

func exportZone(snap *zone.Snapshot, origin, file string) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	if err := snap.Export(w, origin); err != nil {
		f.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// waitSignedSOA asks for origin's SOA with DO set until it comes signed.
func waitSignedSOA(addr, origin string, limit time.Duration) error {
	c := &dns.Client{Timeout: 200 * time.Millisecond}
	m := new(dns.Msg)
	m.SetQuestion(origin, dns.TypeSOA)
	m.SetEdns0(1232, true)
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); {
		r, _, err := c.Exchange(m, addr)
		if err == nil && r.Rcode == dns.RcodeSuccess {
			for _, rr := range r.Answer {
				if _, ok := rr.(*dns.RRSIG); ok {
					return nil
				}
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("%s: no signed SOA from %s after %v", origin, addr, limit)
}

// forEach runs f for every item, one worker per CPU (Knot signs with one
// background worker per CPU), and returns the first error.
func forEach(items []string, f func(string) error) error {
	var next atomic.Int64
	var first error
	var once sync.Once
	var wg sync.WaitGroup
	for range runtime.NumCPU() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(items) {
					return
				}
				if err := f(items[i]); err != nil {
					once.Do(func() { first = err })
					next.Store(int64(len(items)))
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}

// portOf finds the listen port in a configuration written by run.
func portOf(config string) (int, error) {
	_, rest, ok := strings.Cut(config, `listen: ["127.0.0.1:`)
	if !ok {
		return 0, errors.New("no listen address in the configuration")
	}
	end := strings.IndexByte(rest, '"')
	if end < 0 {
		return 0, errors.New("no listen address in the configuration")
	}
	return strconv.Atoi(rest[:end])
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

// errors returns the lines of a text log at level WARN or ERROR.
func (l *lockedWriter) errors() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, line := range strings.Split(fmt.Sprint(l.w), "\n") {
		if strings.Contains(line, "level=ERROR") || strings.Contains(line, "level=WARN") {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
