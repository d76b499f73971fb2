package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"github.com/mxdns/mxdns/zone"
)

// runCheck prints every diagnostic of the configuration. Like
// named-checkconf it says nothing more when the configuration loads: the
// exit status is the verdict (1 on errors, and on warnings with -strict).
func runCheck(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("check", stderr)
	config := fs.String("config", defaultConfig, "configuration `file` (or give it as the argument)")
	strict := fs.Bool("strict", false, "treat warnings as errors: any warning makes the exit status 1")
	format := fs.String("format", "text", "output `format`: text or json (a list of diagnostics and a summary)")
	verbose := fs.Bool("v", false, "end with a summary line even when the configuration is fine")
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

	snap, diags := zone.Load(*config, nil)
	nerr, nwarn := len(diags.Errors()), len(diags.Warnings())
	failed := nerr > 0 || *strict && nwarn > 0
	zones := 0
	if nerr == 0 {
		zones = snap.ZoneCount()
	}
	if *format == "json" {
		if err := writeCheckJSON(stdout, *config, diags, zones, !failed); err != nil {
			return err
		}
	} else {
		for _, d := range diags {
			fmt.Fprintln(stdout, d.String())
		}
		switch {
		case nerr > 0:
			fmt.Fprintf(stdout, "%s: %s, %s\n", *config, plural(nerr, "error"), plural(nwarn, "warning"))
		case failed:
			fmt.Fprintf(stdout, "%s: %s, failing as -strict asks\n", *config, plural(nwarn, "warning"))
		case *verbose:
			fmt.Fprintf(stdout, "%s: ok, %s, %s\n", *config, plural(zones, "zone"), plural(nwarn, "warning"))
		}
	}
	if failed {
		return &exitError{code: 1}
	}
	return nil
}

// checkDiagnostic is one finding in check -format json.
type checkDiagnostic struct {
	File     string `json:"file"`
	Line     int    `json:"line"`
	Col      int    `json:"col"`
	Severity string `json:"severity"` // error or warning
	Message  string `json:"message"`
}

// checkReport is the whole output of check -format json.
type checkReport struct {
	Diagnostics []checkDiagnostic `json:"diagnostics"`
	Summary     struct {
		File     string `json:"file"`
		OK       bool   `json:"ok"` // the exit status is 0
		Errors   int    `json:"errors"`
		Warnings int    `json:"warnings"`
		Zones    int    `json:"zones"`
	} `json:"summary"`
}

func writeCheckJSON(w io.Writer, file string, diags zone.Diagnostics, zones int, ok bool) error {
	rep := checkReport{Diagnostics: []checkDiagnostic{}}
	for _, d := range diags {
		sev := "error"
		if d.Severity == zone.Warning {
			sev = "warning"
		}
		rep.Diagnostics = append(rep.Diagnostics, checkDiagnostic{d.File, d.Line, d.Col, sev, d.Msg})
	}
	rep.Summary.File, rep.Summary.OK, rep.Summary.Zones = file, ok, zones
	rep.Summary.Errors, rep.Summary.Warnings = len(diags.Errors()), len(diags.Warnings())
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
