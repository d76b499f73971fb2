package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
)

const usage = `usage: mxdns <command> [flags]

commands:
  serve   [-config FILE] [-log-format text|json]   answer DNS queries
  check   [-config FILE]                           validate a configuration
  route   DOMAIN [@SERVER[:PORT]] [-json]          show where mail for DOMAIN goes
  status  [-admin ADDR]                            show links, zones and reloads of a running server
  export  [-config FILE] [ZONE...]                 print zones as RFC 1035 master files
  import  FILE.zone [-origin NAME] [-join-txt]     print a master file as mxdns YAML
  version                                          print the version
`

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
		return runCheck(args, stdout, stderr)
	case "route":
		return runRoute(ctx, args, stdout, stderr)
	case "status":
		return runStatus(ctx, args, stdout, stderr)
	case "export":
		return runExport(args, stdout, stderr)
	case "import":
		return runImport(args, stdout, stderr)
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

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("mxdns "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
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

// flagError maps a flag parse error to the exit status: -h is success,
// anything else bad usage (the flag package has already said why).
func flagError(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return &exitError{code: 0}
	}
	return &exitError{code: 2}
}
