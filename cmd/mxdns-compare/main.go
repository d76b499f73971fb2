// Command mxdns-compare checks mxdns's answers against reference
// authoritative servers (Knot DNS and NSD) serving the same records as
// RFC 1035 zone files. It starts mxdns in-process on a loopback port, exports
// every zone, starts each reference on its own port, sends every query of
// a set generated from the zones to all of them over UDP and TCP, with and
// without EDNS, and prints a diff for each reply that disagrees beyond the
// documented differences in allow.go.
//
//	mxdns-compare [-ref knot,nsd] [-v] CONFIG...
//
// It exits 1 on any disagreement and ends with "reference: N passed, M failed".
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mxdns-compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	refs := fs.String("ref", "knot,nsd", "reference servers to compare with, comma separated: knot, nsd")
	verbose := fs.Bool("v", false, "print every query compared, not only the failures")
	keep := fs.Bool("keep", false, "keep the scratch directory (exported zones, reference configs and logs)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "usage: mxdns-compare [-ref knot,nsd] [-v] CONFIG...")
		return 2
	}
	var total tally
	for _, config := range fs.Args() {
		t, err := compareConfig(ctx, config, strings.Split(*refs, ","), options{verbose: *verbose, keep: *keep, out: stdout})
		total.add(t)
		if err != nil {
			fmt.Fprintf(stderr, "mxdns-compare: %s: %v\n", config, err)
			total.failed++
		}
	}
	ids := make([]string, 0, len(total.needed))
	for id := range total.needed {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		fmt.Fprintf(stdout, "allowance %s: needed %d times\n", id, total.needed[id])
	}
	fmt.Fprintf(stdout, "reference: %d passed, %d failed (%d allowed differences)\n", total.passed, total.failed, total.allowed)
	if total.failed > 0 {
		return 1
	}
	return 0
}

type options struct {
	verbose, keep bool
	out           io.Writer
}

// tally counts comparisons; allowed those that passed only thanks to an
// allowance, and needed how often each allowance ("ref id") was needed.
type tally struct {
	passed, failed, allowed int
	needed                  map[string]int
}

func (t *tally) add(o tally) {
	t.passed += o.passed
	t.failed += o.failed
	t.allowed += o.allowed
	if t.needed == nil {
		t.needed = make(map[string]int)
	}
	for id, n := range o.needed {
		t.needed[id] += n
	}
}
