package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// probeTarget is what the wan1 health check connects to; closing it takes
// the link down.
type probeTarget struct {
	ln   net.Listener
	addr string
}

func newProbeTarget() (*probeTarget, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return &probeTarget{ln: ln, addr: ln.Addr().String()}, nil
}

// linkDuringReload takes wan1 down while a full reload of every zone runs
// (the configuration file changed) and prints how soon answers followed
// and how long /status took meanwhile: neither may wait for the build.
func linkDuringReload(config, addr, admin, origin string, probe *probeTarget, logLines <-chan string, out io.Writer) error {
	name := "mx1." + origin
	// Asked until answered: a reply that misses the 20 ms timeout (the
	// server collecting after the reloads before) is not what is timed.
	var wan1 []string
	var err error
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		if wan1, err = addressesOf(addr, name); err == nil {
			break
		}
	}
	if err != nil || len(wan1) < 2 {
		return fmt.Errorf("%s: want one address per link, got %v (%v)", name, wan1, err)
	}
	before, zones, err := reloadStarted(admin)
	if err != nil {
		return err
	}
	// Its log line is the one with a zone more; an earlier reload may
	// still be logging its own.
	fullDone := fmt.Sprintf("zones=%d ", zones+1)
	text, err := os.ReadFile(config)
	if err != nil {
		return err
	}
	// A zone more, and every zone is built again: the slowest reload
	// there is.
	extra := "zones:\n  scale-extra.test: {ns: [ns1.provider.test.]}\n"
	if err := writeAtomically(config, string(text)+extra); err != nil {
		return err
	}
	defer func() { _ = writeAtomically(config, string(text)) }()

	// /status answers while the build runs, and says when it started.
	var statusTimes []time.Duration
	deadline := time.Now().Add(60 * time.Second)
	for {
		start := time.Now()
		started, _, err := reloadStarted(admin)
		if err != nil {
			return err
		}
		statusTimes = append(statusTimes, time.Since(start))
		if started.After(before) {
			break
		}
		if time.Now().After(deadline) {
			return errors.New("the full reload did not start")
		}
		time.Sleep(5 * time.Millisecond)
	}
	drain(logLines)

	closed := time.Now()
	probe.ln.Close()
	var verdict, served, ended time.Time
	took := "?"
	noteLine := func(line string) {
		switch {
		case strings.Contains(line, `msg="link down"`):
			// The line's own time: the pipe delivers it late.
			verdict = time.Now()
			if f := strings.Fields(line); len(f) > 0 {
				if t, err := time.Parse(time.RFC3339Nano, strings.TrimPrefix(f[0], "time=")); err == nil {
					verdict = t
				}
			}
		case strings.Contains(line, "msg=reloaded") && strings.Contains(line, fullDone) && ended.IsZero():
			ended = time.Now()
			if i := strings.Index(line, "took="); i >= 0 {
				took = line[i+len("took="):]
			}
		}
	}
	for served.IsZero() {
		if time.Now().After(deadline) {
			return errors.New("wan1's address still answered a minute after its check failed")
		}
		for more := true; more; {
			select {
			case line := <-logLines:
				noteLine(line)
			default:
				more = false
			}
		}
		if got, err := addressesOf(addr, name); err == nil && len(got) == len(wan1)-1 {
			served = time.Now()
		}
	}
	// Keep /status timed until the reload is over.
	endedFirst := !ended.IsZero()
	for ended.IsZero() && time.Now().Before(deadline) {
		start := time.Now()
		if _, _, err := reloadStarted(admin); err != nil {
			return err
		}
		statusTimes = append(statusTimes, time.Since(start))
		select {
		case line := <-logLines:
			noteLine(line)
		case <-time.After(5 * time.Millisecond):
		}
	}
	after := "before the reload ended (it took " + took + ")"
	if endedFirst {
		after = "but the reload (" + took + ") ended first: not the figure asked for"
	}
	late := time.After(time.Second) // the verdict's line, if still in the pipe
	for verdict.IsZero() {
		select {
		case line := <-logLines:
			noteLine(line)
			continue
		case <-late:
		}
		break
	}
	sinceVerdict := "verdict not seen in the log"
	if !verdict.IsZero() {
		sinceVerdict = fmt.Sprintf("%v after the verdict was logged", served.Sub(verdict).Round(time.Millisecond))
	}
	fmt.Fprintf(out, "link change:  wan1 down during a full reload: served %v after its probe target closed, %s, %s (target < 100ms)\n",
		served.Sub(closed).Round(time.Millisecond), sinceVerdict, after)
	fmt.Fprintf(out, "status:       %d /status requests during the reload, slowest %v\n",
		len(statusTimes), slices.Max(statusTimes).Round(time.Millisecond))
	return nil
}

// reloadStarted is when the latest reload began, and how many zones are
// served, from /status.
func reloadStarted(admin string) (time.Time, int, error) {
	c := http.Client{Timeout: 30 * time.Second}
	resp, err := c.Get("http://" + admin + "/status")
	if err != nil {
		return time.Time{}, 0, err
	}
	defer resp.Body.Close()
	var st struct {
		Zones  []json.RawMessage `json:"zones"`
		Reload struct {
			LastTime time.Time `json:"last_time"`
		} `json:"reload"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return time.Time{}, 0, fmt.Errorf("/status: %w", err)
	}
	return st.Reload.LastTime, len(st.Zones), nil
}

// addressesOf is the A records answered for name.
func addressesOf(addr, name string) ([]string, error) {
	c := &dns.Client{Timeout: 20 * time.Millisecond}
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeA)
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, rr := range r.Answer {
		if a, ok := rr.(*dns.A); ok {
			out = append(out, a.A.String())
		}
	}
	return out, nil
}

func drain(c <-chan string) {
	for {
		select {
		case <-c:
		default:
			return
		}
	}
}
