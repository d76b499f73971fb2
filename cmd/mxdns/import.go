package main

import (
	"fmt"
	"io"
	"os"

	"github.com/mxdns/mxdns/zonefile"
)

// runImport converts a BIND-style master file to mxdns YAML on stdout.
// Flags may come after the file name, as the usage shows.
func runImport(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("import", stderr)
	var opts zonefile.Options
	fs.StringVar(&opts.Origin, "origin", "", "zone `name` (default: the owner of the file's SOA)")
	fs.BoolVar(&opts.JoinTXT, "join-txt", false, "join any TXT record's strings, even where the split matters (SPF, DKIM, DMARC, MTA-STS and TLS-RPT records are joined without it)")
	fs.BoolVar(&opts.Strict, "strict", false, "a record of a type mxdns does not serve is an error, not a warning and a record skipped")
	fs.BoolVar(&opts.Helpers, "helpers", false, "write SPF, DKIM and DMARC records with the mail helpers spf:, dkim: and dmarc: where they publish the same text")
	var file string
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		file, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return flagError(err)
	}
	if file == "" && fs.NArg() == 1 {
		file = fs.Arg(0)
	} else if fs.NArg() > 0 || file == "" {
		fmt.Fprintf(stderr, "usage: %s\n", synopsis("import", fs))
		return &exitError{code: 2}
	}
	text, err := os.ReadFile(file)
	if err != nil {
		fmt.Fprintf(stderr, "mxdns import: %v\n", err)
		return &exitError{code: 1}
	}
	out, warnings, err := zonefile.Import(text, file, opts)
	for _, w := range warnings {
		fmt.Fprintln(stderr, w)
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return &exitError{code: 1}
	}
	_, err = stdout.Write(out)
	return err
}
