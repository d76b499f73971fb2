// Command mxdns-chaos runs the real mxdns under a steady dnsperf load and
// makes, one after the other, the bad changes of issue #13: an empty
// save, truncate-pause-write saves, rename saves half of them broken, a
// broken save then kill -9 and a restart, chmod 000 on the zone
// directory, a /dev/zero link, a FIFO and an alias bomb as zone files.
// Between scenarios it puts the good files back. Meanwhile a checker asks
// for previously served names and follows every zone's SOA serial.
//
// For each scenario it prints the answers for served names that were not
// NOERROR with the right data, the server's peak resident set, and
// whether every serial only increased; it exits 1 if any answer was
// wrong or missing, the RSS reached 512 MiB or a serial went backwards.
//
//	go run ./cmd/mxdns-chaos -bin bin/mxdns
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/internal/harness"
)

const (
	rssLimit = 512 << 20 // the server must stay below this
	memKill  = 1 << 30   // and is killed past this, so that it cannot take the machine down
)

func main() {
	code, err := run(os.Args[1:], os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mxdns-chaos:", err)
		os.Exit(2)
	}
	os.Exit(code)
}

type driver struct {
	dir          string
	srv          *harness.Server
	chk          *checker
	gen          int           // generation of the target file's good content
	holdFor      time.Duration // how long a bad state is kept under load
	noChmod      string        // why chmod 000 cannot be tested here
	downFor      time.Duration // the kill -9 scenario's restart window
	memKillsSeen int           // the watchdog kills already reported
}

type result struct {
	name, skipped                    string
	checked, wrong, unanswered, down int64
	perfBad                          int64
	qps, seconds                     float64
	perfLost                         int64         // dnsperf queries without a reply (down, or dropped)
	downFor                          time.Duration // the kill -9 restart window
	rss                              int64
	backwards, problems, examples    []string
	perfCodes                        []string // dnsperf's rcodes other than NOERROR, with counts
}

func (r result) failed() bool {
	return r.skipped == "" && (r.wrong > 0 || r.unanswered > 0 || r.perfBad > 0 || r.rss >= rssLimit ||
		len(r.backwards) > 0 || len(r.problems) > 0)
}

func run(args []string, out io.Writer) (int, error) {
	fs := flag.NewFlagSet("mxdns-chaos", flag.ContinueOnError)
	bin := fs.String("bin", "bin/mxdns", "the mxdns binary")
	qps := fs.Int("qps", 12000, "dnsperf load, queries per second")
	minQPS := fs.Float64("min-qps", 10000, "fail when dnsperf sends fewer queries per second over the run")
	hold := fs.Duration("hold", 2*time.Second, "how long each bad state is kept")
	keep := fs.Bool("keep", false, "keep the working directory")
	only := fs.String("run", "", "run only the scenarios whose names match this `regexp` (and the baseline)")
	if err := fs.Parse(args); err != nil {
		return 0, err
	}
	pick, err := regexp.Compile(*only)
	if err != nil {
		return 0, fmt.Errorf("-run: %w", err)
	}
	chosen := []scenario{{name: "baseline (no change)", run: func(d *driver) []string { d.hold(); return nil }}}
	for _, sc := range scenarios {
		if pick.MatchString(sc.name) {
			chosen = append(chosen, sc)
		}
	}
	if _, err := exec.LookPath("dnsperf"); err != nil {
		return 0, errors.New("dnsperf is not installed (apt-get install dnsperf)")
	}
	dir, err := os.MkdirTemp("", "mxdns-chaos-")
	if err != nil {
		return 0, err
	}
	if *keep {
		fmt.Fprintln(out, "working directory:", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	d := &driver{dir: dir, holdFor: *hold}

	// The server runs from dir with relative paths; a copy of the binary
	// there can be run by nobody too.
	if err := copyFile(*bin, d.path("mxdns")); err != nil {
		return 0, err
	}
	names, origins, err := writeSite(dir)
	if err != nil {
		return 0, err
	}
	queries := d.path("queries.txt")
	if err := writeQueries(queries, names); err != nil {
		return 0, err
	}
	logFile, err := os.Create(d.path("server.log"))
	if err != nil {
		return 0, err
	}
	defer logFile.Close()

	serveArgs := []string{"serve", "-config", "config.yaml"}
	if harness.HasFlag(d.path("mxdns"), "state-dir") {
		serveArgs = append(serveArgs, "-state-dir", "state")
	} else {
		fmt.Fprintln(out, "note: this mxdns has no -state-dir flag (code before issue #13); running it without")
	}
	opts := harness.Options{
		Bin: d.path("mxdns"), Dir: dir, Args: serveArgs, MemLimit: memKill, Output: logFile,
		WriteConfig: func(port, admin int) error {
			return os.WriteFile(d.path("config.yaml"), []byte(configText(port, admin)), 0o644)
		},
	}
	// Root reads through chmod 000: the server runs as nobody then.
	if os.Geteuid() == 0 {
		opts.Nobody = true
		if err := handTo(dir, harness.NobodyID); err != nil {
			opts.Nobody, d.noChmod = false, fmt.Sprintf("running as root, and the directory cannot be handed to uid %d: %v", harness.NobodyID, err)
		}
	}
	d.srv, err = harness.Start(opts)
	if err != nil && opts.Nobody {
		fmt.Fprintf(out, "note: cannot run the server as uid %d (%v); running it as root\n", harness.NobodyID, firstLines(err.Error(), 2))
		opts.Nobody, d.noChmod = false, fmt.Sprintf("the server runs as root, which ignores chmod 000 (cannot run it as uid %d)", harness.NobodyID)
		d.srv, err = harness.Start(opts)
	}
	if err != nil {
		return 0, err
	}
	defer d.srv.Stop()
	user := "this user"
	if opts.Nobody {
		user = fmt.Sprintf("uid %d", harness.NobodyID)
	}
	fmt.Fprintf(out, "mxdns-chaos: %s serving %d names in %d zones on %s as %s; dnsperf at %d q/s\n",
		*bin, len(names), len(origins), d.srv.Addr(), user, *qps)

	d.chk = newChecker(d.srv.Addr(), names, origins)
	d.chk.start(2)
	defer d.chk.close()

	var results []result
	for _, sc := range chosen {
		r, err := d.runScenario(sc, queries, *qps)
		results = append(results, r)
		printResult(out, r)
		if err != nil {
			fmt.Fprintf(out, "mxdns-chaos: stopping: %v\n", err)
			break
		}
	}
	return summarise(out, d, results, len(chosen), *minQPS), nil
}

func (d *driver) runScenario(sc scenario, queries string, qps int) (result, error) {
	r := result{name: sc.name}
	if sc.skip != nil {
		if r.skipped = sc.skip(d); r.skipped != "" {
			return r, nil
		}
	}
	d.downFor = 0
	d.srv.TakeWindowPeak()
	hwmBefore, killsBefore := d.hwm(), d.srv.MemKills()
	p, err := startPerf(d.srv.Port, queries, qps)
	if err != nil {
		return r, err
	}
	d.chk.swap()
	d.chk.takeBackwards()

	r.problems = sc.run(d)
	more, fatal := d.restore()
	r.problems = append(r.problems, more...)

	pr, perr := p.stop()
	c := d.chk.swap()
	r.backwards = d.chk.takeBackwards()
	r.checked = c.ok.Load() + c.wrong.Load() + c.unanswered.Load() + c.down.Load()
	r.wrong, r.unanswered, r.down = c.wrong.Load(), c.unanswered.Load(), c.down.Load()
	r.examples = c.exampleList()
	if perr != nil {
		r.problems = append(r.problems, firstLines(perr.Error(), 2))
	}
	r.perfBad, r.qps, r.seconds, r.perfLost = pr.notNoerror(), pr.sentRate(), pr.seconds, pr.lost
	for code, n := range pr.rcodes {
		if code != "NOERROR" {
			r.perfCodes = append(r.perfCodes, fmt.Sprintf("%s %d", code, n))
		}
	}
	slices.Sort(r.perfCodes)
	r.rss = d.srv.TakeWindowPeak()
	if h := d.hwm(); h > hwmBefore {
		r.rss = max(r.rss, h)
	}
	if d.srv.MemKills() > killsBefore {
		r.rss = max(r.rss, memKill)
	}
	r.downFor = d.downFor
	return r, fatal
}

// hwm is the running server's VmHWM, 0 if unknown.
func (d *driver) hwm() int64 {
	m, err := harness.ReadMemory(d.srv.PID())
	if err != nil {
		return 0
	}
	return m.HWM
}

func printResult(out io.Writer, r result) {
	if r.skipped != "" {
		fmt.Fprintf(out, "%-38s SKIPPED: %s\n", r.name, r.skipped)
		return
	}
	verdict := "ok"
	if r.failed() {
		verdict = "FAIL"
	}
	serials := "only increased"
	if len(r.backwards) > 0 {
		serials = "WENT BACKWARDS: " + strings.Join(r.backwards, "; ")
	}
	fmt.Fprintf(out, "%-38s %-4s wrong %d (checker) + %d (dnsperf non-NOERROR), unanswered %d, down %d of %d checked; dnsperf %.0f q/s for %.1fs; max RSS %s; serials %s\n",
		r.name, verdict, r.wrong, r.perfBad, r.unanswered, r.down, r.checked, r.qps, r.seconds, mib(r.rss), serials)
	if r.perfLost > 0 {
		fmt.Fprintf(out, "    dnsperf queries lost (no reply within 1 s, or in flight when dnsperf stopped): %d\n", r.perfLost)
	}
	if len(r.perfCodes) > 0 {
		fmt.Fprintf(out, "    dnsperf answers not NOERROR: %s\n", strings.Join(r.perfCodes, ", "))
	}
	if r.downFor > 0 {
		fmt.Fprintf(out, "    down: the server was stopped for %v (kill -9 to answering again)\n", r.downFor.Round(time.Millisecond))
	}
	for _, p := range r.problems {
		fmt.Fprintf(out, "    problem: %s\n", p)
	}
	for _, e := range r.examples {
		fmt.Fprintf(out, "    e.g. %s\n", e)
	}
}

func summarise(out io.Writer, d *driver, results []result, planned int, minQPS float64) int {
	fmt.Fprintln(out, `
wrong:      answers for previously served names that were not NOERROR with the right data
unanswered: no reply over UDP nor TCP while the server should be up (counted as wrong)
down:       queries unanswered while the server was stopped on purpose for the kill -9
            restart; not counted as wrong`)
	var why []string
	failed := 0
	var sent, secs float64
	for _, r := range results {
		if r.failed() {
			failed++
		}
		sent += r.qps * r.seconds
		secs += r.seconds
	}
	if failed > 0 {
		why = append(why, fmt.Sprintf("%d of %d scenarios failed", failed, planned))
	}
	if n := planned - len(results); n > 0 {
		why = append(why, fmt.Sprintf("%d scenarios did not run", n))
	}
	// The load is judged over the whole run: one scenario's rate dips
	// while dnsperf waits for the queries the kill -9 restart lost.
	fmt.Fprintf(out, "dnsperf load over the whole run: %.0f q/s sent, want at least %.0f\n", sent/max(secs, 1e-9), minQPS)
	if sent/max(secs, 1e-9) < minQPS {
		why = append(why, "the load was too low to count")
	}
	fmt.Fprintf(out, "server peak RSS (VmHWM, every process): %s, limit %s\n", mib(d.srv.PeakRSS()), mib(rssLimit))
	if d.srv.PeakRSS() >= rssLimit {
		why = append(why, "RSS reached "+mib(rssLimit))
	}
	if len(why) > 0 {
		fmt.Fprintf(out, "mxdns-chaos: FAIL (%s); server log ends: %s\n", strings.Join(why, ", "), tailFile(d.path("server.log"), 10))
		return 1
	}
	fmt.Fprintln(out, "mxdns-chaos: ok")
	return 0
}

func (d *driver) hold() { time.Sleep(d.holdFor) } // the bad state stays while the load runs

// save replaces a file the way editors do: a temporary file renamed over it.
func (d *driver) save(rel, text string) {
	tmp := d.path("saves.tmp")
	if err := os.WriteFile(tmp, []byte(text), 0o644); err == nil {
		_ = os.Rename(tmp, d.path(rel))
	}
}

func (d *driver) writeInPlace(rel, text string) { _ = os.WriteFile(d.path(rel), []byte(text), 0o644) }

// waitGen waits until t.chaos's TXT shows the current generation.
func (d *driver) waitGen(timeout time.Duration) bool {
	want := fmt.Sprintf("gen %d", d.gen)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return harness.Wait(ctx, func() bool {
		r, err := d.chk.ask("t.chaos.", dns.TypeTXT)
		if err != nil || len(r.Answer) != 1 {
			return false
		}
		txt, ok := r.Answer[0].(*dns.TXT)
		return ok && len(txt.Txt) == 1 && txt.Txt[0] == want
	})
}

// waitProcessed waits up to 5 s until the server has acted on a save made
// after before: a reload counted, or the file reported in error. It says
// whether it saw either.
func (d *driver) waitProcessed(before harness.Status, file string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return harness.Wait(ctx, func() bool {
		st, err := d.srv.Status()
		if err != nil {
			return false
		}
		_, inErr := st.InError(file)
		return inErr || st.Reload.Count > before.Reload.Count || st.Reload.Failures > before.Reload.Failures
	})
}

// handTo gives the tree to uid/gid id and lets it reach the directory.
func handTo(dir string, id int) error {
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}
	return filepath.WalkDir(dir, func(p string, _ os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, id, id)
	})
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o755)
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = append(lines[:n], "...")
	}
	return strings.Join(lines, " / ")
}

func tailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "\n    " + strings.Join(lines, "\n    ")
}

func mib(b int64) string { return harness.MiB(b) }
