package main

import (
	"fmt"
	"io"

	"github.com/mxdns/mxdns/zone"
)

// runCheck prints every diagnostic of the configuration and a summary; any
// error makes the exit status 1.
func runCheck(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("check", stderr)
	config := fs.String("config", defaultConfig, "configuration `file`")
	if err := parse(fs, args); err != nil {
		return err
	}

	snap, diags := zone.Load(*config, nil)
	for _, d := range diags {
		fmt.Fprintln(stdout, d.String())
	}
	nerr, nwarn := len(diags.Errors()), len(diags.Warnings())
	if nerr > 0 {
		fmt.Fprintf(stdout, "%s: %s, %s\n", *config, plural(nerr, "error"), plural(nwarn, "warning"))
		return &exitError{code: 1}
	}
	fmt.Fprintf(stdout, "%s: ok, %s, %s\n", *config, plural(snap.ZoneCount(), "zone"), plural(nwarn, "warning"))
	return nil
}

func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}
