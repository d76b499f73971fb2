package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The man page and the bash completion are rendered from what -h prints:
// the commands table in run.go and each command's real flag set. This
// test fails when the committed copies are stale; -update rewrites them
// (go generate ./cmd/mxdns runs it: see run.go).

var update = flag.Bool("update", false, "rewrite mxdns.1 and contrib/mxdns.bash-completion")

const (
	manPath        = "../../mxdns.1"
	completionPath = "../../contrib/mxdns.bash-completion"
)

func TestGenerated(t *testing.T) {
	flags := commandFlags(t)
	for path, text := range map[string]string{manPath: manPage(flags), completionPath: bashCompletion(flags)} {
		if *update {
			if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != text {
			t.Errorf("%s is stale or missing (%v): run go generate ./cmd/mxdns", path, err)
		}
	}
}

// TestCompletionScript: bash reads the script and completes a command's
// flag from it.
func TestCompletionScript(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	script := `source "$1"; COMP_WORDS=(mxdns check -str); COMP_CWORD=2; _mxdns; echo "${COMPREPLY[@]}"`
	out, err := exec.Command(bash, "-c", script, "bash", completionPath).CombinedOutput()
	if err != nil || string(out) != "-strict\n" {
		t.Errorf("completing mxdns check -str: %q, %v", out, err)
	}
}

// commandFlags asks each command for its help and keeps the flag set the
// help was printed from, so no flag can be left out of the page.
func commandFlags(t *testing.T) map[string][]*flag.Flag {
	t.Helper()
	out := make(map[string][]*flag.Flag)
	flagSetMade = func(name string, fs *flag.FlagSet) {
		var fl []*flag.Flag
		fs.VisitAll(func(f *flag.Flag) { fl = append(fl, f) })
		out[name] = fl
	}
	defer func() { flagSetMade = nil }()
	for _, c := range commands {
		if err := run(context.Background(), []string{c.name, "-h"}, io.Discard, io.Discard); err != nil {
			var ee *exitError
			if !asExit(err, &ee) || ee.code != 0 {
				t.Fatalf("%s -h: %v", c.name, err)
			}
		}
		if _, ok := out[c.name]; !ok {
			t.Fatalf("%s -h printed no flag set's help", c.name)
		}
	}
	return out
}

func asExit(err error, ee **exitError) bool {
	e, ok := err.(*exitError)
	*ee = e
	return ok
}

// roff escapes text for a man page: backslashes, dashes of flags, a
// control character at the start of a line, and `code` in bold.
func roff(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	s = regexp.MustCompile(`(^|[\s(\[])-`).ReplaceAllString(s, `$1\-`)
	s = regexp.MustCompile("`([^`]*)`").ReplaceAllString(s, `\fB$1\fR`)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}

func manPage(flags map[string][]*flag.Flag) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p(`.\" Generated from cmd/mxdns/run.go by go generate ./cmd/mxdns; do not edit.`)
	p(`.TH MXDNS 1 "" "mxdns" "User Commands"`)
	p(".SH NAME")
	p(`mxdns \- authoritative DNS server for mail domains`)
	p(".SH SYNOPSIS")
	for _, c := range commands {
		p(".B mxdns %s", c.name)
		rest := ""
		if len(flags[c.name]) > 0 {
			rest = "[flags]"
		}
		if c.args != "" {
			rest = strings.TrimSpace(rest + " " + c.args)
		}
		if rest != "" {
			p(".I %s", roff(rest))
		}
		p(".br")
	}
	p(".SH DESCRIPTION")
	p("mxdns answers DNS queries for the zones of a YAML configuration, with helpers for mail records (MX, SPF, DKIM, DMARC, MTA-STS, TLS-RPT, PTR) and answers that follow the state of WAN links.")
	p("Each command is described below with its flags; \\fBmxdns\\fR \\fIcommand\\fR \\fB\\-h\\fR prints the same text.")
	p(".SH COMMANDS")
	for _, c := range commands {
		p(`.SS "%s"`, roff(synopsisOf(c, flags)))
		p("%s", roff(c.summary+"."))
		if c.doc != "" {
			p(".PP")
			p("%s", roff(c.doc))
		}
		for _, f := range flags[c.name] {
			arg, usage := flag.UnquoteUsage(f)
			p(".TP")
			if arg != "" {
				p(`.BI \-%s " %s"`, f.Name, arg)
			} else {
				p(`.B \-%s`, f.Name)
			}
			if f.DefValue != "" && f.DefValue != "false" {
				usage += " (default: " + f.DefValue + ")"
			}
			p("%s", roff(usage))
		}
	}
	p(".SH EXIT STATUS")
	for _, e := range exitCodes {
		p(".TP")
		p(".B %s", e[0])
		p("%s", roff(e[1]))
	}
	p(".SH FILES")
	p(".TP")
	p(".I %s", defaultConfig)
	p("The configuration read by default.")
	p(".SH SEE ALSO")
	p(".BR dig (1),")
	p(".BR named\\-checkconf (8),")
	p(".BR systemd.exec (5)")
	return b.String()
}

func synopsisOf(c command, flags map[string][]*flag.Flag) string {
	s := "mxdns " + c.name
	if len(flags[c.name]) > 0 {
		s += " [flags]"
	}
	if c.args != "" {
		s += " " + c.args
	}
	return s
}

// bashCompletion completes command names, each command's flags, the
// values of flags that take a few words, and file names elsewhere.
func bashCompletion(flags map[string][]*flag.Flag) string {
	var b bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	var names []string
	for _, c := range commands {
		names = append(names, c.name)
	}
	p("# bash completion for mxdns. Generated from cmd/mxdns/run.go by")
	p("# go generate ./cmd/mxdns; do not edit.")
	p("_mxdns() {")
	p("\tlocal cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}")
	p("\tif [ \"$COMP_CWORD\" -eq 1 ]; then")
	p("\t\tCOMPREPLY=($(compgen -W %q -- \"$cur\"))", strings.Join(append(names, "help"), " "))
	p("\t\treturn")
	p("\tfi")
	p("\tlocal flags=\"\"")
	p("\tcase ${COMP_WORDS[1]} in")
	for _, c := range commands {
		var fl []string
		for _, f := range flags[c.name] {
			fl = append(fl, "-"+f.Name)
		}
		p("\t%s) flags=%q ;;", c.name, strings.Join(fl, " "))
	}
	p("\tesac")
	p("\tcase $prev in")
	for _, v := range flagValues(flags) {
		p("\t%s) COMPREPLY=($(compgen -W %q -- \"$cur\")); return ;;", v[0], v[1])
	}
	p("\t-config) COMPREPLY=($(compgen -f -- \"$cur\")); return ;;")
	p("\tesac")
	p("\tif [[ $cur == -* ]]; then")
	p("\t\tCOMPREPLY=($(compgen -W \"$flags\" -- \"$cur\"))")
	p("\telse")
	p("\t\tCOMPREPLY=($(compgen -f -- \"$cur\"))")
	p("\tfi")
	p("}")
	p("complete -o filenames -F _mxdns mxdns")
	return b.String()
}

// flagValues lists the flags whose help names their values as
// "a, b or c" or "a or b", with those values.
func flagValues(flags map[string][]*flag.Flag) [][2]string {
	seen := make(map[string]bool)
	var out [][2]string
	words := regexp.MustCompile(`: ((?:[a-z]+, )*[a-z]+ or [a-z]+)\b`)
	for _, c := range commands {
		for _, f := range flags[c.name] {
			m := words.FindStringSubmatch(f.Usage)
			if m == nil || seen[f.Name] {
				continue
			}
			seen[f.Name] = true
			vals := strings.Fields(strings.NewReplacer(",", "", " or ", " ").Replace(m[1]))
			out = append(out, [2]string{"-" + f.Name, strings.Join(vals, " ")})
		}
	}
	slices.SortFunc(out, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
	return out
}
