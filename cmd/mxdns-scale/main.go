// Command mxdns-scale measures mxdns on a large data set written by
// mxdns-gen: how long `mxdns check` and a cold start take, the server's
// resident memory, how soon a save of one file among thousands is served,
// whether memory grows across many such reloads, and what a lookup costs
// with one zone and with all of them.
//
//	go run ./cmd/mxdns-scale -dir /tmp/mxdns-big -bin bin/mxdns
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/zone"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "mxdns-scale:", err)
		os.Exit(1)
	}
}

type options struct {
	dir, bin string
	reloads  int
	sign     bool
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("mxdns-scale", flag.ContinueOnError)
	var o options
	fs.StringVar(&o.dir, "dir", "/tmp/mxdns-big", "data set written by mxdns-gen")
	fs.StringVar(&o.bin, "bin", "bin/mxdns", "the mxdns binary")
	fs.IntVar(&o.reloads, "reloads", 1000, "single-file reloads to time")
	fs.BoolVar(&o.sign, "sign", false, "time signing every zone, beside Knot signing them exported, instead")
	if err := fs.Parse(args); err != nil {
		return err
	}
	zones, err := filepath.Glob(filepath.Join(o.dir, "zones", "f*.yaml"))
	if err != nil || len(zones) == 0 {
		return fmt.Errorf("no data set in %s (make bigzones)", o.dir)
	}
	sort.Strings(zones)
	port, err := freePort()
	if err != nil {
		return err
	}
	adminPort, err := freePort()
	if err != nil {
		return err
	}
	probe, err := newProbeTarget()
	if err != nil {
		return err
	}
	defer probe.ln.Close()
	config := filepath.Join(o.dir, "scale-config.yaml")
	text := fmt.Sprintf("listen: [\"127.0.0.1:%d\"]\nadmin: \"127.0.0.1:%d\"\n"+
		"links:\n  wan1: {check: {tcp: %q, interval: 100ms, timeout: 100ms, rise: 1, fall: 1}}\n  wan2: {}\n"+
		"zone_files: [\"zones/*.yaml\"]\n", port, adminPort, probe.addr)
	if err := os.WriteFile(config, []byte(text), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(out, "data set: %s, %d forward zone files\n", o.dir, len(zones))
	if o.sign {
		return signingFigures(o, config, out)
	}

	// mxdns check.
	start := time.Now()
	check := exec.Command(o.bin, "check", "-config", config)
	check.Stdout, check.Stderr = io.Discard, io.Discard
	if err := check.Run(); err != nil {
		return fmt.Errorf("mxdns check: %w", err)
	}
	fmt.Fprintf(out, "check:        %v (target < 10s)\n", time.Since(start).Round(time.Millisecond))

	target := zones[len(zones)/2]
	if err := serverFigures(o, config, port, adminPort, target, probe, out); err != nil {
		return err
	}
	// The server is stopped by now: on two cores its idle work and the
	// reload of the restored file would land on one side of the
	// comparison or the other.
	return lookupCost(o.dir, config, target, out)
}

// serverFigures starts the real server on config and prints its cold
// start, its memory and the latency of single-file reloads of target.
func serverFigures(o options, config string, port, adminPort int, target string, probe *probeTarget, out io.Writer) error {
	// Cold start of the real server, until it answers, with a new state
	// directory: the first start, which keeps a copy of every file.
	stateDir := filepath.Join(o.dir, "state")
	if err := os.RemoveAll(stateDir); err != nil {
		return err
	}
	start := time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv := exec.CommandContext(ctx, o.bin, "serve", "-config", config, "-log-format", "text", "-state-dir", stateDir)
	srv.Stdout = io.Discard
	logs, err := srv.StderrPipe()
	if err != nil {
		return err
	}
	if err := srv.Start(); err != nil {
		return err
	}
	// The watcher starts after the listeners: an edit made before the
	// server logs "serving" could go unseen.
	serving := make(chan struct{})
	logDone := make(chan struct{})
	logLines := make(chan string, 1024)
	go func() {
		followLog(logs, os.Getenv("MXDNS_SCALE_LOG"), serving, logLines)
		close(logDone)
	}()
	// Wait only once the log is read to its end, as os/exec asks of a
	// StderrPipe: the server's exit closes it.
	defer func() { cancel(); <-logDone; _ = srv.Wait() }()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	host, origin := "h4", originOf(target)
	if _, err := waitAnswer(addr, host+"."+origin, "", 60*time.Second); err != nil {
		return fmt.Errorf("server did not come up: %w", err)
	}
	fmt.Fprintf(out, "cold start:   %v until the first answer (target < 10s)\n", time.Since(start).Round(time.Millisecond))
	select {
	case <-serving:
	case <-time.After(60 * time.Second):
		return errors.New("server did not log \"serving\"")
	}
	rss0, err := rssMiB(srv.Process.Pid)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "memory:       %d MiB resident after load (target < 1024)\n", rss0)

	// Single-file reloads.
	text, err := os.ReadFile(target)
	if err != nil {
		return err
	}
	old := "h4: {a: "
	i := strings.Index(string(text), old)
	if i < 0 {
		return fmt.Errorf("%s has no h4 record to edit", target)
	}
	prefix, rest := string(text[:i+len(old)]), string(text[i+len(old):])
	tail := rest[strings.IndexAny(rest, ",}"):]
	var lat []time.Duration
	var rss []int
	for n := 0; n < o.reloads; n++ {
		// Inside 10.0.0.0/8: with -shape one-reverse each edit moves a
		// generated PTR within the shared reverse zone.
		want := fmt.Sprintf("10.200.%d.%d", n/250%200, n%250+1)
		if err := writeAtomically(target, prefix+want+tail); err != nil {
			return err
		}
		saved := time.Now()
		if _, err := waitAnswer(addr, host+"."+origin, want, 60*time.Second); err != nil {
			return fmt.Errorf("reload %d: %w", n, err)
		}
		lat = append(lat, time.Since(saved))
		if (n+1)%(max(o.reloads/10, 1)) == 0 {
			r, err := rssMiB(srv.Process.Pid)
			if err != nil {
				return err
			}
			rss = append(rss, r)
		}
	}
	if err := os.WriteFile(target, text, 0o644); err != nil {
		return err
	}
	// Which edits were slow says whether they came just after the load
	// (the first copies of the state directory, the load's collection) or
	// anywhere (collections during reloads).
	byEdit := slices.Clone(lat)
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[int(p*float64(len(lat)-1))].Round(time.Millisecond) }
	slow := len(lat) - sort.Search(len(lat), func(i int) bool { return lat[i] >= 200*time.Millisecond })
	fmt.Fprintf(out, "reload:       save to served, %d single-file edits: median %v, p90 %v, p99 %v, max %v, %d at or over 200ms (target < 200ms)\n",
		len(lat), pct(0.5), pct(0.9), pct(0.99), lat[len(lat)-1].Round(time.Millisecond), slow)
	var slowest []string
	for n, d := range byEdit {
		if d >= lat[max(len(lat)-3, 0)] {
			slowest = append(slowest, fmt.Sprintf("#%d %v", n+1, d.Round(time.Millisecond)))
		}
	}
	fmt.Fprintf(out, "slowest:      %s\n", strings.Join(slowest, ", "))
	fmt.Fprintf(out, "memory:       resident MiB every %d reloads: %v\n", max(o.reloads/10, 1), rss)
	if len(rss) > 0 {
		fmt.Fprintf(out, "drift:        resident after %d reloads / after load: %d / %d MiB = %.2fx (target <= 1.25x)\n",
			len(lat), rss[len(rss)-1], rss0, float64(rss[len(rss)-1])/float64(rss0))
	}
	admin := net.JoinHostPort("127.0.0.1", strconv.Itoa(adminPort))
	return linkDuringReload(config, addr, admin, origin, probe, logLines, out)
}

// lookupCost compares a lookup's cost in a snapshot of the zone file
// target alone with the same lookup in the snapshot of every zone.
func lookupCost(dir, config, target string, out io.Writer) error {
	all, diags := zone.Load(config, nil)
	if err := diags.Err(); err != nil {
		return err
	}
	single := filepath.Join(dir, "single-config.yaml")
	if err := os.WriteFile(single, []byte("links:\n  wan1: {}\n  wan2: {}\nzone_files: [\""+target+"\"]\n"), 0o644); err != nil {
		return err
	}
	one, diags := zone.Load(single, nil)
	if err := diags.Err(); err != nil {
		return err
	}
	origin := originOf(target)
	qs := []dns.Question{
		{Name: "h4." + origin, Qtype: dns.TypeA, Qclass: dns.ClassINET},
		{Name: origin, Qtype: dns.TypeMX, Qclass: dns.ClassINET},
		{Name: "nx." + origin, Qtype: dns.TypeA, Qclass: dns.ClassINET},
	}
	// Each round times a fixed run of lookups on both snapshots, after a
	// GC, alternating which goes first; the fastest round of each side
	// counts. On a shared 2-core machine a single long run swings by
	// ±10% with whatever else runs, and a GC cycle over the large heap
	// lands on one side or the other; the minimum of many short rounds
	// is the cost itself.
	const rounds, perRound = 21, 200_000
	timeRound := func(s *zone.Snapshot) float64 {
		runtime.GC()
		start := time.Now()
		for i := range perRound {
			s.Lookup(qs[i%len(qs)], zone.Client{Link: zone.NoLink, Up: zone.AllLinks, Rotate: uint32(i)})
		}
		return float64(time.Since(start).Nanoseconds()) / perRound
	}
	best1, bestN := math.Inf(1), math.Inf(1)
	for r := range rounds {
		if r%2 == 0 {
			best1 = min(best1, timeRound(one))
			bestN = min(bestN, timeRound(all))
		} else {
			bestN = min(bestN, timeRound(all))
			best1 = min(best1, timeRound(one))
		}
	}
	fmt.Fprintf(out, "lookup:       %.0f ns with 1 zone, %.0f ns with %d zones: %+.1f%% (target within 10%%)\n",
		best1, bestN, len(all.Zones()), (bestN/best1-1)*100)
	return nil
}

// followLog reads the server's log, closing serving at the line that says
// the watcher runs, and copies it to file when one is named (debugging).
func followLog(r io.Reader, file string, serving chan struct{}, lines chan<- string) {
	var w io.Writer = io.Discard
	if file != "" {
		if f, err := os.Create(file); err == nil {
			defer f.Close()
			w = f
		}
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		fmt.Fprintln(w, sc.Text())
		select {
		case lines <- sc.Text():
		default: // nobody is listening now
		}
		if serving != nil && strings.Contains(sc.Text(), "msg=serving") {
			close(serving)
			serving = nil
		}
	}
	_, _ = io.Copy(io.Discard, r)
}

func originOf(file string) string {
	base := strings.TrimSuffix(filepath.Base(file), ".yaml")
	return "mail" + strings.TrimPrefix(base, "f") + ".test."
}

// waitAnswer asks for name's A record until it holds want (any answer when
// want is empty), polling every millisecond until the deadline.
func waitAnswer(addr, name, want string, limit time.Duration) (string, error) {
	// A query the busy server drops (its UDP gate sheds load while a
	// reload takes the cores) is asked again after 20ms: a longer wait
	// would be counted as reload latency.
	c := &dns.Client{Timeout: 20 * time.Millisecond}
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeA)
	deadline := time.Now().Add(limit)
	last := "no answer"
	for time.Now().Before(deadline) {
		r, _, err := c.Exchange(m, addr)
		if err == nil && len(r.Answer) > 0 {
			if a, ok := r.Answer[0].(*dns.A); ok {
				last = a.A.String()
				if want == "" || last == want {
					return last, nil
				}
			}
		}
		time.Sleep(time.Millisecond)
	}
	return "", fmt.Errorf("%s: still %s after %v, want %q", name, last, limit, want)
}

func writeAtomically(path, text string) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(text), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func rssMiB(pid int) (int, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return kb / 1024, err
		}
	}
	return 0, errors.New("no VmRSS in /proc status")
}

func freePort() (int, error) {
	for range 20 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := pc.LocalAddr().(*net.UDPAddr).Port
		pc.Close()
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err == nil {
			ln.Close()
			return port, nil
		}
	}
	return 0, errors.New("no free port")
}
