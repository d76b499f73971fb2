package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"

	"github.com/mxdns/mxdns/internal/harness"
)

// perf is one dnsperf run, from start to an interrupt.
type perf struct {
	cmd *exec.Cmd
	out bytes.Buffer
}

// perfResult is what dnsperf reports.
type perfResult struct {
	sent, completed, lost int64
	rcodes                map[string]int64
	seconds               float64
}

// sentRate is the offered load, queries sent per second.
func (r perfResult) sentRate() float64 {
	if r.seconds == 0 {
		return 0
	}
	return float64(r.sent) / r.seconds
}

// notNoerror is how many answers had an rcode other than NOERROR: every
// query names a served name.
func (r perfResult) notNoerror() int64 {
	var n int64
	for code, c := range r.rcodes {
		if code != "NOERROR" {
			n += c
		}
	}
	return n
}

// startPerf runs dnsperf at qps queries a second until stopped. A query
// times out after 1 s, and up to 5,000 may be outstanding, so that a
// stopped server does not throttle the load for long.
func startPerf(addrPort int, queries string, qps int) (*perf, error) {
	p := &perf{}
	p.cmd = exec.Command("dnsperf", "-s", "127.0.0.1", "-p", strconv.Itoa(addrPort), "-d", queries,
		"-Q", strconv.Itoa(qps), "-l", "3600", "-t", "1", "-q", "5000")
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.out
	p.cmd.SysProcAttr = harness.ChildAttr()
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("dnsperf: %w", err)
	}
	return p, nil
}

// stop interrupts dnsperf, which then prints its statistics.
func (p *perf) stop() (perfResult, error) {
	_ = p.cmd.Process.Signal(os.Interrupt)
	err := p.cmd.Wait()
	res, perr := parsePerf(p.out.String())
	if perr != nil {
		return res, fmt.Errorf("dnsperf (%v): %w\n%s", err, perr, p.out.String())
	}
	return res, nil
}

var (
	perfCount = regexp.MustCompile(`(?m)^\s*Queries (sent|completed|lost):\s+(\d+)`)
	perfTime  = regexp.MustCompile(`(?m)^\s*Run time \(s\):\s+([0-9.]+)`)
	perfCodes = regexp.MustCompile(`(?m)^\s*Response codes:\s+(.*)$`)
	perfCode  = regexp.MustCompile(`([A-Z]+) (\d+)`)
)

func parsePerf(out string) (perfResult, error) {
	res := perfResult{rcodes: map[string]int64{}}
	for _, m := range perfCount.FindAllStringSubmatch(out, -1) {
		n, _ := strconv.ParseInt(m[2], 10, 64)
		switch m[1] {
		case "sent":
			res.sent = n
		case "completed":
			res.completed = n
		case "lost":
			res.lost = n
		}
	}
	m := perfTime.FindStringSubmatch(out)
	if m == nil {
		return res, fmt.Errorf("no run time in its output")
	}
	res.seconds, _ = strconv.ParseFloat(m[1], 64)
	if m := perfCodes.FindStringSubmatch(out); m != nil {
		for _, c := range perfCode.FindAllStringSubmatch(m[1], -1) {
			n, _ := strconv.ParseInt(c[2], 10, 64)
			res.rcodes[c[1]] += n
		}
	}
	return res, nil
}

// writeQueries writes dnsperf's query file: every served name, type A.
func writeQueries(path string, names []name) error {
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "%s A\n", n.fqdn)
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
