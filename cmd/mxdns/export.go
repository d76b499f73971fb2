package main

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/mxdns/mxdns/zone"
)

// runExport writes zones as RFC 1035 master files, exactly as a secondary
// would receive them by AXFR: all zones when none is named.
func runExport(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("export", stderr)
	config := fs.String("config", defaultConfig, "configuration `file`")
	if err := fs.Parse(args); err != nil {
		return flagError(err)
	}
	snap, diags := zone.Load(*config, nil)
	if diags.Err() != nil {
		for _, d := range diags.Errors() {
			fmt.Fprintln(stderr, d.String())
		}
		return &exitError{code: 1}
	}
	origins := fs.Args()
	if len(origins) == 0 {
		origins = zoneNames(snap)
	}
	w := bufio.NewWriter(stdout)
	for i, origin := range origins {
		if i > 0 {
			fmt.Fprintln(w)
		}
		if err := snap.Export(w, origin); err != nil {
			w.Flush()
			fmt.Fprintf(stderr, "mxdns export: %v (%s)\n", err, servedZones(snap))
			return &exitError{code: 1}
		}
	}
	return w.Flush()
}

// zoneNames lists the origins of the zones snap serves, sorted.
// servedZones names the zones served for an error message: all of a few,
// and only how many of a hosting provider's thousands.
func servedZones(snap *zone.Snapshot) string {
	names := zoneNames(snap)
	if len(names) > 10 {
		return fmt.Sprintf("%d zones served", len(names))
	}
	return "served: " + strings.Join(names, ", ")
}

func zoneNames(snap *zone.Snapshot) []string {
	var out []string
	for _, z := range snap.Zones() {
		out = append(out, z.Origin)
	}
	return out
}
