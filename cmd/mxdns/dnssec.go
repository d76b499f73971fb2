package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/dnssec"
	"github.com/mxdns/mxdns/state"
	"github.com/mxdns/mxdns/zone"
)

// runDNSSEC is `mxdns dnssec ds ZONE`, `mxdns dnssec ds-seen ZONE` and
// `mxdns dnssec status [ZONE]`: what the registrar needs, telling the
// server the parent has it, and where the keys stand. A running server
// owns the key files: these commands only read them (ds makes the first
// keys when there are none yet, so the DS can be registered before the
// zone is served signed), and ds-seen leaves a mark the server takes in.
func runDNSSEC(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("dnssec", stderr)
	config := fs.String("config", defaultConfig, "configuration `file`")
	stateDir := fs.String("state-dir", "", "`directory` the keys are kept in (default: as serve finds it)")
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	sub := ""
	if len(rest) > 0 {
		sub = rest[0]
	}
	switch {
	case (sub == "ds" || sub == "ds-seen" || sub == "ds-gone") && len(rest) == 2, sub == "status" && len(rest) <= 2:
	default:
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
	if sub == "ds-gone" {
		return dsGone(stdout, stderr, snap, dns.CanonicalName(rest[1]), keyDir(*stateDir, *config))
	}
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
	switch sub {
	case "ds":
		return printDS(stdout, d, snap, origins[0], now)
	case "ds-seen":
		if err := parentPublishes(snap, d, origins[0]); err != nil {
			fmt.Fprintf(stderr, "mxdns dnssec: %v\n", err)
			return &exitError{code: 1}
		}
		if err := d.MarkDSSeen(origins[0], now); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: the parent's DS is marked seen; a running server moves the rollover on within a minute, or at once on SIGHUP\n",
			strings.TrimSuffix(origins[0], "."))
		return nil
	}
	return printKeyStatus(stdout, d, snap, origins, now)
}

// parentPublishes refuses ds-seen for a zone whose parent mxdns serves,
// signed, without the DS of every key that waits for one: the rollover
// would go on and, once the old key goes, validators would find the
// zone bogus. A parent served elsewhere is the operator's to check.
func parentPublishes(snap *zone.Snapshot, d *state.Dir, origin string) error {
	parent, ds, ok := snap.ParentDS(origin)
	if !ok {
		return nil
	}
	keys, err := d.Keys(origin)
	if err != nil {
		return err
	}
	var missing []string
	for _, k := range keys {
		if k.WaitsForDS() && !slices.ContainsFunc(ds, k.NamedBy) {
			missing = append(missing, fmt.Sprint(k.Tag()))
		}
	}
	if len(missing) == 0 {
		return nil
	}
	name := strings.TrimSuffix(origin, ".")
	return fmt.Errorf("zone %s, served here, does not publish the DS of %s's key %s at its delegation: "+
		"write the lines `mxdns dnssec ds %s` prints in ds: at %s there, and let the server load it, first; "+
		"marked seen now, %s would be bogus to validating resolvers once its old key goes",
		strings.TrimSuffix(parent, "."), name, strings.Join(missing, ", "), name, name, name)
}

// dsGone tells the server that the parent no longer publishes the DS of
// origin, whose dnssec: was removed: the zone goes unsigned once no cache
// can hold the DS.
func dsGone(stdout, stderr io.Writer, snap *zone.Snapshot, origin, dir string) error {
	name := strings.TrimSuffix(origin, ".")
	switch {
	case !snap.Serves(origin):
		fmt.Fprintf(stderr, "mxdns dnssec: zone %s is not served (%s)\n", name, servedZones(snap))
		return &exitError{code: 1}
	case dir == "":
		fmt.Fprintln(stderr, "mxdns dnssec: no state directory: set -state-dir or state_dir")
		return &exitError{code: 1}
	}
	if _, ok := snap.Signing(origin); ok {
		fmt.Fprintf(stderr, "mxdns dnssec: zone %s is still configured with dnssec: remove it first, then the DS at the registrar\n", name)
		return &exitError{code: 1}
	}
	d, err := state.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if !d.HasKeys(origin) {
		fmt.Fprintf(stderr, "mxdns dnssec: zone %s has no keys: it is unsigned already\n", name)
		return &exitError{code: 1}
	}
	if err := d.MarkDSGone(origin, time.Now()); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: the parent's DS is marked gone; the zone goes unsigned a day and an hour from now, when no cache can hold the DS\n", name)
	return nil
}

// printDS prints the DS records the parent should publish: of the key
// submitted to it during a rollover, else of the key-signing key in use.
func printDS(w io.Writer, d *state.Dir, snap *zone.Snapshot, origin string, now time.Time) error {
	keys, err := d.Keys(origin)
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		p, _ := snap.Signing(origin)
		zk, err := d.ZoneKeys(origin, p, snap.KeyTiming(origin), now)
		if err != nil {
			return err
		}
		if err := d.FlushKeys(); err != nil {
			return err
		}
		keys = zk.Keys
	}
	var active, submitted []*dnssec.Key
	for _, k := range keys {
		switch {
		case k.Role == dnssec.ZSK || !k.Removed.IsZero() || k.Published.IsZero():
		case !k.Submitted.IsZero() && k.DSSeen.IsZero():
			submitted = append(submitted, k)
		case !k.Active.IsZero() && k.Retired.IsZero():
			active = append(active, k)
		}
	}
	if len(submitted) > 0 {
		active = submitted
	}
	for _, k := range active {
		fmt.Fprintln(w, k.DS().String())
	}
	return nil
}

// printKeyStatus lists every key of the zones: where it stands and what
// comes next, as the server would see it now.
func printKeyStatus(w io.Writer, d *state.Dir, snap *zone.Snapshot, origins []string, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ZONE\tKEY TAG\tROLE\tALGORITHM\tSTATE\tSINCE\tNEXT EVENT")
	for _, origin := range origins {
		keys, err := d.Keys(origin)
		if err != nil {
			return err
		}
		p, _ := snap.Signing(origin)
		_, _, next, err := dnssec.Advance(origin, keys, p, snap.KeyTiming(origin), now)
		if err != nil {
			return err
		}
		nextText := "none"
		if !next.IsZero() {
			nextText = next.UTC().Format(time.RFC3339)
		}
		if len(keys) == 0 {
			fmt.Fprintf(tw, "%s\t-\t-\t-\tno keys yet: made when first served\t-\t-\n", strings.TrimSuffix(origin, "."))
		}
		for _, k := range keys {
			st, since := keyState(k)
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\n", strings.TrimSuffix(origin, "."), k.Tag(), k.Role,
				strings.ToLower(dns.AlgorithmToString[k.DNSKEY.Algorithm]), st, since.UTC().Format(time.RFC3339), nextText)
		}
	}
	return tw.Flush()
}

// keyState names the last thing that happened to k.
func keyState(k *dnssec.Key) (string, time.Time) {
	switch {
	case !k.Removed.IsZero():
		return "removed", k.Removed
	case !k.Retired.IsZero():
		return "retired", k.Retired
	case !k.DSSeen.IsZero() && k.Active.IsZero():
		return "ds seen", k.DSSeen
	case !k.Submitted.IsZero() && k.DSSeen.IsZero():
		return "waiting for the parent's DS (mxdns dnssec ds, then ds-seen)", k.Submitted
	case !k.Active.IsZero():
		return "active", k.Active
	case !k.Published.IsZero():
		return "published", k.Published
	}
	return "created", k.Created
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
