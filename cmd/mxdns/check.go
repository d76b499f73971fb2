package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/mxdns/mxdns/mailcheck"
	"github.com/mxdns/mxdns/route"
	"github.com/mxdns/mxdns/state"
	"github.com/mxdns/mxdns/zone"
)

// runCheck prints every diagnostic of the configuration. Like
// named-checkconf it says nothing more when the configuration loads: the
// exit status is the verdict (1 on errors, and on warnings with -strict).
func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("check", stderr)
	config := fs.String("config", defaultConfig, "configuration `file` (or give it as the argument)")
	strict := fs.Bool("strict", false, "treat warnings as errors: any warning makes the exit status 1")
	format := fs.String("format", "text", "output `format`: text or json (a list of diagnostics and a summary)")
	verbose := fs.Bool("v", false, "end with a summary line even when the configuration is fine")
	resolve := fs.Bool("resolve", false, "also check what lies outside the zones (SPF includes, DMARC report addresses, MTA-STS policies, DKIM keys, MX hosts) through a resolver")
	resolver := fs.String("resolver", "", "with -resolve: the resolver `address` to ask (host or host:port; default the first nameserver of /etc/resolv.conf)")
	smtp := fs.Bool("smtp", false, "with -resolve: connect to every MX host's port 25 and try STARTTLS")
	timeout := fs.Duration("timeout", mailRunTimeout, "with -resolve: give up on what is not checked after this long")
	stateDir := fs.String("state-dir", "", "with -resolve: `directory` that remembers MTA-STS policies between runs (default: state_dir of the configuration; none: not remembered)")
	files, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(files) > 1:
		fmt.Fprintf(stderr, "mxdns check: one configuration file, not %d\nusage: %s\n", len(files), synopsis("check", fs))
		return &exitError{code: 2}
	case len(files) == 1 && flagSet(fs, "config") && files[0] != *config:
		fmt.Fprintf(stderr, "mxdns check: -config %s and argument %s: give the file once\n", *config, files[0])
		return &exitError{code: 2}
	case len(files) == 1:
		*config = files[0]
	}
	if *format != "text" && *format != "json" {
		fmt.Fprintf(stderr, "mxdns check: -format must be text or json, not %q\n", *format)
		return &exitError{code: 2}
	}

	for _, name := range []string{"resolver", "smtp", "timeout", "state-dir"} {
		if flagSet(fs, name) && !*resolve {
			fmt.Fprintf(stderr, "mxdns check: -%s goes with -resolve\n", name)
			return &exitError{code: 2}
		}
	}

	snap, diags, keyNotes := loadChecked(*config)
	var found []checkFinding
	for _, d := range diags {
		found = append(found, staticFinding(d))
	}
	found = append(found, keyNotes...)
	if *resolve && diags.Err() != nil {
		fmt.Fprintf(stderr, "mxdns check: -resolve: not run, the configuration has errors\n")
	}
	if *resolve && diags.Err() == nil {
		addr, err := resolverAddr(*resolver)
		if err != nil {
			fmt.Fprintf(stderr, "mxdns check: %v\n", err)
			return &exitError{code: 1}
		}
		dir := *stateDir
		if dir == "" {
			dir = snap.Settings().StateDir
		}
		ctx, cancel := context.WithTimeout(ctx, *timeout)
		defer cancel()
		if err := probeResolver(ctx, addr); err != nil {
			fmt.Fprintf(stderr, "mxdns check: %v; give another with -resolver ADDR\n", err)
			return &exitError{code: 1}
		}
		ex := localExchange(snap, route.Client(addr, mailQueryTimeout))
		opts := mailOptions(ex, *smtp, dir)
		opts.Zone = func(name string) string { return ourZone(snap, name) }
		found = mergeFindings(snap, found, mailcheck.Check(ctx, opts, mailDomains(snap)))
	}
	var nerr, nwarn, nnote int
	for _, f := range found {
		switch f.Severity {
		case "error":
			nerr++
		case "warning":
			nwarn++
		default:
			nnote++
		}
	}
	failed := nerr > 0 || *strict && nwarn > 0
	zones := 0
	if diags.Err() == nil {
		zones = snap.ZoneCount()
	}
	if *format == "json" {
		if err := writeCheckJSON(stdout, *config, found, zones, !failed); err != nil {
			return err
		}
	} else {
		for _, f := range found {
			fmt.Fprintln(stdout, f.String())
		}
		notes := ""
		if nnote > 0 {
			notes = ", " + plural(nnote, "note")
		}
		switch {
		case nerr > 0:
			fmt.Fprintf(stdout, "%s: %s, %s%s\n", *config, plural(nerr, "error"), plural(nwarn, "warning"), notes)
		case failed:
			fmt.Fprintf(stdout, "%s: %s, failing as -strict asks\n", *config, plural(nwarn, "warning"))
		case *verbose:
			fmt.Fprintf(stdout, "%s: ok, %s, %s%s\n", *config, plural(zones, "zone"), plural(nwarn, "warning"), notes)
		}
	}
	if failed {
		return &exitError{code: 1}
	}
	return nil
}

// checkFinding is one finding as check prints it, from the files' checks
// or the resolving ones: at file:line:col when it is about a record of
// ours, else under the name it is about.
type checkFinding struct {
	File     string `json:"file"`
	Line     int    `json:"line"`
	Col      int    `json:"col"`
	Name     string `json:"name,omitempty"`  // the name the finding is about, outside our files
	Check    string `json:"check,omitempty"` // the resolving check that found it
	Severity string `json:"severity"`        // error, warning or note
	Message  string `json:"message"`
}

// String is the finding as zone.Diagnostic prints one: "error: " is
// left out.
func (f checkFinding) String() string {
	where := f.Name
	if f.File != "" {
		where = zone.Diagnostic{File: f.File, Line: f.Line, Col: f.Col}.String()
		where = strings.TrimSuffix(where, ": ")
	}
	sev := ""
	if f.Severity != "error" {
		sev = f.Severity + ": "
	}
	if where == "" {
		return sev + f.Message
	}
	return where + ": " + sev + f.Message
}

func staticFinding(d zone.Diagnostic) checkFinding {
	sev := "error"
	if d.Severity == zone.Warning {
		sev = "warning"
	}
	return checkFinding{File: d.File, Line: d.Line, Col: d.Col, Severity: sev, Message: d.Msg}
}

// mergeFindings adds the resolving checks' findings to the files': those
// about records of ours at their positions, in file order with the rest;
// those outside after them, in the order found.
func mergeFindings(snap *zone.Snapshot, static []checkFinding, fs []mailcheck.Finding) []checkFinding {
	rank := map[string]int{}
	for _, f := range snap.Files() {
		if _, ok := rank[f]; !ok {
			rank[f] = len(rank)
		}
	}
	ours := static
	var outside []checkFinding
	for _, f := range fs {
		cf := checkFinding{Check: f.Check, Severity: f.Severity.String(), Message: f.Msg}
		if w := locate(snap, f); w != nil {
			cf.File, cf.Line, cf.Col = w.File, w.Line, w.Col
			ours = append(ours, cf)
			continue
		}
		cf.Name = strings.TrimSuffix(f.Name, ".")
		outside = append(outside, cf)
	}
	sort.SliceStable(ours, func(i, j int) bool {
		a, b := ours[i], ours[j]
		if a.File != b.File {
			return rank[a.File] < rank[b.File]
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	return append(ours, outside...)
}

// checkReport is the whole output of check -format json.
type checkReport struct {
	Diagnostics []checkFinding `json:"diagnostics"`
	Summary     struct {
		File     string `json:"file"`
		OK       bool   `json:"ok"` // the exit status is 0
		Errors   int    `json:"errors"`
		Warnings int    `json:"warnings"`
		Notes    int    `json:"notes,omitempty"`
		Zones    int    `json:"zones"`
	} `json:"summary"`
}

func writeCheckJSON(w io.Writer, file string, found []checkFinding, zones int, ok bool) error {
	rep := checkReport{Diagnostics: []checkFinding{}}
	for _, f := range found {
		rep.Diagnostics = append(rep.Diagnostics, f)
		switch f.Severity {
		case "error":
			rep.Summary.Errors++
		case "warning":
			rep.Summary.Warnings++
		default:
			rep.Summary.Notes++
		}
	}
	rep.Summary.File, rep.Summary.OK, rep.Summary.Zones = file, ok, zones
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// flagSet reports whether the flag was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	found := false
	fs.Visit(func(f *flag.Flag) { found = found || f.Name == name })
	return found
}

func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// loadChecked loads the configuration as serve does, with the keys of
// its signed zones as the state directory keeps them, read only: the DS
// a parent served here publishes for a child is checked against the
// keys the child is served with.
// Keys it cannot read make one note, not an error: the configuration may
// be fine, and check is often run as a user who may not read them.
func loadChecked(config string) (*zone.Snapshot, zone.Diagnostics, []checkFinding) {
	opts := zone.Options{Strict: true}
	var kept *state.KeptKeys
	if dir := keyDir("", config); dir != "" {
		kept = state.KeysAsKept(dir)
		opts.Keys = kept
	}
	l := zone.Open(config, nil, opts)
	var notes []checkFinding
	if kept != nil {
		if zones, err := kept.Unreadable(); len(zones) > 0 {
			notes = append(notes, checkFinding{Name: zones[0], Severity: "note", Message: fmt.Sprintf(
				"the keys of %s could not be read (%v): the DS records a parent served here publishes for them were not checked; run mxdns check as the user mxdns serves as",
				plural(len(zones), "signed zone"), err)})
		}
	}
	return l.Snapshot, l.Diags, notes
}
