package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// The man page mxdns.1 and contrib/mxdns.bash-completion are rendered
// from the commands table and the flag sets by a test (man_test.go).
//go:generate go test -run ^TestGenerated$ . -update

// command is one subcommand as its help, the usage text and the man page
// describe it: this table is their single source (man.go renders it).
type command struct {
	name    string
	args    string // synopsis after the name and [flags]
	summary string // one line, in the command list
	doc     string // paragraphs for `mxdns CMD -h` and the man page
}

var commands = []command{
	{"serve", "", "answer DNS queries",
		"Serves the zones of the configuration (default " + defaultConfig + ") until SIGINT or SIGTERM. " +
			"A change to any file the configuration reads is picked up within a second; SIGHUP reloads at once. " +
			"A reload with errors keeps the previous configuration in service. " +
			"Warnings are logged once, when they first appear; `mxdns status` lists the current ones."},
	{"check", "[FILE]", "validate a configuration",
		"Loads the configuration FILE (or -config; default " + defaultConfig + ") as serve would and prints every error and warning at file:line:col. " +
			"Prints nothing else when there is no error, as named-checkconf does. " +
			"The exit status is 1 on any error, and with -strict on any warning too. " +
			"With -resolve it also looks past the zones, as receivers and the online checkers do: names it serves are answered from the configuration, the rest asked of a resolver (-resolver, default the system's). " +
			"It follows SPF through every include (DNS lookups, void lookups, loops), checks DMARC report addresses for their authorisation, DKIM key sizes, the MTA-STS policy over HTTPS against the MX set, TLS-RPT, BIMI and every MX host's addresses; -smtp also asks each MX host for STARTTLS on port 25. " +
			"Findings about records of the files are printed at their file:line:col, others under the name they are about. " +
			"MTA-STS policies are remembered in the state directory (-state-dir, else state_dir) to tell a policy changed without a new id."},
	{"route", "DOMAIN [@SERVER[:PORT]]", "show where mail for DOMAIN goes",
		"Asks a DNS server the questions a sending MTA asks (RFC 5321 §5.1) and prints where mail for DOMAIN goes. " +
			"SERVER defaults to " + defaultRouteServer + "; a SERVER given without a port is asked on port 53. " +
			"Flags and @SERVER may come in any order. " +
			"With -check it also judges the domain's mail records as check -resolve does, asking the resolver (-resolver, default the system's) what SERVER does not answer for, and everything when no @SERVER is given; the exit status is then 1 on any error found."},
	{"outbound", "[DOMAIN] [@SERVER[:PORT]]", "show what receivers see of mail sent over each link",
		"For each link with an outbound identity (links.NAME.outbound in the configuration, -config), prints every address mail leaves from, its PTR, the HELO name and whether it has the address back (forward-confirmed reverse DNS), and, for DOMAIN, whether its SPF passes the address and so DMARC by SPF alignment (the envelope sender and From being DOMAIN). " +
			"The answers come from our own data, as the server would give them with every link up; with @SERVER, from that server, a resolver showing what the world sees. " +
			"A SERVER given without a port is asked on port 53. Flags and @SERVER may come in any order."},
	{"status", "", "show links, zones, warnings and reloads of a running server",
		"Reads GET /status from the admin address of a running server (its admin: setting) and prints it as tables."},
	{"export", "[ZONE...]", "print zones as RFC 1035 master files",
		"Prints the named zones (default: all) exactly as a secondary receives them by AXFR, but unsigned: a signed zone's DNSKEY, RRSIG and NSEC records are the server's to make. " +
			"A ZONE may be written as a name or, for a reverse zone, as the network the configuration names it by (192.0.2.0/24)."},
	{"import", "FILE.zone", "print a master file as mxdns YAML",
		"Converts a BIND-style master file into a zone_files YAML file on standard output. " +
			"A record type mxdns does not serve is skipped with a warning naming its line on standard error (-strict makes it an error). " +
			"TXT strings are read as RFC 1035 says, escapes included, and written as one value unless the split matters."},
	{"dnssec", "ds ZONE | ds-seen ZONE | ds-gone ZONE | status [ZONE]", "show the DS records and keys of signed zones",
		"ds prints the DS records (SHA-256) the parent zone should publish, as the registrar wants them: of the key-signing key in use, or during a rollover of the new key. " +
			"ds-seen tells the server that the parent now publishes the new key's DS, which moves a KSK or CSK rollover on (dnssec.parents lets the server look itself); when the parent is a signed zone of this configuration, it refuses until that zone's ds: has the new key's DS. " +
			"ds-gone tells the server that the parent no longer publishes the DS of a zone whose dnssec: was removed: it stays signed until then, and goes unsigned once no cache can hold the DS. " +
			"status lists every key of the signed zones (or of ZONE): its tag, role, algorithm, where it stands since when, and the zone's next key event. " +
			"Keys are kept in the state directory (as serve finds it, or -state-dir) and made on first use, so the DS can be registered before the zone is served signed. " +
			"Back the state directory up: losing it loses the keys."},
	{"version", "", "print the version", ""},
}

// exitCodes closes the usage text and the man page's EXIT STATUS.
var exitCodes = [][2]string{
	{"0", "success; for check, a configuration without errors (and without warnings with -strict)"},
	{"1", "failure: configuration errors (or warnings with check -strict), a server that cannot start or be reached"},
	{"2", "bad usage: an unknown command or flag, a missing or extra argument"},
}

// usage is what `mxdns -h` prints.
var usage = func() string {
	var b strings.Builder
	b.WriteString("usage: mxdns <command> [flags] [arguments]\n\ncommands:\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-8s %s\n", c.name, c.summary)
	}
	b.WriteString("\n'mxdns <command> -h' shows a command's flags and arguments.\n\nexit status:\n")
	for _, e := range exitCodes {
		fmt.Fprintf(&b, "  %s  %s\n", e[0], e[1])
	}
	return b.String()
}()

const defaultConfig = "/etc/mxdns/config.yaml"

// run is the whole program but for signals and the exit status, so tests
// can drive it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return &exitError{code: 2}
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "serve":
		return runServe(ctx, args, stderr)
	case "check":
		return runCheck(ctx, args, stdout, stderr)
	case "route":
		return runRoute(ctx, args, stdout, stderr)
	case "outbound":
		return runOutbound(ctx, args, stdout, stderr)
	case "status":
		return runStatus(ctx, args, stdout, stderr)
	case "export":
		return runExport(args, stdout, stderr)
	case "import":
		return runImport(args, stdout, stderr)
	case "dnssec":
		return runDNSSEC(args, stdout, stderr)
	case "version":
		fs := newFlagSet("version", stderr)
		if err := parse(fs, args); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "mxdns %s\n", version)
		return nil
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprintf(stderr, "mxdns: unknown command %q\n\n%s", cmd, usage)
		return &exitError{code: 2}
	}
}

// flagSetMade, when set (by the man page test), is handed the flag set
// of a command asked for its help (-h), with all its flags defined.
var flagSetMade func(name string, fs *flag.FlagSet)

// newFlagSet makes a command's flag set whose -h prints the command's
// synopsis and doc from the commands table, then its flags.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("mxdns "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		if flagSetMade != nil {
			flagSetMade(name, fs)
		}
		w := fs.Output()
		fmt.Fprintf(w, "usage: %s\n", synopsis(name, fs))
		if c, ok := lookupCommand(name); ok && c.doc != "" {
			fmt.Fprintf(w, "\n%s\n", wrap(c.doc, 76))
		}
		if hasFlags(fs) {
			fmt.Fprintf(w, "\nflags:\n")
			fs.PrintDefaults()
		}
	}
	return fs
}

func lookupCommand(name string) (command, bool) {
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// synopsis is "mxdns NAME [flags] ARGS".
func synopsis(name string, fs *flag.FlagSet) string {
	s := "mxdns " + name
	if hasFlags(fs) {
		s += " [flags]"
	}
	if c, ok := lookupCommand(name); ok && c.args != "" {
		s += " " + c.args
	}
	return s
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// wrap fills text into lines of at most width columns.
func wrap(text string, width int) string {
	var b strings.Builder
	col := 0
	for _, w := range strings.Fields(text) {
		if col > 0 && col+1+len(w) > width {
			b.WriteByte('\n')
			col = 0
		} else if col > 0 {
			b.WriteByte(' ')
			col++
		}
		b.WriteString(w)
		col += len(w)
	}
	return b.String()
}

// parse parses flags of a command that takes no arguments, mapping
// errors to exit statuses as flagError does.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return flagError(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return &exitError{code: 2}
	}
	return nil
}

// parseInterleaved parses flags that may come before, between or after
// the arguments (`mxdns check FILE -strict`), returning the arguments.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, flagError(err)
		}
		if fs.NArg() == 0 {
			return rest, nil
		}
		rest = append(rest, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// flagError maps a flag parse error to the exit status: -h is success,
// anything else bad usage (the flag package has already said why).
func flagError(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return &exitError{code: 0}
	}
	return &exitError{code: 2}
}
