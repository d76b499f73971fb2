package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/dnssec"
	"github.com/mxdns/mxdns/state"
	"github.com/mxdns/mxdns/zone"
)

// runDNSSEC is `mxdns dnssec ds ZONE` and `mxdns dnssec status [ZONE]`:
// what an operator hands the registrar, and what the keys are. Keys are
// made on first use, here as in the server, so the DS can be registered
// before the zone is served signed.
func runDNSSEC(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("dnssec", stderr)
	config := fs.String("config", defaultConfig, "configuration `file`")
	stateDir := fs.String("state-dir", "", "`directory` the keys are kept in (default: as serve finds it)")
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(rest) == 0 || rest[0] != "ds" && rest[0] != "status" || rest[0] == "ds" && len(rest) != 2 || len(rest) > 2 {
		fmt.Fprintf(stderr, "usage: %s\n", synopsis("dnssec", fs))
		return &exitError{code: 2}
	}
	snap, diags := zone.Load(*config, nil)
	if diags.Err() != nil {
		for _, d := range diags.Errors() {
			fmt.Fprintln(stderr, d.String())
		}
		return &exitError{code: 1}
	}
	origins := snap.SignedZones()
	if len(rest) == 2 {
		origin := dns.CanonicalName(rest[1])
		if _, ok := snap.Signing(origin); !ok {
			what := "not signed: add dnssec: on to it, or at the top level"
			if !snap.Serves(origin) {
				what = "not served (" + servedZones(snap) + ")"
			}
			fmt.Fprintf(stderr, "mxdns dnssec: zone %s is %s\n", strings.TrimSuffix(origin, "."), what)
			return &exitError{code: 1}
		}
		origins = []string{origin}
	}
	dir := keyDir(*stateDir, *config)
	if dir == "" {
		fmt.Fprintln(stderr, "mxdns dnssec: no state directory: set -state-dir or state_dir")
		return &exitError{code: 1}
	}
	d, err := state.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	now := time.Now()
	if rest[0] == "ds" {
		p, _ := snap.Signing(origins[0])
		keys, err := d.ZoneKeys(origins[0], p, now)
		if err != nil {
			return err
		}
		for _, k := range keys.Keys {
			if k.Role != dnssec.ZSK {
				fmt.Fprintln(stdout, k.DS().String())
			}
		}
		return nil
	}
	w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "ZONE\tKEY TAG\tROLE\tALGORITHM\tCREATED\tNEXT EVENT")
	for _, origin := range origins {
		p, _ := snap.Signing(origin)
		keys, err := d.ZoneKeys(origin, p, now)
		if err != nil {
			return err
		}
		for _, k := range keys.Keys {
			fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\n", strings.TrimSuffix(origin, "."), k.Tag(), k.Role,
				strings.ToLower(dns.AlgorithmToString[k.DNSKEY.Algorithm]), k.Created.UTC().Format(time.RFC3339), "none: rollovers are not automatic yet")
		}
	}
	return w.Flush()
}

// keyDir is the state directory serve would use.
func keyDir(flagDir, config string) string {
	dir := flagDir
	if dir == "" {
		dir = zone.ConfigStateDir(config)
	}
	if dir == "" {
		dir = zone.DefaultStateDir()
	}
	if dir == "" {
		return ""
	}
	return zone.AbsPath(dir)
}
