package zone

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

const catalogTop = `catalog: {zone: catalog.invalid}
tsig_keys:
  xfr: {algorithm: hmac-sha256, secret: "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ="}
transfer:
  allow: ["key:xfr"]
  notify: ["192.0.2.2"]
zone_files: ["zones/*.yaml"]
`

// catalogSite is a configuration with a catalog and a directory of zone
// files, loaded as a server loads it: with a memory and the labels it
// keeps.
type catalogSite struct {
	t     *testing.T
	cfg   string
	dir   string
	mem   *memory
	ids   map[string]string
	mtime int64
	snap  *Snapshot
}

func newCatalogSite(t *testing.T, top string) *catalogSite {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "zones"), 0o755); err != nil {
		t.Fatal(err)
	}
	c := &catalogSite{t: t, cfg: filepath.Join(dir, "config.yaml"), dir: dir, mem: &memory{}, mtime: 1_800_000_000}
	c.write("config.yaml", top)
	return c
}

// write saves a file, each a second after the one before.
func (c *catalogSite) write(name, text string) {
	c.t.Helper()
	c.mtime++
	writeFile(c.t, filepath.Join(c.dir, name), text, time.Unix(c.mtime, 0))
}

func (c *catalogSite) remove(name string) {
	c.t.Helper()
	if err := os.Remove(filepath.Join(c.dir, name)); err != nil {
		c.t.Fatal(err)
	}
}

// load loads as the server does, from the snapshot served (nil: a
// restart), and keeps the labels as the state directory does.
func (c *catalogSite) load(prev *Snapshot) *Snapshot {
	c.t.Helper()
	l := Open(c.cfg, prev, Options{Memory: c.mem, CatalogIDs: c.ids, Strict: true})
	if l.Snapshot == nil {
		c.t.Fatalf("nothing served: %v", l.Diags.Errors())
	}
	c.mem.remember(l)
	if ids := l.Snapshot.CatalogIDs(); ids != nil {
		c.ids = ids
	}
	c.snap = l.Snapshot
	return l.Snapshot
}

func (c *catalogSite) reload() *Snapshot { return c.load(c.snap) }

func (c *catalogSite) serial() uint32 {
	c.t.Helper()
	s, ok := c.snap.Serial("catalog.invalid.")
	if !ok {
		c.t.Fatal("no catalog zone served")
	}
	return s
}

// catalogZone is the catalog's records as a transfer carries them, one
// a line, the serial blanked.
func catalogZone(t *testing.T, s *Snapshot) []string {
	t.Helper()
	rrs, ok := s.Records("catalog.invalid")
	if !ok {
		t.Fatal("no catalog zone served")
	}
	var out []string
	for _, rr := range rrs {
		if soa, ok := rr.(*dns.SOA); ok {
			cp := *soa
			cp.Serial = 0
			rr = &cp
		}
		out = append(out, strings.Join(strings.Fields(rr.String()), " "))
	}
	return out
}

func zoneFile(origin string, extra ...string) string {
	return "zones:\n  " + origin + ":\n    ns: [ns1.example.net.]\n" + strings.Join(extra, "")
}

// The catalog is RFC 9432's version 2: SOA, NS invalid., version "2", a
// PTR per member below zones, and a member's group below its node.
func TestCatalogContent(t *testing.T) {
	c := newCatalogSite(t, catalogTop+`zones:
  in-config.test:
    ns: [ns1.example.net.]
    group: signed
`)
	c.write("zones/a.yaml", zoneFile("a.test"))
	c.write("zones/b.yaml", zoneFile("b.test", "    catalog: false\n"))
	c.write("zones/rev.yaml", zoneFile("192.0.2.0/24", "    catalog: true\n"))
	s := c.load(nil)

	origin, members := s.Catalog()
	if origin != "catalog.invalid." {
		t.Fatalf("catalog origin %q", origin)
	}
	var listed []string
	id := map[string]string{}
	for _, m := range members {
		listed = append(listed, m.Origin+" "+m.Group)
		id[m.Origin] = m.ID
		if !validCatalogID(m.ID) || len(m.ID) != catalogIDLen {
			t.Errorf("%s: label %q", m.Origin, m.ID)
		}
	}
	if want := []string{"2.0.192.in-addr.arpa. ", "a.test. ", "in-config.test. signed"}; !slices.Equal(listed, want) {
		t.Fatalf("members %q, want %q (b.test has catalog: false)", listed, want)
	}
	got := catalogZone(t, s)
	want := []string{
		"catalog.invalid. 0 IN SOA invalid. invalid. 0 3600 600 1209600 0",
		"catalog.invalid. 0 IN NS invalid.",
		"version.catalog.invalid. 0 IN TXT \"2\"",
	}
	var nodes []string
	for o, i := range id {
		nodes = append(nodes, i+".zones.catalog.invalid. 0 IN PTR "+o)
		if o == "in-config.test." {
			nodes = append(nodes, "group."+i+".zones.catalog.invalid. 0 IN TXT \"signed\"")
		}
	}
	want = append(want, nodes...)
	slices.Sort(got[1:])
	slices.Sort(want[1:])
	if !slices.Equal(got, want) {
		t.Errorf("catalog zone:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// Answered like any zone, and transferred under the top-level settings.
	r := s.Lookup(dns.Question{Name: "version.catalog.invalid.", Qtype: dns.TypeTXT, Qclass: dns.ClassINET}, Client{Link: NoLink})
	if !r.Authoritative || r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
		t.Errorf("version.catalog.invalid TXT: %+v", r)
	}
	if tr, ok := s.Transfer("catalog.invalid"); !ok || len(tr.AllowKeys) != 1 || len(tr.Notify) != 1 {
		t.Errorf("catalog transfer settings %+v %v, want the top level's", tr, ok)
	}
	for _, z := range s.Zones() {
		if z.Origin == "catalog.invalid." && z.File != c.cfg {
			t.Errorf("the catalog is shown as defined in %q, want the configuration", z.File)
		}
	}
}

// The catalog's serial moves when a zone comes or goes, or a group
// changes, and never otherwise.
func TestCatalogSerial(t *testing.T) {
	c := newCatalogSite(t, catalogTop)
	c.write("zones/a.yaml", zoneFile("a.test"))
	c.write("zones/b.yaml", zoneFile("b.test"))
	c.load(nil)
	last := c.serial()
	step := func(what string, moves bool) {
		t.Helper()
		c.reload()
		got := c.serial()
		switch {
		case moves && !serialAfter(got, last):
			t.Errorf("%s: catalog serial %d after %d, want it to move up", what, got, last)
		case !moves && got != last:
			t.Errorf("%s: catalog serial %d after %d, want it unchanged", what, got, last)
		}
		last = got
	}
	c.write("zones/a.yaml", zoneFile("a.test", "    records: {www: {a: 192.0.2.1}}\n"))
	step("an edit of a member's records", false)
	c.write("zones/c.yaml", zoneFile("c.test"))
	step("a zone added", true)
	c.write("config.yaml", catalogTop+"query_log: true\n")
	step("an unrelated edit of the configuration", false)
	c.write("zones/b.yaml", zoneFile("b.test", "    group: signed\n"))
	step("a group given", true)
	c.write("zones/b.yaml", zoneFile("b.test", "    group: signed\n    ttl: 60\n"))
	step("the group's zone edited, its group kept", false)
	c.write("zones/b.yaml", zoneFile("b.test", "    group: other\n"))
	step("a group changed", true)
	c.write("zones/b.yaml", zoneFile("b.test", "    group: other\n    catalog: false\n"))
	step("a zone taken out with catalog: false", true)
	c.remove("zones/c.yaml")
	step("a zone file deleted", true)
	c.load(nil)
	if got := c.serial(); got != last {
		t.Errorf("restart: catalog serial %d, want %d as before", got, last)
	}
}

// A member keeps its label across reloads and restarts (the labels and
// serials the server keeps); a zone removed and added again gets a new
// one, which RFC 9432 §5.4 makes every consumer treat as a new zone.
func TestCatalogIDsStable(t *testing.T) {
	c := newCatalogSite(t, catalogTop)
	for _, z := range []string{"a", "b", "c"} {
		c.write("zones/"+z+".yaml", zoneFile(z+".test"))
	}
	c.load(nil)
	first := maps.Clone(c.ids)
	if len(first) != 3 {
		t.Fatalf("labels %v", first)
	}
	c.write("zones/d.yaml", zoneFile("d.test"))
	c.reload()
	for o, id := range first {
		if c.ids[o] != id {
			t.Errorf("%s: label %s became %s when d.test was added", o, id, c.ids[o])
		}
	}

	// A restart with the labels kept, and one without (they then come
	// from nowhere but the name and the remembered serial).
	kept := maps.Clone(c.ids)
	c.load(nil)
	if !maps.Equal(c.ids, kept) {
		t.Errorf("restart: labels %v, want %v", c.ids, kept)
	}

	c.remove("zones/b.yaml")
	c.reload()
	if _, ok := c.ids["b.test."]; ok {
		t.Fatal("b.test is still listed after its file was deleted")
	}
	c.write("zones/b.yaml", zoneFile("b.test"))
	c.reload()
	if c.ids["b.test."] == first["b.test."] {
		t.Errorf("b.test removed and added again kept its label %s", first["b.test."])
	}
	for _, o := range []string{"a.test.", "c.test.", "d.test."} {
		if c.ids[o] != kept[o] {
			t.Errorf("%s: label %s became %s", o, kept[o], c.ids[o])
		}
	}

	// The labels served win over those handed in: they are what the
	// secondaries know. At a start, the labels handed in are all there
	// is; a bad or repeated one is made anew rather than served.
	served := maps.Clone(c.ids)
	c.ids = map[string]string{"a.test.": "x1", "c.test.": "x1", "d.test.": "Not.A.Label"}
	c.write("zones/e.yaml", zoneFile("e.test"))
	c.reload()
	for o, id := range served {
		if c.ids[o] != id {
			t.Errorf("%s: label %s served became %s", o, id, c.ids[o])
		}
	}
	c.ids = map[string]string{"a.test.": "x1", "c.test.": "x1", "d.test.": "Not.A.Label"}
	c.load(nil)
	if c.ids["a.test."] != "x1" || c.ids["c.test."] == "x1" || !validCatalogID(c.ids["d.test."]) || c.ids["d.test."] == served["d.test."] {
		t.Errorf("labels at a start %v: want a.test x1 as handed in, c.test and d.test anew", c.ids)
	}
}

// Labels and serials carried by the memory alone (prev nil, as at every
// start) give the catalog an incremental reload gives.
func TestCatalogIncrementalEqualsFull(t *testing.T) {
	c := newCatalogSite(t, catalogTop)
	for i := range 20 {
		c.write(fmt.Sprintf("zones/z%02d.yaml", i), zoneFile(fmt.Sprintf("z%02d.test", i)))
	}
	c.load(nil)
	for i, edit := range []func(){
		func() { c.write("zones/z03.yaml", zoneFile("z03.test", "    group: g\n")) },
		func() { c.remove("zones/z04.yaml") },
		func() { c.write("zones/new.yaml", zoneFile("new.test")) },
		func() { c.write("zones/z05.yaml", zoneFile("z05.test", "    ttl: 5\n")) },
		func() { c.write("zones/z04.yaml", zoneFile("z04.test")) },
	} {
		edit()
		inc := c.reload()
		full := Open(c.cfg, nil, Options{Memory: c.mem, CatalogIDs: c.ids, Strict: true}).Snapshot
		a, b := catalogZone(t, inc), catalogZone(t, full)
		sa, _ := inc.Serial("catalog.invalid.")
		sb, _ := full.Serial("catalog.invalid.")
		if !slices.Equal(a, b) || sa != sb {
			t.Errorf("edit %d: incremental (serial %d):\n%s\nfull (serial %d):\n%s", i, sa, strings.Join(a, "\n"), sb, strings.Join(b, "\n"))
		}
	}
}

func TestCatalogFindings(t *testing.T) {
	for _, tc := range []struct {
		name, yaml  string
		errs, warns []string
	}{
		{"collision", "catalog: {zone: Example.com.}\nzones:\n  example.com: {ns: [ns1.example.net.]}\n",
			[]string{"c.yaml:1:17: catalog zone example.com is also a zone served, defined at c.yaml:3:3",
				"c.yaml:3:3: zone example.com has the name of the catalog zone (catalog: at c.yaml:1:17)"}, nil},
		{"no zone key", "catalog: {}\n", []string{"c.yaml:1:10: catalog: want zone: NAME"}, nil},
		{"not a mapping", "catalog: catalog.invalid\n", []string{"c.yaml:1:10: catalog: want a mapping such as {zone: catalog.invalid}"}, nil},
		{"bad name", "catalog: {zone: \"a..b\"}\n", []string{"c.yaml:1:17: catalog zone \"a..b\": want a domain name"}, nil},
		{"unknown key", "catalog: {zone: c.invalid, ttl: 5}\n", []string{"c.yaml:1:28: catalog: unknown key \"ttl\"; want one of zone"},
			[]string{"c.yaml:1:17: warning: catalog zone c.invalid: no secondary may transfer it"}},
		{"bad group", "catalog: {zone: c.invalid}\ntransfer: {allow: [192.0.2.2], notify: [192.0.2.2]}\nzones:\n  a.test: {ns: [ns1.example.net.], group: \"a\\\"b\"}\n",
			[]string{"c.yaml:4:43: zone a.test group \"a\\\"b\": want 1 to 255 printable ASCII characters"}, nil},
		{"bad catalog flag", "catalog: {zone: c.invalid}\ntransfer: {allow: [192.0.2.2], notify: [192.0.2.2]}\nzones:\n  a.test: {ns: [ns1.example.net.], catalog: no}\n",
			[]string{"c.yaml:4:45: zone a.test catalog \"no\": want one of true, false"}, nil},
		{"no transfer", "catalog: {zone: c.invalid}\n", nil,
			[]string{"c.yaml:1:17: warning: catalog zone c.invalid: no secondary may transfer it"}},
		{"no notify", "catalog: {zone: c.invalid}\ntransfer: {allow: [192.0.2.2]}\n", nil,
			[]string{"c.yaml:1:17: warning: catalog zone c.invalid: the top-level transfer: notify names no secondary"}},
		{"inside a zone", "catalog: {zone: cat.example.com}\ntransfer: {allow: [192.0.2.2], notify: [192.0.2.2]}\nzones:\n  example.com: {ns: [ns1.example.net.]}\n", nil,
			[]string{"c.yaml:1:17: warning: catalog zone cat.example.com lies inside zone example.com"}},
		{"keys without a catalog", "zones:\n  a.test: {ns: [ns1.example.net.], catalog: false, group: g}\n", nil,
			[]string{"c.yaml:2:45: warning: zone a.test: catalog has no effect: no catalog is published",
				"c.yaml:2:59: warning: zone a.test: group has no effect: no catalog is published"}},
		{"group left out", "catalog: {zone: c.invalid}\ntransfer: {allow: [192.0.2.2], notify: [192.0.2.2]}\nzones:\n  a.test: {ns: [ns1.example.net.], catalog: false, group: g}\n", nil,
			[]string{"c.yaml:4:59: warning: zone a.test: group has no effect: the zone is left out of the catalog"}},
		{"member nobody may transfer", "catalog: {zone: c.invalid}\ntransfer: {allow: [192.0.2.2], notify: [192.0.2.2]}\nzones:\n  a.test: {ns: [ns1.example.net.], transfer: {notify: [192.0.2.9]}}\n", nil,
			[]string{"c.yaml:4:3: warning: zone a.test is in the catalog, so secondaries set it up, but its own transfer: allow names nobody"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, diags := FromYAML("c.yaml", []byte(tc.yaml), nil)
			check := func(kind string, got Diagnostics, want []string) {
				t.Helper()
				if len(got) != len(want) {
					t.Errorf("%d %s, want %d: %v", len(got), kind, len(want), got)
					return
				}
				for i, d := range got {
					if !strings.HasPrefix(d.String(), want[i]) {
						t.Errorf("%s %d:\n got %s\nwant %s...", kind, i, d, want[i])
					}
				}
			}
			check("errors", diags.Errors(), tc.errs)
			check("warnings", diags.Warnings(), tc.warns)
		})
	}
}

// A zone file that takes the catalog's name is the one refused; a
// configuration that gives the catalog a zone's name is served as it last
// was good.
func TestCatalogCollisionBlame(t *testing.T) {
	c := newCatalogSite(t, catalogTop)
	c.write("zones/a.yaml", zoneFile("a.test"))
	l := Open(c.cfg, nil, Options{Memory: c.mem})
	c.mem.remember(l)
	prev := l.Snapshot

	c.write("zones/clash.yaml", zoneFile("catalog.invalid"))
	l = Open(c.cfg, prev, Options{Memory: c.mem})
	if l.Snapshot == nil {
		t.Fatalf("nothing served: %v", l.Diags.Errors())
	}
	if got := faultFiles(l.Snapshot); !slices.Equal(got, []string{"clash.yaml"}) {
		t.Errorf("files in error %v, want the new zone file", got)
	}
	if _, members := l.Snapshot.Catalog(); len(members) != 1 {
		t.Errorf("catalog members %v", members)
	}
	c.remove("zones/clash.yaml")
	prev = Open(c.cfg, prev, Options{Memory: c.mem}).Snapshot

	c.write("config.yaml", strings.Replace(catalogTop, "catalog.invalid", "a.test", 1))
	l = Open(c.cfg, prev, Options{Memory: c.mem})
	if l.Snapshot == nil {
		t.Fatalf("nothing served: %v", l.Diags.Errors())
	}
	if got := faultFiles(l.Snapshot); !slices.Equal(got, []string{"config.yaml"}) {
		t.Errorf("files in error %v, want the configuration", got)
	}
	if origin, _ := l.Snapshot.Catalog(); origin != "catalog.invalid." {
		t.Errorf("catalog %q, want the last good configuration's", origin)
	}
}
