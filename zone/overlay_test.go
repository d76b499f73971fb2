package zone

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

const overlayZones = `zones:
  example.com:
    soa: {serial: auto}
    ns: [ns1]
    records:
      ns1: {a: 192.0.2.53}
      _acme-challenge.mx2: {txt: "written by hand", ttl: 300}
      www: {cname: ns1}
      sub: {ns: [ns.sub]}
      ns.sub: {a: 192.0.2.54}
  fixed.example:
    soa: {serial: 7}
    ns: [ns1.example.com.]
`

func mustRR(t *testing.T, s string) dns.RR {
	t.Helper()
	rr, err := dns.NewRR(s)
	if err != nil {
		t.Fatal(err)
	}
	return rr
}

// overlaySite is a configuration in a directory, loaded as the server
// loads it, with a memory of serials.
type overlaySite struct {
	t    *testing.T
	path string
	mem  *memory
}

func newOverlaySite(t *testing.T) *overlaySite {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	writeFile(t, path, overlayZones, time.Unix(1_800_000_000, 0))
	return &overlaySite{t: t, path: path, mem: &memory{serials: map[string]SerialRecord{}}}
}

// load loads the files with prev served; the server then lays the
// updates over the result and remembers its serials.
func (o *overlaySite) load(prev *Snapshot, updates map[string][]dns.RR) *Snapshot {
	o.t.Helper()
	l := Open(o.path, prev, Options{Memory: o.mem, Strict: true})
	if err := l.Diags.Err(); err != nil {
		o.t.Fatal(err)
	}
	return o.serve(l.Snapshot, prev, updates)
}

func (o *overlaySite) serve(s, prev *Snapshot, updates map[string][]dns.RR) *Snapshot {
	o.t.Helper()
	next, skipped := s.WithUpdates(prev, o.mem, updates)
	if len(skipped) > 0 {
		o.t.Fatalf("skipped: %v", skipped)
	}
	for origin, r := range next.SerialsSince(prev) {
		o.mem.serials[origin] = r
	}
	return next
}

func txtAnswer(t *testing.T, s *Snapshot, name string) []string {
	t.Helper()
	r := s.Lookup(dns.Question{Name: name, Qtype: dns.TypeTXT, Qclass: dns.ClassINET}, Client{Link: NoLink})
	var out []string
	for _, rr := range r.Answer {
		out = append(out, strings.Join(strings.Fields(rr.String()), " "))
	}
	slices.Sort(out)
	return out
}

func TestUpdatesServedAndSerialMoves(t *testing.T) {
	o := newOverlaySite(t)
	base := o.load(nil, nil)
	s0 := serialOf(t, base, "example.com.")
	challenge := mustRR(t, `_acme-challenge.MX1.example.com. 60 IN TXT "token-1"`)
	up := map[string][]dns.RR{"example.com.": {challenge}}

	s1 := o.serve(base, base, up)
	if got, want := txtAnswer(t, s1, "_acme-challenge.mx1.example.com."), []string{`_acme-challenge.mx1.example.com. 60 IN TXT "token-1"`}; !slices.Equal(got, want) {
		t.Errorf("updated record: got %q, want %q", got, want)
	}
	if got := serialOf(t, s1, "example.com."); !serialAfter(got, s0) {
		t.Errorf("serial %d after the update, want past %d", got, s0)
	}
	if base.zones["fixed.example."] != s1.zones["fixed.example."] {
		t.Error("a zone without updates was made again")
	}
	// The empty non-terminal above the new name exists.
	r := s1.Lookup(dns.Question{Name: "mx1.example.com.", Qtype: dns.TypeA, Qclass: dns.ClassINET}, Client{Link: NoLink})
	if r.Kind != KindNoData {
		t.Errorf("mx1.example.com: %v, want NODATA (an empty non-terminal)", r.Kind)
	}
	// The snapshot it came from is as it was.
	if got := txtAnswer(t, base, "_acme-challenge.mx1.example.com."); len(got) != 0 {
		t.Errorf("the snapshot updated from changed: %q", got)
	}

	// The same updates again change nothing, not even the serial.
	s2 := o.serve(s1, s1, up)
	if s2 != s1 {
		t.Error("laying the same updates again made a new snapshot")
	}
	// A publish that changes another zone's records leaves this one's
	// as served, without building it again.
	other := mustRR(t, `_acme-challenge.fixed.example. 60 IN TXT "token-2"`)
	s2b := o.serve(s2, s2, map[string][]dns.RR{"example.com.": {challenge}, "fixed.example.": {other}})
	if s2b.zones["example.com."] != s2.zones["example.com."] {
		t.Error("an update of fixed.example made example.com again")
	}
	if s2b.zones["fixed.example."] == s2.zones["fixed.example."] {
		t.Error("fixed.example's update not laid over it")
	}
	s2 = o.serve(s2b, s2b, up)

	// Deleted: served as the files say, and the serial moves on.
	s3 := o.serve(s2, s2, map[string][]dns.RR{"example.com.": nil})
	if got := txtAnswer(t, s3, "_acme-challenge.mx1.example.com."); len(got) != 0 {
		t.Errorf("deleted record still served: %q", got)
	}
	if got, prev := serialOf(t, s3, "example.com."), serialOf(t, s2, "example.com."); !serialAfter(got, prev) {
		t.Errorf("serial %d after the delete, want past %d", got, prev)
	}
}

func TestUpdatesBesideTheFilesRecords(t *testing.T) {
	o := newOverlaySite(t)
	base := o.load(nil, nil)
	s := o.serve(base, base, map[string][]dns.RR{"example.com.": {
		mustRR(t, `_acme-challenge.mx2.example.com. 60 IN TXT "token-2"`),
		mustRR(t, `_acme-challenge.mx2.example.com. 60 IN TXT "written by hand"`), // already there
	}})
	want := []string{
		`_acme-challenge.mx2.example.com. 300 IN TXT "token-2"`,
		`_acme-challenge.mx2.example.com. 300 IN TXT "written by hand"`,
	}
	if got := txtAnswer(t, s, "_acme-challenge.mx2.example.com."); !slices.Equal(got, want) {
		t.Errorf("got %q, want %q: the files' record kept, the update beside it with the set's TTL", got, want)
	}
	if got := s.FileRecords("example.com.", "_acme-challenge.mx2.example.com."); len(got) != 1 {
		t.Errorf("FileRecords: %v, want the one record of the file", got)
	}
	// Gone again: the files' record stays.
	s2 := o.serve(s, s, map[string][]dns.RR{"example.com.": nil})
	if got := txtAnswer(t, s2, "_acme-challenge.mx2.example.com."); !slices.Equal(got, want[1:]) {
		t.Errorf("after the delete: got %q, want %q", got, want[1:])
	}
}

func TestUpdatesSurviveReloadAndRestart(t *testing.T) {
	o := newOverlaySite(t)
	up := map[string][]dns.RR{"example.com.": {mustRR(t, `_acme-challenge.example.com. 60 IN TXT "t"`)}}
	base := o.load(nil, nil)
	s1 := o.serve(base, base, up)
	serial := serialOf(t, s1, "example.com.")

	// A reload of unchanged files serves the same zone.
	s2 := o.load(s1, up)
	if s2.zones["example.com."] != s1.zones["example.com."] {
		t.Error("a reload of unchanged files made the updated zone again")
	}
	// A reload that forgets the updates serves the files' zone, with a
	// serial past the one served.
	s3 := o.load(s2, nil)
	if got := txtAnswer(t, s3, "_acme-challenge.example.com."); len(got) != 0 {
		t.Errorf("updates given no more are still served: %q", got)
	}
	if got := serialOf(t, s3, "example.com."); !serialAfter(got, serial) {
		t.Errorf("serial %d, want past %d", got, serial)
	}
	s4 := o.load(s3, up)
	serial = serialOf(t, s4, "example.com.")

	// A restart: nothing served, the memory of serials, the same files
	// and updates: the same serial.
	s5 := o.load(nil, up)
	if got := serialOf(t, s5, "example.com."); got != serial {
		t.Errorf("serial after a restart %d, want %d as before it", got, serial)
	}
	if got := txtAnswer(t, s5, "_acme-challenge.example.com."); len(got) != 1 {
		t.Errorf("after a restart: %q", got)
	}

	// An edit of the file while updates are served: one new serial,
	// both the edit and the update served.
	text, _ := os.ReadFile(o.path)
	writeFile(t, o.path, strings.Replace(string(text), "ns1: {a: 192.0.2.53}", "ns1: {a: 192.0.2.55}", 1), time.Unix(1_800_000_100, 0))
	s6 := o.load(s5, up)
	if got := serialOf(t, s6, "example.com."); !serialAfter(got, serial) {
		t.Errorf("serial %d after an edit, want past %d", got, serial)
	}
	if got := txtAnswer(t, s6, "_acme-challenge.example.com."); len(got) != 1 {
		t.Errorf("after an edit: %q", got)
	}
}

func TestUpdatesMoveAFixedSerial(t *testing.T) {
	o := newOverlaySite(t)
	up := map[string][]dns.RR{"fixed.example.": {mustRR(t, `_acme-challenge.fixed.example. 60 IN TXT "t"`)}}
	base := o.load(nil, nil)
	s1 := o.serve(base, base, up)
	if got := serialOf(t, s1, "fixed.example."); got != 8 {
		t.Errorf("serial %d, want 8: one past the written 7", got)
	}
	s2 := o.serve(s1, s1, map[string][]dns.RR{"fixed.example.": nil})
	if got := serialOf(t, s2, "fixed.example."); got != 9 {
		t.Errorf("serial %d after the delete, want 9", got)
	}
	// After a restart, the zone given with no records keeps 9, though
	// the file says 7.
	s3 := o.load(nil, map[string][]dns.RR{"fixed.example.": nil})
	if got := serialOf(t, s3, "fixed.example."); got != 9 {
		t.Errorf("serial %d after a restart, want 9", got)
	}
}

func TestUpdatableRefusesWhatTheModelForbids(t *testing.T) {
	o := newOverlaySite(t)
	s := o.load(nil, nil)
	for _, c := range []struct {
		name string
		t    uint16
		ok   bool
	}{
		{"_acme-challenge.example.com.", dns.TypeTXT, true},
		{"_acme-challenge.deep.down.example.com.", dns.TypeTXT, true},
		{"www.example.com.", dns.TypeTXT, false},                    // a CNAME
		{"sub.example.com.", dns.TypeTXT, false},                    // a delegation
		{"_acme-challenge.sub.example.com.", dns.TypeTXT, false},    // below one
		{"*.example.com.", dns.TypeTXT, false},                      // a wildcard
		{"_acme-challenge.example.com.", dns.TypeA, false},          // never updated
		{"_acme-challenge.example.org.", dns.TypeTXT, false},        // not in the zone
		{"_acme-challenge.fixed.example.", dns.TypeTXT, false},      // another zone
		{"_acme-challenge.example.com.", dns.TypeCNAME, false},      // never updated
		{"_acme-challenge.example.com.", dns.TypeTLSA, true},        // allowed type
		{"_25._tcp.ns1.example.com.", dns.TypeTLSA, true},           // allowed type
		{"_acme-challenge.example.com.", dns.TypeNS, false},         // never updated
		{"_acme-challenge.example.com.", dns.TypeDNSKEY, false},     // never updated
		{"_acme-challenge.example.com.", dns.TypeSOA, false},        // never updated
		{"_acme-challenge.example.com.", dns.TypeMX, false},         // never updated
		{"_acme-challenge.example.com.", dns.TypeAAAA, false},       // never updated
		{"_acme-challenge.example.com.", dns.TypeSRV, false},        // never updated
		{"_acme-challenge.example.com.", dns.TypePTR, false},        // never updated
		{"_acme-challenge.example.com.", dns.TypeDS, false},         // never updated
		{"_acme-challenge.example.com.", dns.TypeNSEC, false},       // never updated
		{"_acme-challenge.example.com.", dns.TypeRRSIG, false},      // never updated
		{"_acme-challenge.example.com.", dns.TypeDNAME, false},      // never updated
		{"_acme-challenge.example.com.", dns.TypeCAA, true},         // allowed type
		{"_acme-challenge.example.com.", dns.TypeSSHFP, true},       // allowed type
		{"_acme-challenge.example.com.", dns.TypeHTTPS, false},      // never updated
		{"_acme-challenge.example.com.", dns.TypeSVCB, false},       // never updated
		{"_acme-challenge.example.com.", dns.TypeCDS, false},        // never updated
		{"_acme-challenge.example.com.", dns.TypeCDNSKEY, false},    // never updated
		{"_acme-challenge.example.com.", dns.TypeNSEC3, false},      // never updated
		{"_acme-challenge.example.com.", dns.TypeANY, false},        // never updated
		{"_acme-challenge.example.com.", dns.TypeAXFR, false},       // never updated
		{"_acme-challenge.example.com.", dns.TypeNSEC3PARAM, false}, // never updated
	} {
		origin := "example.com."
		if strings.HasSuffix(c.name, "fixed.example.") {
			origin = "example.com." // asked of the wrong zone on purpose
		}
		err := s.Updatable(origin, c.name, c.t)
		if (err == nil) != c.ok {
			t.Errorf("Updatable(%s %s) = %v, want ok %v", c.name, dns.TypeToString[c.t], err, c.ok)
		}
	}
	// Records the files no longer allow are left out, and said so.
	_, skipped := s.WithUpdates(s, nil, map[string][]dns.RR{"example.com.": {
		mustRR(t, `www.example.com. 60 IN TXT "t"`),
		mustRR(t, `_acme-challenge.example.com. 60 IN TXT "t"`),
	}})
	if len(skipped) != 1 || skipped[0].RR.Header().Name != "www.example.com." {
		t.Errorf("skipped %v, want the record at the CNAME's name", skipped)
	}
}

func TestMatchName(t *testing.T) {
	for _, c := range []struct {
		pattern, name string
		ok            bool
	}{
		{"_acme-challenge.example.com.", "_acme-challenge.example.com.", true},
		{"_acme-challenge.*.example.com.", "_acme-challenge.mx1.example.com.", true},
		{"_acme-challenge.*.example.com.", "_acme-challenge.example.com.", false},
		{"_acme-challenge.*.example.com.", "_acme-challenge.a.b.example.com.", false},
		{"_acme-challenge.*.example.com.", "_acme-challenge.*.example.com.", false},
		{"_acme-challenge.*.example.com.", "x._acme-challenge.mx1.example.com.", false},
		{"_acme-challenge.*.example.com.", "_acme-challenge.mx1.example.org.", false},
		{"*.example.com.", "www.example.com.", true},
		{"_acme-challenge.example.com.", "_ACME-challenge.example.com.", false}, // names are canonical first
	} {
		if got := MatchName(c.pattern, c.name); got != c.ok {
			t.Errorf("MatchName(%s, %s) = %v, want %v", c.pattern, c.name, got, c.ok)
		}
	}
}

// An added name is in the NSEC chain of a signed zone: it is proved to
// exist, and the names around it are denied by the NSEC that now ends
// or starts at it.
func TestUpdatesJoinTheNSECChain(t *testing.T) {
	s := signedSnapshot(t)
	_ = s.zones["example.com."].nsecChain() // made before the update, as a served zone's is
	next, skipped := s.WithUpdates(s, nil, map[string][]dns.RR{"example.com.": {
		mustRR(t, `_acme-challenge.mx1.example.com. 60 IN TXT "t"`),
	}})
	if len(skipped) > 0 {
		t.Fatal(skipped)
	}
	do := Client{Link: NoLink, DNSSEC: true}
	r := next.Lookup(dns.Question{Name: "_acme-challenge.mx1.example.com.", Qtype: dns.TypeA, Qclass: dns.ClassINET}, do)
	if r.Kind != KindNoData {
		t.Fatalf("NODATA wanted: %v", r.Kind)
	}
	var nsec *dns.NSEC
	for _, rr := range r.Ns {
		if n, ok := rr.(*dns.NSEC); ok {
			nsec = n
		}
	}
	if nsec == nil || nsec.Hdr.Name != "_acme-challenge.mx1.example.com." || !slices.Contains(nsec.TypeBitMap, dns.TypeTXT) {
		t.Fatalf("NSEC %v, want one owned by the new name, listing TXT", nsec)
	}
	// The chain as made from scratch is the one derived.
	fresh := next.zones["example.com."]
	derived := fresh.chain.Load()
	fresh.chain.Store(nil)
	if made := fresh.nsecChain(); !slices.Equal(made.names, derived.names) {
		t.Errorf("derived chain %v, made from scratch %v", derived.names, made.names)
	}
	if !slices.Contains(derived.names, "_acme-challenge.mx1.example.com.") {
		t.Errorf("chain %v lacks the new name", derived.names)
	}
}

// Under transfer_view: current a link change moves the serial of an
// updated zone as of any other, and the zone keeps its updated records
// and the files' zone below them: a later update, or a load, still
// starts from the files alone.
func TestUpdatesFollowTheTransferView(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	writeFile(t, path, viewConfig, time.Unix(1_800_000_000, 0))
	mem := &memory{serials: map[string]SerialRecord{}}
	l := Open(path, nil, Options{Memory: mem, Strict: true})
	if err := l.Diags.Err(); err != nil {
		t.Fatal(err)
	}
	base := l.Snapshot
	up := map[string][]dns.RR{"example.com.": {mustRR(t, `_acme-challenge.example.com. 60 IN TXT "t"`)}}
	s1, _ := base.WithUpdates(base, mem, up)
	serial := serialOf(t, s1, "example.com.")

	// wan1 goes down: the transferred MX and addresses change.
	s2 := s1.WithTransferUp(s1.TransferUp().Without(0), time.Unix(1_800_000_500, 0))
	if got := serialOf(t, s2, "example.com."); !serialAfter(got, serial) {
		t.Fatalf("serial %d after wan1 went down, want past %d", got, serial)
	}
	if got := txtAnswer(t, s2, "_acme-challenge.example.com."); len(got) != 1 {
		t.Fatalf("the updated record after the link change: %q", got)
	}
	rrs, _ := s2.Transferred("example.com.")
	found := false
	for _, rr := range rrs {
		found = found || strings.Contains(rr.String(), `"t"`)
	}
	if !found {
		t.Error("the transfer lacks the updated record")
	}

	// The same records again: nothing moves. Then deleted: the files'
	// zone, at a serial past the link change's.
	if s3, _ := s2.WithUpdates(s2, mem, up); s3.zones["example.com."] != s2.zones["example.com."] {
		t.Error("the same records made the zone again after the link change")
	}
	s4, _ := s2.WithUpdates(s2, mem, map[string][]dns.RR{"example.com.": nil})
	if got := txtAnswer(t, s4, "_acme-challenge.example.com."); len(got) != 0 {
		t.Errorf("deleted, still served: %q", got)
	}
	if got, prev := serialOf(t, s4, "example.com."), serialOf(t, s2, "example.com."); !serialAfter(got, prev) {
		t.Errorf("serial %d after the delete, want past %d", got, prev)
	}
	// A load from the snapshot with the link change builds from the files
	// alone: given no records, none is served.
	l2 := Open(path, s2, Options{Memory: mem, Strict: true, TransferUp: func([]Link) LinkSet { return s2.TransferUp() }})
	if err := l2.Diags.Err(); err != nil {
		t.Fatal(err)
	}
	s5, _ := l2.Snapshot.WithUpdates(s2, mem, map[string][]dns.RR{"example.com.": nil})
	if got := txtAnswer(t, s5, "_acme-challenge.example.com."); len(got) != 0 {
		t.Errorf("a load brought the updated record back into the files' zone: %q", got)
	}
	if got, prev := serialOf(t, s5, "example.com."), serialOf(t, s2, "example.com."); !serialAfter(got, prev) {
		t.Errorf("serial %d after the load, want past %d", got, prev)
	}
}

// A kept record whose name a zone of its own now holds (the files added
// that zone after the update) is left out and said so, as Updatable
// refuses it: laid over the parent, no query would see it and the
// parent's transfers would carry it as data outside the zone.
func TestUpdatesLeaveOutNamesOfAChildZone(t *testing.T) {
	o := newOverlaySite(t)
	writeFile(t, o.path, overlayZones+"  deep.example.com:\n    ns: [ns1.example.com.]\n", time.Unix(1_800_000_100, 0))
	l := Open(o.path, nil, Options{Memory: o.mem, Strict: true})
	if err := l.Diags.Err(); err != nil {
		t.Fatal(err)
	}
	s := l.Snapshot
	if err := s.Updatable("example.com.", "_acme-challenge.deep.example.com.", dns.TypeTXT); err == nil {
		t.Error("Updatable allows a name of the child zone")
	}
	_, skipped := s.WithUpdates(nil, nil, map[string][]dns.RR{"example.com.": {
		mustRR(t, `_acme-challenge.deep.example.com. 60 IN TXT "t"`),
	}})
	if len(skipped) != 1 {
		t.Errorf("skipped %v, want the record in the child zone", skipped)
	}
}

// BenchmarkPublishAmongUpdatedZones: one zone's updated records change
// among 1,000 zones that each hold some (a host of ACME clients). Only
// that zone is laid over again.
func BenchmarkPublishAmongUpdatedZones(b *testing.B) {
	var cfg strings.Builder
	cfg.WriteString("zones:\n")
	up := map[string][]dns.RR{}
	for i := range 1000 {
		origin := "z" + strconv.Itoa(i) + ".example."
		cfg.WriteString("  " + origin + ":\n    ns: [ns1.example.com.]\n    records: {www: {a: 192.0.2.1}, mail: {a: 192.0.2.2}}\n")
		rr, _ := dns.NewRR("_acme-challenge.www." + origin + ` 60 IN TXT "token"`)
		up[origin] = []dns.RR{rr}
	}
	path := filepath.Join(b.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(cfg.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	l := Open(path, nil, Options{})
	if err := l.Diags.Err(); err != nil {
		b.Fatal(err)
	}
	served, _ := l.Snapshot.WithUpdates(nil, nil, up)
	b.ResetTimer()
	for i := range b.N {
		rr, _ := dns.NewRR(`_acme-challenge.www.z0.example. 60 IN TXT "token-` + strconv.Itoa(i) + `"`)
		up["z0.example."] = []dns.RR{rr}
		served, _ = served.WithUpdates(served, nil, up)
	}
}
