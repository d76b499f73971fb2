package ops

import (
	"fmt"
	"strings"
	"time"
)

// pageView is everything the status page shows, formatted: the template
// only places it.
type pageView struct {
	Now      string
	Filter   string
	Problems []string // the summary at the top; none: all is well
	Links    []linkView
	Mail     []mailView
	// MailMatched is how many mail domains matched the filter; Mail
	// holds at most pageMailRows of them.
	MailMatched  int
	ZoneCount    int
	Zones        []ZoneStatus
	ZonesMatched int
	Files        []fileView
	FilesMore    int
	Reload       reloadSummary
	Reloads      []reloadView
	Warnings     []WarningStatus
	WarningsMore int
	Rates        ratesView
	RateKinds    []string
	StripMinutes int
}

type linkView struct {
	Name, State, Class, Why, Since string
	Require                        string
	Checks                         []checkView
	Probes                         []probeView
	Strip                          []stripCell
	StripSummary                   string
}

type checkView struct {
	Check, Verdict, Class, Last string
}

type probeView struct {
	Time, Check, Result, Latency, Class, Verdict string
}

type fileView struct {
	File, Error, Since, Serving string
}

type reloadSummary struct {
	OK                bool
	Count, Failures   uint64
	Last, LastSuccess string
	LastError         string
}

type reloadView struct {
	Time, Duration, Outcome, Class, Error string
}

// buildPage gathers the page's view from p at now, rows of zones and
// mail domains narrowed to those whose name holds filter.
func buildPage(p Provider, filter string, now time.Time) pageView {
	st := p.Status()
	h := p.History()
	v := pageView{Now: stamp(now), Filter: filter, ZoneCount: len(st.Zones), RateKinds: rateKinds[:],
		StripMinutes: stripMinutes}
	down := 0
	for _, l := range st.Links {
		lv := linkOf(l, h, now)
		if l.State != "up" {
			down++
		}
		v.Links = append(v.Links, lv)
	}
	if down > 0 {
		v.Problems = append(v.Problems, fmt.Sprintf("%d of %d links down", down, len(st.Links)))
	}
	v.Mail, v.MailMatched = mailOf(p.Mail(filter, pageMailRows))
	for _, z := range st.Zones {
		if filter != "" && !strings.Contains(z.Origin, filter) && !strings.Contains(strings.ToLower(z.File), filter) {
			continue
		}
		if v.ZonesMatched++; len(v.Zones) < pageZoneRows {
			v.Zones = append(v.Zones, z)
		}
	}
	for _, f := range st.FilesInError {
		if len(v.Files) == pageFileRows {
			v.FilesMore++
			continue
		}
		v.Files = append(v.Files, fileView{File: f.File, Error: f.Error, Since: stampAgo(f.Since, now), Serving: f.Serving})
	}
	if n := len(st.FilesInError); n > 0 {
		v.Problems = append(v.Problems, plural(n, "file", "files")+" in error")
	}
	v.Reload = reloadSummary{OK: st.Reload.OK, Count: st.Reload.Count, Failures: st.Reload.Failures,
		Last: stampAgo(st.Reload.LastTime, now), LastSuccess: stampAgo(st.Reload.LastSuccess, now), LastError: st.Reload.LastError}
	if !st.Reload.OK {
		v.Problems = append(v.Problems, "the last reload did not load every file")
	}
	for _, e := range h.lastReloads() {
		rv := reloadView{Time: stampAgo(e.Time, now), Duration: e.Duration.Round(time.Millisecond / 10).String(), Outcome: e.Outcome, Error: e.Error, Class: "up"}
		if e.Outcome != "ok" {
			rv.Class = "down"
		}
		v.Reloads = append(v.Reloads, rv)
	}
	v.Warnings = st.Warnings
	if len(v.Warnings) > pageWarningRows {
		v.Warnings, v.WarningsMore = v.Warnings[:pageWarningRows], len(v.Warnings)-pageWarningRows
	}
	v.Rates = ratesOf(h.queryRates())
	return v
}

func linkOf(l LinkStatus, h *History, now time.Time) linkView {
	lv := linkView{Name: l.Name, State: l.State, Class: l.State, Why: l.Why, Since: stampAgo(l.Since, now), Require: l.Require}
	if l.Manual != "" && l.Manual != "auto" {
		lv.State, lv.Class = "forced "+l.State, "forced"
	}
	for _, c := range l.Checks {
		cv := checkView{Check: c.Check, Verdict: "passing", Class: "up"}
		if !c.Up {
			cv.Verdict, cv.Class = "failing", "down"
		}
		if c.LastCheck != nil {
			cv.Last = fmt.Sprintf("%s, %s (%s)", c.LastCheck.Result, latency(c.LastCheck.LatencyMS), ago(c.LastCheck.Time, now))
		}
		lv.Checks = append(lv.Checks, cv)
	}
	states, probes := h.strip(l.Name, now)
	for _, e := range probes {
		pv := probeView{Time: clock(e.Time), Check: e.Check, Result: e.Result,
			Latency: latency(float64(e.Latency.Microseconds()) / 1000), Class: "up", Verdict: "ok"}
		if !e.OK {
			pv.Class, pv.Verdict = "down", "failed"
		}
		lv.Probes = append(lv.Probes, pv)
	}
	lv.Strip, lv.StripSummary = stripOf(states, now)
	return lv
}

func mailOf(domains []MailDomain, matched int) ([]mailView, int) {
	out := make([]mailView, 0, len(domains))
	for _, d := range domains {
		mv := mailView{Name: d.Name, Publish: d.Publish, Withdrawn: d.Withdrawn}
		for _, mx := range d.MX {
			x := mxView{Preference: mx.Preference, Host: mx.Host, Why: mx.Why, State: "published", Class: "up"}
			if !mx.Published {
				x.State, x.Class = "withdrawn", "down"
			}
			x.Links = "any"
			if len(mx.Links) > 0 {
				x.Links = strings.Join(mx.Links, ", ")
			}
			x.Via = viaOf(mx.Via)
			mv.MX = append(mv.MX, x)
		}
		out = append(out, mv)
	}
	return out, matched
}

type mailView struct {
	Name, Publish string
	Withdrawn     int
	MX            []mxView
}

type mxView struct {
	Preference                     uint16
	Host, State, Class, Why, Links string
	Via                            []string
}

// viaOf says what each arrival link is told of a host, "wan1: 192.0.2.1",
// folded to one line when every link is told the same.
func viaOf(via []ViaLink) []string {
	if len(via) == 0 {
		return nil
	}
	same := true
	for _, v := range via[1:] {
		same = same && strings.Join(v.Addrs, " ") == strings.Join(via[0].Addrs, " ")
	}
	addrs := func(a []string) string {
		if len(a) == 0 {
			return "no address"
		}
		return strings.Join(a, ", ")
	}
	if same {
		return []string{"any link: " + addrs(via[0].Addrs)}
	}
	out := make([]string, len(via))
	for i, v := range via {
		name := v.Link
		if name == "" {
			name = "no link"
		}
		out[i] = name + ": " + addrs(v.Addrs)
	}
	return out
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

func clock(t time.Time) string { return t.UTC().Format("15:04:05") }

// stampAgo is t and how long ago it was, or "never".
func stampAgo(t, now time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return stamp(t) + " (" + ago(t, now) + ")"
}

func ago(t, now time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Second:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh %dm ago", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd ago", int(d.Hours()/24))
}

func latency(ms float64) string {
	if ms < 10 {
		return fmt.Sprintf("%.1f ms", ms)
	}
	return fmt.Sprintf("%.0f ms", ms)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
