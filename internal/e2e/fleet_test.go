package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/internal/harness"
)

// Issue #17: secondaries that learn every zone from mxdns's catalog zone
// (RFC 9432). fleetZones zone files are served; every tenth is in the
// group "mirror"; one more is written catalog: false.
const (
	fleetZones   = 100
	fleetSecret  = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ="
	fleetCatalog = "catalog.invalid."
	// fleetWithin is how soon a zone added or deleted must be served, or
	// no longer served, by every secondary: the promise. It
	// normally takes a fraction of a second (NOTIFY, two transfers).
	fleetWithin = 5 * time.Second
)

// fleet is mxdns with its zone files and the Knot secondaries following
// its catalog.
type fleet struct {
	t     *testing.T
	dir   string
	srv   *harness.Server
	knots []*harness.KnotSecondary
}

func fleetZone(i int) string { return fmt.Sprintf("z%03d.test.", i) }

// fleetZoneFile is a zone file of origin; group "" writes none.
func fleetZoneFile(origin, group, extra string) string {
	text := fmt.Sprintf("zones:\n  %s:\n    ns: [ns1.example.net.]\n    records:\n      www: {a: 192.0.2.80}\n      mx1: {a: 192.0.2.25}\n", origin)
	if group != "" {
		text += "    group: " + group + "\n"
	}
	return text + extra
}

// fleetOptions add to the fleet's primary: config (top-level keys, with
// %[1]s for the address of a TCP probe target the test controls, when
// one is asked for) and zone files by name.
type fleetOptions struct {
	config string
	files  map[string]string
}

// startFleet starts mxdns on fleetZones zones with its catalog, then three
// Knot secondaries on 127.0.0.2, .3 and .4 that know nothing but the
// primary, the key and the catalog's name.
func startFleet(t *testing.T, opts fleetOptions) *fleet {
	t.Helper()
	harness.NeedKnot(t) // before building a hundred zones for nothing
	f := &fleet{t: t, dir: t.TempDir()}
	if err := os.MkdirAll(filepath.Join(f.dir, "zones"), 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range fleetZones {
		group := ""
		if i%10 == 0 {
			group = "mirror"
		}
		f.save("zones/"+strings.TrimSuffix(fleetZone(i), ".")+".yaml", fleetZoneFile(fleetZone(i), group, ""))
	}
	f.save("zones/private.test.yaml", fleetZoneFile("private.test.", "", "    catalog: false\n"))
	for name, text := range opts.files {
		f.save(name, text)
	}

	var targets []string
	for i := range 3 {
		// A loopback address of its own, where no other test's socket
		// can take the port before Knot binds it; 127.0.0.1 where the
		// system has no other (every Linux has all of 127/8).
		host := fmt.Sprintf("127.0.0.%d", i+2)
		port, err := harness.FreePortOn(host)
		if err != nil {
			host = "127.0.0.1"
			if port, err = harness.FreePortOn(host); err != nil {
				t.Fatal(err)
			}
		}
		targets = append(targets, fmt.Sprintf("%q", fmt.Sprintf("%s:%d", host, port)))
	}
	srv, err := harness.Start(harness.Options{
		Bin: bin, Dir: f.dir, Args: []string{"serve", "-config", "config.yaml", "-state-dir", "state"}, MemLimit: memLimit,
		WriteConfig: func(port, admin int) error {
			return os.WriteFile(filepath.Join(f.dir, "config.yaml"), fmt.Appendf(nil, `listen: ["127.0.0.1:%d"]
admin: "127.0.0.1:%d"
rrl: off
catalog: {zone: %s}
tsig_keys:
  xfr-key: {algorithm: hmac-sha256, secret: %q}
transfer:
  allow: ["key:xfr-key"]
  notify: [%s]
zone_files: ["zones/*.yaml"]
%s`, port, admin, fleetCatalog, fleetSecret, strings.Join(targets, ", "), opts.config), 0o644)
		},
	})
	if srv != nil {
		f.srv = srv
		t.Cleanup(func() {
			if err := srv.Stop(); err != nil {
				t.Log(err)
			}
			if t.Failed() {
				t.Logf("mxdns output:\n%s", tail(srv.Log(), 60))
			}
		})
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range targets {
		f.knots = append(f.knots, harness.StartKnotSecondary(t, harness.KnotSecondaryOptions{
			Primary: srv.Addr(), TSIGName: "xfr-key", TSIGAlgorithm: "hmac-sha256", TSIGSecret: fleetSecret,
			Catalog: fleetCatalog, Groups: []string{"mirror"}, Addr: strings.Trim(target, `"`),
		}))
	}
	return f
}

// save writes a file as editors do: elsewhere, then renamed into place,
// so that the watcher never reads half of it.
func (f *fleet) save(name, text string) {
	f.t.Helper()
	tmp := filepath.Join(f.dir, "saving")
	if err := os.WriteFile(tmp, []byte(text), 0o644); err != nil {
		f.t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(f.dir, name)); err != nil {
		f.t.Fatal(err)
	}
}

// soa is what a server says of origin's SOA: its serial, or why none.
func soa(query func(string, uint16) (*dns.Msg, error), origin string) string {
	r, err := query(origin, dns.TypeSOA)
	switch {
	case err != nil:
		return "no answer: " + err.Error()
	case r.Rcode != dns.RcodeSuccess || !r.Authoritative:
		return fmt.Sprintf("%s AA=%v", dns.RcodeToString[r.Rcode], r.Authoritative)
	}
	if s, ok := harness.Serial(r); ok {
		return fmt.Sprintf("serial %d", s)
	}
	return "no SOA in the answer"
}

// waitAll waits until every secondary gives each origin the answer want
// returns for it ("" to skip the origin), within limit, and returns how
// long that took; on failure it names what each secondary still lacks.
func (f *fleet) waitAll(what string, origins []string, limit time.Duration, want func(origin string) string) time.Duration {
	f.t.Helper()
	start := time.Now()
	var mu sync.Mutex
	missing := make([][]string, len(f.knots))
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	var wg sync.WaitGroup
	for i, k := range f.knots {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pending := slices.Clone(origins)
			harness.Wait(ctx, func() bool {
				pending = slices.DeleteFunc(pending, func(o string) bool { w := want(o); return w == "" || soa(k.Query, o) == w })
				mu.Lock()
				missing[i] = pending
				mu.Unlock()
				return len(pending) == 0
			})
		}()
	}
	wg.Wait()
	took := time.Since(start)
	for i, m := range missing {
		if len(m) > 0 {
			f.t.Errorf("%s: after %v, secondary %s still lacks %d zones, first %s: %s, want %s",
				what, took.Round(time.Millisecond), f.knots[i].Addr(), len(m), m[0], soa(f.knots[i].Query, m[0]), want(m[0]))
		}
	}
	if f.t.Failed() {
		f.t.FailNow()
	}
	return took
}

// served is what mxdns answers for origin's SOA: what a secondary must too.
func (f *fleet) served(origin string) string { return soa(f.srv.Query, origin) }

func allFleetZones() []string {
	var out []string
	for i := range fleetZones {
		out = append(out, fleetZone(i))
	}
	return out
}

// TestFleetCatalog: three Knot secondaries, told only the primary, the
// key and the catalog's name, serve the hundred zones of mxdns's catalog
// with mxdns's serials and no other; the group's zones get its template;
// a zone file saved is served by all three within 5 s, and one deleted
// is no longer; and a restart of mxdns changes nothing in the catalog.
func TestFleetCatalog(t *testing.T) {
	f := startFleet(t, fleetOptions{})
	f.waitAll("the catalog's zones", allFleetZones(), 60*time.Second, f.served)
	f.waitAll("left out (catalog: false)", []string{"private.test."}, time.Second, func(string) string { return "REFUSED AA=false" })
	var mirrored []string
	for i := 0; i < fleetZones; i += 10 {
		mirrored = append(mirrored, fleetZone(i))
	}
	for _, k := range f.knots {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		ok := harness.Wait(ctx, func() bool { return slices.Equal(k.GroupZones("mirror"), mirrored) })
		cancel()
		if !ok {
			t.Errorf("secondary %s: zones set up from the template of group mirror: %v, want %v", k.Addr(), k.GroupZones("mirror"), mirrored)
		}
	}

	f.save("zones/added.test.yaml", fleetZoneFile("added.test.", "", ""))
	took := f.waitAll("a zone file added", []string{"added.test."}, 30*time.Second, func(o string) string {
		if s := f.served(o); strings.HasPrefix(s, "serial") {
			return s
		}
		return "mxdns to serve it first"
	})
	t.Logf("a zone file added: served by the three secondaries after %v", took.Round(time.Millisecond))
	if took > fleetWithin {
		t.Errorf("a zone file added was served by all three secondaries after %v, want within %v", took.Round(time.Millisecond), fleetWithin)
	}

	if err := os.Remove(filepath.Join(f.dir, "zones/z050.test.yaml")); err != nil {
		t.Fatal(err)
	}
	took = f.waitAll("a zone file deleted", []string{"z050.test."}, 30*time.Second, func(string) string { return "REFUSED AA=false" })
	t.Logf("a zone file deleted: dropped by the three secondaries after %v", took.Round(time.Millisecond))
	if took > fleetWithin {
		t.Errorf("a zone file deleted was dropped by all three secondaries after %v, want within %v", took.Round(time.Millisecond), fleetWithin)
	}

	// A restart hands out the same catalog: same serial, same labels,
	// so the secondaries neither transfer it nor reset a zone.
	before := f.transferCatalog()
	if err := f.srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := f.srv.Restart(); err != nil {
		t.Fatal(err)
	}
	if after := f.transferCatalog(); !slices.Equal(after, before) {
		gone := slices.DeleteFunc(slices.Clone(before), func(rr string) bool { return slices.Contains(after, rr) })
		come := slices.DeleteFunc(slices.Clone(after), func(rr string) bool { return slices.Contains(before, rr) })
		t.Errorf("the catalog changed with a restart; gone:\n%s\ncome:\n%s", strings.Join(gone, "\n"), strings.Join(come, "\n"))
	}
	// The SOA twice, NS, version, a PTR for each zone (z050 gone, added
	// come) and a group for the tenth (z050 among them).
	if len(before) != 2+1+1+fleetZones+fleetZones/10-1 {
		t.Errorf("the catalog holds %d records:\n%s", len(before), strings.Join(before, "\n"))
	}
	others := append(allFleetZones(), "added.test.")
	f.waitAll("every zone after the restart", others, 20*time.Second, func(o string) string {
		if o == "z050.test." {
			return ""
		}
		return f.served(o)
	})
	for _, k := range f.knots {
		if n := strings.Count(k.Log(), "zone purged"); n != 1 {
			t.Errorf("secondary %s purged %d zones, want z050.test alone:\n%s", k.Addr(), n, k.Log())
		}
	}
}

// transferCatalog is the catalog as a secondary with the key receives it,
// one record a line.
func (f *fleet) transferCatalog() []string {
	f.t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(fleetCatalog, dns.TypeAXFR)
	m.SetTsig("xfr-key.", dns.HmacSHA256, 300, time.Now().Unix())
	tr := &dns.Transfer{DialTimeout: 10 * time.Second, ReadTimeout: 10 * time.Second, TsigSecret: map[string]string{"xfr-key.": fleetSecret}}
	ch, err := tr.In(m, f.srv.Addr())
	if err != nil {
		f.t.Fatal(err)
	}
	var out []string
	for env := range ch {
		if env.Error != nil {
			f.t.Fatal(env.Error)
		}
		for _, rr := range env.RR {
			out = append(out, rr.String())
		}
	}
	return out
}
