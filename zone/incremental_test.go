package zone

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// world is a set of zone files with relations across zones: MX targets
// (and TLSA records at them) and SPF includes in other zones, addresses
// shared between zones (so generated PTRs must choose), link-mapped MX
// hosts, CNAMEs, wildcards, reverse zones (one RFC 2317, and the /24 it
// divides, with CNAMEs into it) filled by auto PTR, with CNAMEs and
// delegations that move PTRs.
type world struct {
	dir    string
	rng    *rand.Rand
	fwd    []*fwdZone
	rev    []*revZone
	broken string // a file written broken, to be fixed at the next step
}

type fwdZone struct {
	gone   bool
	mx     string // "mx1" or another zone's mx1
	spf    int    // zone whose _spf is included
	linked bool   // mx1 link-mapped
	mxAddr [2]string
	hosts  map[string]string
	star   string // wildcard address, "" for none
}

type revZone struct {
	name    string
	noAuto  bool
	written map[string]string // records written by hand, by name: "ptr: host."
	below   string            // what written names end in: ".0.0" puts them at addresses of 10.0.0.0/8
	undo    bool              // an edit undoes the one before
}

func (w *world) addr() string {
	if w.rng.IntN(5) == 0 {
		return fmt.Sprintf("2001:db8::%x", w.rng.IntN(24)+1)
	}
	return fmt.Sprintf("10.0.%d.%d", w.rng.IntN(4), w.rng.IntN(24)+1)
}

// newWorld writes zones forward zones and the reverse zones rev, or,
// with none given, a mix of /24s, an RFC 2317 zone and CNAMEs into it.
func newWorld(t *testing.T, zones int, rev ...*revZone) *world {
	w := &world{dir: t.TempDir(), rng: rand.New(rand.NewPCG(8, 8)), rev: rev}
	if err := os.MkdirAll(filepath.Join(w.dir, "zones"), 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range zones {
		z := &fwdZone{mx: "mx1", spf: (i + 1) % zones, hosts: map[string]string{}}
		if i%3 == 1 {
			z.mx = fmt.Sprintf("mx1.d%03d.test.", w.rng.IntN(zones))
		}
		z.linked = i%4 == 0
		z.mxAddr = [2]string{w.addr(), w.addr()}
		for h := range w.rng.IntN(4) {
			z.hosts[fmt.Sprintf("h%d", h)] = w.addr()
		}
		if i%5 == 0 {
			z.star = w.addr()
		}
		w.fwd = append(w.fwd, z)
	}
	if len(w.rev) == 0 {
		for _, name := range []string{"0.0.10.in-addr.arpa", "1.0.10.in-addr.arpa", "2.0.10.in-addr.arpa", "0-15.3.0.10.in-addr.arpa", "2001:db8::/48", "3.0.10.in-addr.arpa"} {
			w.rev = append(w.rev, &revZone{name: name, written: map[string]string{}})
		}
		for x := 1; x <= 8; x++ {
			w.rev[5].written[fmt.Sprint(x)] = fmt.Sprintf("cname: %d.0-15.3.0.10.in-addr.arpa.", x)
		}
	}
	w.writeConfig(t)
	for i := range w.fwd {
		w.writeFwd(t, i)
	}
	for i := range w.rev {
		w.writeRev(t, i)
	}
	return w
}

func (w *world) writeConfig(t *testing.T) {
	w.write(t, "config.yaml", `links:
  wan1: {listen: ["127.0.0.1:5353"]}
  wan2: {listen: ["127.0.0.2:5353"]}
zone_files: ["zones/*.yaml"]
`)
}

// write saves a file as editors do, by rename, or in place.
func (w *world) write(t *testing.T, name, text string) {
	path := filepath.Join(w.dir, name)
	if w.rng.IntN(2) == 0 {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	tmp := filepath.Join(w.dir, ".tmp")
	if err := os.WriteFile(tmp, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func (w *world) fwdFile(i int) string { return fmt.Sprintf("zones/f%03d.yaml", i) }

func (w *world) writeFwd(t *testing.T, i int) {
	z := w.fwd[i]
	var b strings.Builder
	fmt.Fprintf(&b, "zones:\n  d%03d.test:\n    ns: [ns1]\n    records:\n", i)
	fmt.Fprintf(&b, "      \"@\": {mx: [\"10;%s\"], txt: \"v=spf1 include:_spf.d%03d.test -all\"}\n", z.mx, z.spf)
	fmt.Fprintf(&b, "      _spf: {txt: \"v=spf1 ip4:192.0.2.%d -all\"}\n", i%250)
	fmt.Fprintf(&b, "      ns1: {a: 192.0.2.%d}\n", i%250+1)
	key := "a"
	if strings.Contains(z.mxAddr[0], ":") {
		key = "aaaa"
	}
	if z.linked {
		fmt.Fprintf(&b, "      mx1: {%s: {wan1: %q}}\n", key, z.mxAddr[0])
	} else {
		fmt.Fprintf(&b, "      mx1: {%s: %q}\n", key, z.mxAddr[0])
	}
	fmt.Fprintf(&b, "      www: {cname: mx1}\n")
	if i%2 == 0 {
		// Warned of while no MX, of this zone or another, names mx1.
		fmt.Fprintf(&b, "      _25._tcp.mx1: {tlsa: \"3 1 1 %064x\"}\n", i)
	}
	hosts := make([]string, 0, len(z.hosts))
	for h := range z.hosts {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)
	for _, h := range hosts {
		key := "a"
		if strings.Contains(z.hosts[h], ":") {
			key = "aaaa"
		}
		fmt.Fprintf(&b, "      %s: {%s: %q}\n", h, key, z.hosts[h])
	}
	if z.star != "" && !strings.Contains(z.star, ":") {
		fmt.Fprintf(&b, "      \"*\": {a: %q}\n", z.star)
	}
	w.write(t, w.fwdFile(i), b.String())
}

func (w *world) writeRev(t *testing.T, i int) {
	r := w.rev[i]
	var b strings.Builder
	fmt.Fprintf(&b, "zones:\n  %s:\n    ns: [ns1.d000.test.]\n", r.name)
	if r.noAuto {
		b.WriteString("    auto_ptr: false\n")
	}
	if len(r.written) > 0 {
		b.WriteString("    records:\n")
		names := make([]string, 0, len(r.written))
		for n := range r.written {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Fprintf(&b, "      %q: {%s}\n", n+r.below, r.written[n])
		}
	}
	w.write(t, fmt.Sprintf("zones/r%d.yaml", i), b.String())
}

// edit makes one random single-file change and says what it did.
func (w *world) edit(t *testing.T) string {
	if w.broken != "" {
		i := 0
		fmt.Sscanf(w.broken, "zones/f%03d.yaml", &i)
		w.broken = ""
		w.writeFwd(t, i)
		return "fix " + w.fwdFile(i)
	}
	i := w.rng.IntN(len(w.fwd))
	z := w.fwd[i]
	if z.gone {
		z.gone = false
		w.writeFwd(t, i)
		return "add back " + w.fwdFile(i)
	}
	host := func() string {
		for h := range z.hosts {
			return h
		}
		return ""
	}
	switch op := w.rng.IntN(100); {
	case op < 25:
		if h := host(); h != "" {
			z.hosts[h] = w.addr()
		} else {
			z.mxAddr[0] = w.addr()
		}
	case op < 40:
		z.hosts[fmt.Sprintf("h%d", w.rng.IntN(8))] = w.addr()
	case op < 52:
		delete(z.hosts, host())
	case op < 65:
		if z.mx == "mx1" {
			z.mx = fmt.Sprintf("mx1.d%03d.test.", w.rng.IntN(len(w.fwd)))
		} else {
			z.mx = "mx1"
		}
	case op < 72:
		z.linked = !z.linked
		z.mxAddr[0] = w.addr()
	case op < 76:
		// Only zones nothing points into can go.
		for _, o := range w.fwd {
			if o != z && !o.gone && (o.mx == fmt.Sprintf("mx1.d%03d.test.", i) || w.fwd[o.spf] == z) {
				return w.touch(t, i)
			}
		}
		z.gone = true
		if err := os.Remove(filepath.Join(w.dir, w.fwdFile(i))); err != nil {
			t.Fatal(err)
		}
		return "delete " + w.fwdFile(i)
	case op < 80:
		w.broken = w.fwdFile(i)
		w.write(t, w.broken, "zones:\n  d000.test: [broken\n")
		return "break " + w.broken
	case op < 90:
		j := w.rng.IntN(len(w.rev))
		r := w.rev[j]
		x := w.rng.IntN(24) + 1
		if r.undo {
			// One change at a time, undone by the next: a zone left
			// with auto_ptr off or a CNAME would be rebuilt for good.
			r.noAuto = false
			clear(r.written)
		}
		switch k := w.rng.IntN(6); {
		case k == 0:
			r.noAuto = !r.noAuto
		case k == 1 && len(r.written) > 0:
			clear(r.written)
		case k == 2 && j != 3:
			// Into the classless zone, RFC 2317 style or not: a name
			// may lead past its block, or where another leads.
			r.written[fmt.Sprint(x)] = fmt.Sprintf("cname: %d.0-15.3.0.10.in-addr.arpa.", w.rng.IntN(24)+1)
		case k == 3:
			r.written[fmt.Sprint(x)] = "ns: [ns1.d000.test.]"
		default:
			r.written[fmt.Sprint(x)] = fmt.Sprintf("ptr: mx1.d%03d.test.", w.rng.IntN(len(w.fwd)))
		}
		w.writeRev(t, j)
		return fmt.Sprintf("edit zones/r%d.yaml", j)
	case op < 95:
		z.star = w.addr()
	default:
		return w.touch(t, i)
	}
	w.writeFwd(t, i)
	return "edit " + w.fwdFile(i)
}

func (w *world) touch(t *testing.T, i int) string {
	w.writeFwd(t, i)
	return "rewrite unchanged " + w.fwdFile(i)
}

// TestIncrementalEqualsFull applies a long run of single-file edits and
// checks after each that the snapshot built incrementally from the one
// served answers exactly like one built from scratch from the same files
// (with the same previous serials).
func TestIncrementalEqualsFull(t *testing.T) {
	zones, steps := 80, 80
	if testing.Short() {
		zones, steps = 60, 40
	}
	editsMatchFull(t, newWorld(t, zones), steps, nil)
}

// editsMatchFull makes steps random edits of w, and after each compares
// the snapshot built incrementally with one built from scratch; each
// good incremental snapshot goes to step with the one it was built from.
func editsMatchFull(t *testing.T, w *world, steps int, step func(prev, inc *Snapshot)) {
	t.Helper()
	cfg := filepath.Join(w.dir, "config.yaml")
	prev, diags := Load(cfg, nil)
	if prev == nil {
		t.Fatalf("initial load: %v", diags.Errors())
	}
	// The incremental load is told the changed files the way the watcher
	// tells it: every file edited since the last load that succeeded.
	var changed []string
	for n := range steps {
		what := w.edit(t)
		changed = append(changed, filepath.Join(w.dir, what[strings.LastIndex(what, " ")+1:]))
		inc, incDiags := Reload(cfg, prev, changed)
		full, fullDiags := Load(cfg, withoutCache(prev))
		if d := diffDiags(incDiags, fullDiags); d != "" {
			t.Fatalf("step %d (%s): findings differ:\n%s", n, what, d)
		}
		if (inc == nil) != (full == nil) {
			t.Fatalf("step %d (%s): incremental snapshot %v, full %v", n, what, inc != nil, full != nil)
		}
		if inc == nil {
			continue
		}
		if d := diffSnapshots(inc, full); d != "" {
			t.Fatalf("step %d (%s): answers differ:\n%s", n, what, d)
		}
		if step != nil {
			step(prev, inc)
		}
		prev, changed = inc, nil
	}
}

// withoutCache is prev as far as serials go, with nothing to reuse.
func withoutCache(prev *Snapshot) *Snapshot {
	p := *prev
	p.cache = nil
	return &p
}

func diffDiags(a, b Diagnostics) string {
	as, bs := diagStrings(a), diagStrings(b)
	if slices.Equal(as, bs) {
		return ""
	}
	return fmt.Sprintf("incremental:\n  %s\nfull:\n  %s", strings.Join(as, "\n  "), strings.Join(bs, "\n  "))
}

func diagStrings(ds Diagnostics) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.String()
	}
	sort.Strings(out)
	return out
}

var compareTypes = []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeMX, dns.TypePTR}

var compareClients = []Client{
	{Link: NoLink, Up: 3},
	{Link: 0, Up: 1},
	{Link: 1, Up: 2},
	{Link: NoLink, Up: 0},
}

func diffSnapshots(a, b *Snapshot) string {
	za, zb := a.Zones(), b.Zones()
	if len(za) != len(zb) {
		return fmt.Sprintf("%d zones, full load %d", len(za), len(zb))
	}
	for i := range za {
		if za[i] != zb[i] {
			return fmt.Sprintf("zone %+v, full load %+v", za[i], zb[i])
		}
	}
	for origin, za := range a.zones {
		ra, _ := a.Records(origin)
		rb, _ := b.Records(origin)
		if x, y := rrStrings(ra), rrStrings(rb); !slices.Equal(x, y) {
			return fmt.Sprintf("records of %s:\n  %s\nfull:\n  %s", origin, strings.Join(x, "\n  "), strings.Join(y, "\n  "))
		}
		names := []string{"nothere." + origin}
		for name := range za.nodes.all() {
			names = append(names, name)
		}
		for name := range b.zones[origin].nodes.all() {
			names = append(names, name)
		}
		for _, name := range names {
			for _, qt := range compareTypes {
				for _, c := range compareClients {
					q := dns.Question{Name: name, Qtype: qt, Qclass: dns.ClassINET}
					x, y := resultString(a.Lookup(q, c)), resultString(b.Lookup(q, c))
					if x != y {
						return fmt.Sprintf("%s %s client %+v:\nincremental:\n%s\nfull:\n%s", name, dns.TypeToString[qt], c, x, y)
					}
				}
			}
		}
	}
	return ""
}

func rrStrings(rrs []dns.RR) []string {
	out := make([]string, len(rrs))
	for i, rr := range rrs {
		out[i] = rr.String()
	}
	sort.Strings(out)
	return out
}

func resultString(r Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "rcode %d aa %v rotations %d\n", r.Rcode, r.Authoritative, r.Rotations)
	for _, sec := range [][]dns.RR{r.Answer, r.Ns, r.Extra} {
		for _, rr := range sec {
			b.WriteString(rr.String() + "\n")
		}
		b.WriteString("--\n")
	}
	return b.String()
}

// An RFC 2317 zone rebuilt for a forward edit is a new value: the checks
// that run after it must find its PTRs there, not in the zone it replaced.
func TestIncrementalClasslessSeesRebuiltZone(t *testing.T) {
	cfg, zones := zoneFilesConfig(t)
	fwd := filepath.Join(zones, "fwd.yaml")
	writeFile(t, filepath.Join(zones, "rev.yaml"), "zones:\n  0-15.3.0.10.in-addr.arpa: {ns: [ns1.example.com.]}\n", time.Unix(1000, 0))
	fwdText := "zones:\n  example.com: {ns: [ns1], records: {\"@\": {mx: \"10;mx1\"}, mx1: {a: ADDR}, ns1: {a: 192.0.2.1}}}\n"
	writeFile(t, fwd, strings.Replace(fwdText, "ADDR", "10.0.3.5", 1), time.Unix(1000, 0))
	prev, diags := Load(cfg, nil)
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	writeFile(t, fwd, strings.Replace(fwdText, "ADDR", "10.0.3.6", 1), time.Unix(2000, 0))
	inc, incDiags := Load(cfg, prev)
	full, fullDiags := Load(cfg, withoutCache(prev))
	if d := diffDiags(incDiags, fullDiags); d != "" {
		t.Errorf("findings differ:\n%s", d)
	}
	if d := diffSnapshots(inc, full); d != "" {
		t.Errorf("answers differ:\n%s", d)
	}
}

// Reload takes the watcher's word for which files changed, except for a
// symbolic link, whose target may change where nobody watches, and a path
// it does not know, which sends it back to checking every file.
func TestReloadTrustsChangedFiles(t *testing.T) {
	cfg, zones := zoneFilesConfig(t)
	zoneText := func(name, addr string) string {
		return "zones:\n  " + name + ": {ns: [ns1.example.net.], records: {www: {a: " + addr + "}}}\n"
	}
	a, b := filepath.Join(zones, "a.yaml"), filepath.Join(zones, "b.yaml")
	linked := filepath.Join(filepath.Dir(cfg), "elsewhere.yaml")
	writeFile(t, a, zoneText("a.test", "192.0.2.1"), time.Unix(1000, 0))
	writeFile(t, b, zoneText("b.test", "192.0.2.1"), time.Unix(1000, 0))
	writeFile(t, linked, zoneText("c.test", "192.0.2.1"), time.Unix(1000, 0))
	if err := os.Symlink(linked, filepath.Join(zones, "c.yaml")); err != nil {
		t.Fatal(err)
	}
	snap, diags := Load(cfg, nil)
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	www := func(s *Snapshot, zone string) string {
		r := s.Lookup(dns.Question{Name: "www." + zone + ".", Qtype: dns.TypeA, Qclass: dns.ClassINET}, Client{Link: NoLink})
		if len(r.Answer) != 1 {
			t.Fatalf("www.%s: %v", zone, r.Answer)
		}
		return r.Answer[0].(*dns.A).A.String()
	}

	writeFile(t, a, zoneText("a.test", "192.0.2.2"), time.Unix(2000, 0))
	writeFile(t, b, zoneText("b.test", "192.0.2.2"), time.Unix(2000, 0))
	writeFile(t, linked, zoneText("c.test", "192.0.2.2"), time.Unix(2000, 0))
	next, diags := Reload(cfg, snap, []string{a})
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	if got := www(next, "a.test"); got != "192.0.2.2" {
		t.Errorf("changed file a: %s, want the new 192.0.2.2", got)
	}
	if got := www(next, "b.test"); got != "192.0.2.1" {
		t.Errorf("file b, not reported changed: %s, want the parse taken from before, 192.0.2.1", got)
	}
	if got := www(next, "c.test"); got != "192.0.2.2" {
		t.Errorf("symlinked file c: %s, want the new 192.0.2.2", got)
	}

	full, diags := Reload(cfg, next, []string{filepath.Join(zones, "..data")})
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	if got := www(full, "b.test"); got != "192.0.2.2" {
		t.Errorf("after an unknown path changed, file b: %s, want the new 192.0.2.2", got)
	}

	if err := os.Remove(b); err != nil {
		t.Fatal(err)
	}
	gone, diags := Reload(cfg, full, []string{b})
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	if _, ok := gone.Serial("b.test."); ok || slices.Contains(gone.Files(), b) {
		t.Errorf("removed file b still served: files %q", gone.Files())
	}
}

// Where a PTR goes follows the CNAMEs and delegations of the reverse zones
// (ptrOwner): an edit of those alone must move the PTRs of forward zones
// that did not change, into another zone or within one, and redo the
// findings about missing PTRs (the /24 makes none), as a full build would.
func TestIncrementalFollowsReverseCNAMEs(t *testing.T) {
	cfg, zones := zoneFilesConfig(t)
	rev := filepath.Join(zones, "rev.yaml")
	writeFile(t, filepath.Join(zones, "fwd.yaml"), `zones:
  example.com: {ns: [ns1], records: {"@": {mx: "10;mx1"}, mx1: {a: 10.0.3.5}, www: {a: 10.0.3.6}, ns1: {a: 192.0.2.1}}}
`, time.Unix(1000, 0))
	// Its one address takes it into no reverse zone but through the /24.
	writeFile(t, filepath.Join(zones, "org.yaml"), `zones:
  example.org: {ns: [ns1.example.com.], records: {"@": {mx: "10;mx"}, mx: {a: 10.0.3.20}}}
`, time.Unix(1000, 0))
	writeFile(t, filepath.Join(zones, "cls.yaml"), "zones:\n  0-15.3.0.10.in-addr.arpa: {ns: [ns1.example.com.]}\n", time.Unix(1000, 0))
	const slash24 = "zones:\n  3.0.10.in-addr.arpa: {ns: [ns1.example.com.], auto_ptr: false, records: {%s}}\n"
	writeFile(t, rev, fmt.Sprintf(slash24, ""), time.Unix(1000, 0))
	prev, diags := Load(cfg, nil)
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	for i, records := range []string{
		`"5": {cname: 5.0-15.3.0.10.in-addr.arpa.}`,
		`"5": {cname: 105.0-15.3.0.10.in-addr.arpa.}`, // moves within the zone
		`"5": {ns: [ns.example.net.]}, "20": {ns: [ns.example.net.]}`,
		`"5": {ns: [ns.example.net.]}`, // example.org's checks looked into the /24
		`"5": {cname: 5.elsewhere.example.net.}, "6": {cname: 6.0-15.3.0.10.in-addr.arpa.}`,
		``,
	} {
		writeFile(t, rev, fmt.Sprintf(slash24, records), time.Unix(int64(2000+i), 0))
		inc, incDiags := Reload(cfg, prev, []string{rev})
		full, fullDiags := Load(cfg, withoutCache(prev))
		if err := fullDiags.Err(); err != nil {
			t.Fatalf("%s: %v", records, err)
		}
		if d := diffDiags(incDiags, fullDiags); d != "" {
			t.Errorf("%s: findings differ:\n%s", records, d)
		}
		if d := diffSnapshots(inc, full); d != "" {
			t.Errorf("%s: answers differ:\n%s", records, d)
		}
		prev = inc
	}
}
