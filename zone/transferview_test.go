package zone

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// viewConfig has every kind of record the view treats: addresses by link
// (balance, failover, a wildcard), MX withdrawn by health (healthy,
// primary, all, equal preferences), MX in another zone whose targets are
// here, a zone with no link at all, and records that never depend on a
// link.
const viewConfig = `
link_ttl: 30
transfer_view: current
links:
  wan1: {listen: ["127.0.0.1:5353"]}
  wan2: {listen: ["127.0.0.2:5353"]}
  wan3: {}
zones:
  example.com:
    ttl: 3600
    ns: [ns1]
    records:
      "@":
        mx: ["10;mx1", "20;mx2", "30;backup.example.net."]
        txt: ["v=spf1 mx -all"]
      primary:
        mx: ["10;mx1", "20;mx2"]
        mx_publish: primary
      every:
        mx: ["10;mx1", "20;mx2"]
        mx_publish: all
      shared:
        mx: ["10;mx1", "10;mx2"]
      mx1: {a: {wan1: 203.0.113.25}}
      mx2: {a: {wan2: 198.51.100.25}}
      www: {a: {wan1: 203.0.113.80, wan2: [198.51.100.80, 198.51.100.81]}}
      vpn: {a: {wan2: 198.51.100.90, wan1: 203.0.113.90}, link_mode: failover}
      "*.dyn": {a: {wan1: 203.0.113.99, wan2: 198.51.100.99}}
      alias: {cname: www}
      ns1: {a: 203.0.113.53, aaaa: "2001:db8::53"}
      _submission._tcp: {srv: ["0 1 587 mx1"]}
  example.org:
    ns: [ns1.example.com.]
    records:
      "@": {mx: ["10;mx1.example.com.", "20;mx2.example.com."]}
  example.edu:
    ns: [ns1.example.com.]
    records:
      "@": {mx: ["10;mail"]}
      mail: {a: 192.0.2.25}
`

var viewUps = map[string]LinkSet{"both": bothUp, "wan1": onlyWan1, "wan2": onlyWan2, "none": noneUp}

// byNameType groups a transfer's records (the SOA included) by owner and
// type, in the order sent.
func byNameType(rrs []dns.RR) map[[2]string][]string {
	out := make(map[[2]string][]string)
	for _, rr := range rrs {
		k := [2]string{rr.Header().Name, dns.TypeToString[rr.Header().Rrtype]}
		out[k] = append(out[k], rr.String())
	}
	return out
}

// The view is what Lookup answers a client on no link, set by set, TTLs
// and order included, for every up set; nothing else in the zone.
func TestTransferRecordsEqualLookup(t *testing.T) {
	snap := mustSnapshot(t, viewConfig)
	for _, origin := range []string{"example.com.", "example.org.", "example.edu."} {
		for upName, up := range viewUps {
			rrs, ok := snap.TransferRecords(origin, up)
			if !ok {
				t.Fatalf("%s: no zone", origin)
			}
			all, _ := snap.Records(origin)
			if len(byNameType(rrs)) != len(byNameType(all)) {
				t.Errorf("%s up %s: %d sets, Records has %d", origin, upName, len(byNameType(rrs)), len(byNameType(all)))
			}
			for k, got := range byNameType(rrs) {
				qtype := dns.StringToType[k[1]]
				res := snap.Lookup(dns.Question{Name: k[0], Qtype: qtype, Qclass: dns.ClassINET}, Client{Link: NoLink, Up: up})
				var want []string
				for _, rr := range res.Answer {
					want = append(want, rr.String())
				}
				if !slices.Equal(got, want) {
					t.Errorf("%s %s up %s:\n got  %q\n want %q (Lookup)", k[0], k[1], upName, got, want)
				}
			}
		}
	}
}

func transferredSet(t *testing.T, snap *Snapshot, origin string, up LinkSet, name string, qtype uint16) []string {
	t.Helper()
	rrs, ok := snap.TransferRecords(origin, up)
	if !ok {
		t.Fatalf("%s: no zone", origin)
	}
	return byNameType(rrs)[[2]string{name, dns.TypeToString[qtype]}]
}

func TestTransferViewRules(t *testing.T) {
	snap := mustSnapshot(t, viewConfig)
	for _, tc := range []struct {
		what, name string
		qtype      uint16
		up         LinkSet
		want       []string
	}{
		{"mx_publish healthy withdraws the MX of a down link", "example.com.", dns.TypeMX, onlyWan2, []string{
			"example.com.\t30\tIN\tMX\t20 mx2.example.com.", "example.com.\t30\tIN\tMX\t30 backup.example.net."}},
		{"every MX while both links are up, at link_ttl", "example.com.", dns.TypeMX, bothUp, []string{
			"example.com.\t30\tIN\tMX\t10 mx1.example.com.", "example.com.\t30\tIN\tMX\t20 mx2.example.com.",
			"example.com.\t30\tIN\tMX\t30 backup.example.net."}},
		{"every MX when none is healthy", "primary.example.com.", dns.TypeMX, noneUp, []string{
			"primary.example.com.\t30\tIN\tMX\t10 mx1.example.com.", "primary.example.com.\t30\tIN\tMX\t20 mx2.example.com."}},
		{"primary: the lowest healthy preference", "primary.example.com.", dns.TypeMX, onlyWan2, []string{
			"primary.example.com.\t30\tIN\tMX\t20 mx2.example.com."}},
		{"mx_publish all keeps every MX", "every.example.com.", dns.TypeMX, onlyWan2, []string{
			"every.example.com.\t30\tIN\tMX\t10 mx1.example.com.", "every.example.com.\t30\tIN\tMX\t20 mx2.example.com."}},
		{"MX in another zone follows its targets' links", "example.org.", dns.TypeMX, onlyWan1, []string{
			"example.org.\t30\tIN\tMX\t10 mx1.example.com."}},
		{"balance: every up link's addresses", "www.example.com.", dns.TypeA, bothUp, []string{
			"www.example.com.\t30\tIN\tA\t203.0.113.80", "www.example.com.\t30\tIN\tA\t198.51.100.80", "www.example.com.\t30\tIN\tA\t198.51.100.81"}},
		{"balance: a down link's addresses withdrawn", "www.example.com.", dns.TypeA, onlyWan2, []string{
			"www.example.com.\t30\tIN\tA\t198.51.100.80", "www.example.com.\t30\tIN\tA\t198.51.100.81"}},
		{"balance: every address when no link is up", "www.example.com.", dns.TypeA, noneUp, []string{
			"www.example.com.\t30\tIN\tA\t203.0.113.80", "www.example.com.\t30\tIN\tA\t198.51.100.80", "www.example.com.\t30\tIN\tA\t198.51.100.81"}},
		{"failover: the first up link as written", "vpn.example.com.", dns.TypeA, bothUp, []string{"vpn.example.com.\t30\tIN\tA\t198.51.100.90"}},
		{"failover: the next when the first is down", "vpn.example.com.", dns.TypeA, onlyWan1, []string{"vpn.example.com.\t30\tIN\tA\t203.0.113.90"}},
		{"a wildcard's addresses by link", "*.dyn.example.com.", dns.TypeA, onlyWan2, []string{"*.dyn.example.com.\t30\tIN\tA\t198.51.100.99"}},
		{"an address on no link is as written", "ns1.example.com.", dns.TypeAAAA, noneUp, []string{"ns1.example.com.\t3600\tIN\tAAAA\t2001:db8::53"}},
		{"other records are as written", "example.com.", dns.TypeTXT, onlyWan1, []string{"example.com.\t3600\tIN\tTXT\t\"v=spf1 mx -all\""}},
		{"an MX with no link behind it is as written", "example.edu.", dns.TypeMX, noneUp, []string{"example.edu.\t3600\tIN\tMX\t10 mail.example.edu."}},
	} {
		origin := tc.name
		if z := snap.findZone(tc.name); z != nil {
			origin = z.origin
		}
		if got := transferredSet(t, snap, origin, tc.up, tc.name, tc.qtype); !slices.Equal(got, tc.want) {
			t.Errorf("%s:\n got  %q\n want %q", tc.what, got, tc.want)
		}
	}
}

// Under all, the default, a transfer is Records whatever the links, and
// no link change moves a serial.
func TestTransferViewAll(t *testing.T) {
	snap := mustSnapshot(t, strings.Replace(viewConfig, "transfer_view: current", "", 1))
	if v := snap.Settings().TransferView; v != TransferAll {
		t.Fatalf("default transfer_view %s, want all", v)
	}
	all, _ := snap.Records("example.com.")
	for upName, up := range viewUps {
		rrs, _ := snap.TransferRecords("example.com.", up)
		if !slices.Equal(inOrder(rrs), inOrder(all)) {
			t.Errorf("up %s: transfer differs from Records", upName)
		}
		if next := snap.WithTransferUp(up, time.Now()); next != snap {
			t.Errorf("up %s: WithTransferUp made a new snapshot under all", upName)
		}
	}
}

// inOrder is rrs as text, in their order.
func inOrder(rrs []dns.RR) []string {
	out := make([]string, len(rrs))
	for i, rr := range rrs {
		out[i] = rr.String()
	}
	return out
}

func TestTransferViewParse(t *testing.T) {
	for text, want := range map[string]string{
		"transfer_view: sometimes\n": `c.yaml:1:16: transfer_view "sometimes": want one of all, current`,
		"transfer_view: [all]\n":     `c.yaml:1:16:`,
	} {
		_, diags := FromYAML("c.yaml", []byte(text), nil)
		if err := diags.Err(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want %s", text, err, want)
		}
	}
	for text, want := range map[string]TransferView{"transfer_view: all\n": TransferAll, "transfer_view: current\n": TransferCurrent} {
		snap, diags := FromYAML("c.yaml", []byte(text), nil)
		if err := diags.Err(); err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		if got := snap.Settings().TransferView; got != want {
			t.Errorf("%q: %s, want %s", text, got, want)
		}
	}
}

// A link change moves the serial of each zone whose transfer changes, and
// only those; going back moves it again, upward; the SOA every answer
// carries is the new one; the previous snapshot is left as it was.
func TestWithTransferUpSerials(t *testing.T) {
	s0 := mustSnapshot(t, viewConfig)
	if s0.TransferUp() != DefaultUp(s0.Settings().Links) {
		t.Fatalf("a build's TransferUp %b, want every link %b", s0.TransferUp(), DefaultUp(s0.Settings().Links))
	}
	zones := []string{"example.com.", "example.org.", "example.edu."}
	serials := func(s *Snapshot) map[string]uint32 {
		out := map[string]uint32{}
		for _, o := range zones {
			out[o] = serialOf(t, s, o)
		}
		return out
	}
	first := serials(s0)
	now := time.Unix(int64(first["example.com."])+100, 0)

	// wan3 carries no address: nothing transferred changes.
	s1 := s0.WithTransferUp(bothUp, now)
	if got := serials(s1); !reflectEqual(got, first) || s1.TransferUp() != bothUp {
		t.Fatalf("a link no record uses went down: serials %v, want %v", got, first)
	}

	s2 := s1.WithTransferUp(onlyWan2, now)
	second := serials(s2)
	for o, moved := range map[string]bool{"example.com.": true, "example.org.": true, "example.edu.": false} {
		if changed := second[o] != first[o]; changed != moved {
			t.Errorf("wan1 down: %s serial %d → %d, want moved=%v", o, first[o], second[o], moved)
		}
		if moved && !serialAfter(second[o], first[o]) {
			t.Errorf("wan1 down: %s serial %d is not after %d", o, second[o], first[o])
		}
	}
	if got := serials(s1); !reflectEqual(got, first) {
		t.Errorf("the snapshot before the change was written: %v", got)
	}
	if got, _ := s2.Transferred("example.com."); !strings.Contains(inOrder(got)[0], " "+strconv.FormatUint(uint64(second["example.com."]), 10)+" ") {
		t.Errorf("transferred SOA %s, want serial %d", got[0], second["example.com."])
	}
	soa := s2.Lookup(dns.Question{Name: "example.com.", Qtype: dns.TypeSOA, Qclass: dns.ClassINET}, Client{Link: NoLink, Up: onlyWan2})
	neg := s2.Lookup(dns.Question{Name: "nope.example.com.", Qtype: dns.TypeA, Qclass: dns.ClassINET}, Client{Link: NoLink, Up: onlyWan2})
	for what, rr := range map[string]dns.RR{"SOA answer": soa.Answer[0], "NXDOMAIN authority": neg.Ns[0]} {
		if got := rr.(*dns.SOA).Serial; got != second["example.com."] {
			t.Errorf("%s carries serial %d, want %d", what, got, second["example.com."])
		}
	}
	if got := s2.Changed(s1); len(got) != 2 {
		t.Errorf("Changed lists %v, want example.com and example.org", got)
	}
	if got := s2.SerialsSince(s1); len(got) != 2 {
		t.Errorf("SerialsSince lists %v, want example.com and example.org", got)
	}

	// Back up, at the same second: a third serial, not the first again.
	s3 := s2.WithTransferUp(bothUp, now)
	third := serials(s3)
	for _, o := range []string{"example.com.", "example.org."} {
		if !serialAfter(third[o], second[o]) {
			t.Errorf("wan1 back: %s serial %d, not after %d", o, third[o], second[o])
		}
	}
	same3, _ := s3.Transferred("example.com.")
	same0, _ := s0.Transferred("example.com.")
	if !slices.Equal(inOrder(same3)[1:], inOrder(same0)[1:]) {
		t.Error("wan1 back: the transfer differs from the one before wan1 went down")
	}
}

func reflectEqual(a, b map[string]uint32) bool { return reflect.DeepEqual(a, b) }

// A reload keeps the serial of a zone whose transfer is unchanged and
// moves it where the links up are not those of the snapshot it reloads,
// whether the zone was rebuilt or taken over; a restart from remembered
// serials does the same.
func TestTransferViewAcrossReloads(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte(viewConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	mem := &memory{}
	up := bothUp
	open := func(prev *Snapshot) *Snapshot {
		t.Helper()
		l := Open(cfg, prev, Options{Memory: mem, TransferUp: func([]Link) LinkSet { return up }})
		if l.Snapshot == nil {
			t.Fatalf("load: %v", l.Diags.Err())
		}
		mem.remember(l)
		return l.Snapshot
	}
	s0 := open(nil)
	base := serialOf(t, s0, "example.com.")
	if s := open(s0); serialOf(t, s, "example.com.") != base {
		t.Fatalf("reload with nothing changed moved the serial from %d", base)
	}

	// The links change between two loads: a reload follows them.
	up = onlyWan1
	s1 := open(s0)
	if got := serialOf(t, s1, "example.com."); !serialAfter(got, base) {
		t.Fatalf("reload with wan2 down: serial %d, not after %d", got, base)
	}
	if got := serialOf(t, s1, "example.edu."); got != serialOf(t, s0, "example.edu.") {
		t.Errorf("example.edu has no link, but its serial moved to %d", got)
	}
	if rrs, _ := s1.Transferred("example.com."); len(byNameType(rrs)[[2]string{"mx2.example.com.", "A"}]) != 1 {
		t.Error("no mx2 A in the transfer")
	}

	// A serial made by a link change stands at a reload made with the
	// same links, and after a restart that remembers it.
	s2 := s1.WithTransferUp(onlyWan2, time.Now())
	up = onlyWan2
	mem.remember(Loaded{Snapshot: s2})
	moved := serialOf(t, s2, "example.com.")
	if got := serialOf(t, open(s2), "example.com."); got != moved {
		t.Errorf("reload at the links of the change: serial %d, want %d", got, moved)
	}
	if got := serialOf(t, open(nil), "example.com."); got != moved {
		t.Errorf("restart at the links of the change: serial %d, want %d", got, moved)
	}
	up = bothUp
	if got := serialOf(t, open(nil), "example.com."); !serialAfter(got, moved) {
		t.Errorf("restart with every link up again: serial %d, not after %d", got, moved)
	}
}

// A zone whose serial is written as a number cannot follow the links: it
// transfers everything, and the load says so at the serial.
func TestTransferViewFixedSerial(t *testing.T) {
	text := strings.Replace(viewConfig, "    ttl: 3600\n", "    ttl: 3600\n    soa: {serial: 7}\n", 1)
	snap, diags := FromYAML("c.yaml", []byte(text), nil)
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, d := range diags.Warnings() {
		if strings.Contains(d.String(), "c.yaml:11:19: warning: zone example.com: serial 7 is fixed") {
			found = true
		}
	}
	if !found {
		t.Errorf("no warning at the fixed serial: %v", diags.Warnings())
	}
	all, _ := snap.Records("example.com.")
	got, _ := snap.TransferRecords("example.com.", onlyWan2)
	if !slices.Equal(inOrder(got), inOrder(all)) {
		t.Error("a zone with a fixed serial transfers a view")
	}
	if next := snap.WithTransferUp(onlyWan2, time.Now()); serialOf(t, next, "example.com.") != 7 {
		t.Error("a fixed serial moved")
	}
}

// withSerial shares every field of the zone but the SOA, its negative
// copy, the digest and the apex: a field added to zoneData must be
// handed on there too.
func TestWithSerialKeepsEveryField(t *testing.T) {
	snap := mustSnapshot(t, viewConfig)
	z := snap.zones["example.com."]
	n := z.withSerial(z.soa.Serial+1, [32]byte{1})
	zv, nv := reflect.ValueOf(z).Elem(), reflect.ValueOf(n).Elem()
	for i := 0; i < zv.NumField(); i++ {
		name := zv.Type().Field(i).Name
		switch name {
		case "soa", "negSOA", "hash", "nodes", "chainMu", "chain", "chain3":
			continue
		}
		a, b := zv.Field(i), nv.Field(i)
		if !reflect.DeepEqual(reflect.NewAt(a.Type(), a.Addr().UnsafePointer()).Elem().Interface(),
			reflect.NewAt(b.Type(), b.Addr().UnsafePointer()).Elem().Interface()) {
			t.Errorf("withSerial does not hand on zoneData.%s", name)
		}
	}
	if n.soa.Serial != z.soa.Serial+1 || n.negSOA.Serial != z.soa.Serial+1 || n.nodes.at("example.com.").set(dns.TypeSOA).rrs[0] != n.soa {
		t.Error("the new serial is not in the SOA, its negative copy and the apex")
	}
	if z.nodes.at("example.com.").set(dns.TypeSOA).rrs[0] != z.soa {
		t.Error("the zone copied from was written")
	}
}

// Two instances with the same configuration that see the same links give
// the same transfers, serials and answers: nothing in them depends on
// the process (map order, the seeds of the sharded maps, which a zone of
// more than 4096 names has). Built twice, in one process, the maps and
// seeds differ as they would between two.
func TestTwoInstancesAgree(t *testing.T) {
	var b strings.Builder
	b.WriteString(viewConfig)
	b.WriteString("  192.0.2.0/24:\n    ns: [ns1.example.com.]\n  big.test:\n    ns: [ns1.example.com.]\n    records:\n")
	for i := range 5000 {
		fmt.Fprintf(&b, "      h%d: {a: {wan1: 203.0.113.%d, wan2: 198.51.100.%d}, mx: [\"10;h%d\", \"10;mx1.example.com.\", \"20;mx2.example.com.\"]}\n", i, i%250+1, i%250+1, i)
	}
	b.WriteString("      mail: {a: 192.0.2.9}\n")
	one, two := mustSnapshot(t, b.String()), mustSnapshot(t, b.String())
	now := time.Unix(2_000_000_000, 0)
	for upName, up := range viewUps {
		a, c := one.WithTransferUp(up, now), two.WithTransferUp(up, now)
		for _, z := range one.Zones() {
			x, _ := a.Transferred(z.Origin)
			y, _ := c.Transferred(z.Origin)
			if !slices.Equal(inOrder(x), inOrder(y)) {
				t.Fatalf("up %s: %s transferred differently by two builds", upName, z.Origin)
			}
		}
		for _, name := range []string{"example.com.", "www.example.com.", "h17.big.test.", "x.dyn.example.com.", "9.2.0.192.in-addr.arpa."} {
			for _, qtype := range []uint16{dns.TypeA, dns.TypeMX, dns.TypePTR} {
				for rotate := range uint32(3) {
					q := dns.Question{Name: name, Qtype: qtype, Qclass: dns.ClassINET}
					c1 := Client{Link: NoLink, Up: up, Rotate: rotate}
					if x, y := fmt.Sprint(a.Lookup(q, c1)), fmt.Sprint(c.Lookup(q, c1)); x != y {
						t.Fatalf("up %s: %s %s rotation %d answered differently:\n%s\n%s", upName, name, dns.TypeToString[qtype], rotate, x, y)
					}
				}
			}
		}
	}
}
