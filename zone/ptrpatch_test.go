package zone

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// patched reports whether the reverse zone origin of inc was patched
// from prev's rather than built anew: a patch keeps the generated PTRs it
// did not place again, the very nodes, where a build makes every node.
func patched(prev, inc *Snapshot, origin string) bool {
	pz, iz := prev.zones[origin], inc.zones[origin]
	if pz == nil || iz == nil || pz == iz {
		return false
	}
	for name, n := range iz.nodes.all() {
		if pz.nodes.at(name) == n && n.set(dns.TypePTR) != nil {
			return true
		}
	}
	return false
}

// TestPatchedReverseEqualsFull is TestIncrementalEqualsFull where every
// forward zone's addresses fall in one reverse zone, the shape a patch is
// for, with PTRs, CNAMEs and delegations written at addresses' names now
// and then.
func TestPatchedReverseEqualsFull(t *testing.T) {
	zones, steps := 60, 120
	if testing.Short() {
		zones, steps = 40, 60
	}
	w := newWorld(t, zones,
		&revZone{name: "10.0.0.0/8", written: map[string]string{}, below: ".0.0", undo: true},
		&revZone{name: "2001:db8::/48", written: map[string]string{}, undo: true})
	const origin = "10.in-addr.arpa."
	n := 0
	editsMatchFull(t, w, steps, func(prev, inc *Snapshot) {
		if patched(prev, inc, origin) {
			n++
		}
	})
	// The comparison says nothing of the patch unless it ran.
	if n < steps/4 {
		t.Errorf("%s was patched in %d of %d steps, want at least %d", origin, n, steps, steps/4)
	}
}

// A forward zone's address that moves must take its PTR with it: the old
// one is gone from the patched reverse zone, and so are the empty names
// that led only to it.
func TestPatchRemovesOldPTR(t *testing.T) {
	cfg, zones := zoneFilesConfig(t)
	fwd := filepath.Join(zones, "fwd.yaml")
	writeFile(t, filepath.Join(zones, "rev.yaml"), "zones:\n  10.0.0.0/8: {ns: [ns1.example.com.]}\n", time.Unix(1000, 0))
	writeFile(t, filepath.Join(zones, "other.yaml"), "zones:\n  example.org: {ns: [ns1.example.com.], records: {www: {a: 10.0.0.1}}}\n", time.Unix(1000, 0))
	const fwdText = "zones:\n  example.com: {ns: [ns1], records: {www: {a: ADDR}, ns1: {a: 192.0.2.1}}}\n"
	writeFile(t, fwd, strings.Replace(fwdText, "ADDR", "10.1.2.3", 1), time.Unix(1000, 0))
	prev, diags := Load(cfg, nil)
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	writeFile(t, fwd, strings.Replace(fwdText, "ADDR", "10.0.0.4", 1), time.Unix(2000, 0))
	inc, diags := Reload(cfg, prev, []string{fwd})
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	if !patched(prev, inc, "10.in-addr.arpa.") {
		t.Fatal("the reverse zone was built anew, not patched")
	}
	ptr := func(name string) (int, []dns.RR) {
		r := inc.Lookup(dns.Question{Name: name, Qtype: dns.TypePTR, Qclass: dns.ClassINET}, Client{Link: NoLink})
		return r.Rcode, r.Answer
	}
	for _, name := range []string{"3.2.1.10.in-addr.arpa.", "2.1.10.in-addr.arpa.", "1.10.in-addr.arpa."} {
		if rcode, ans := ptr(name); rcode != dns.RcodeNameError {
			t.Errorf("%s after its address moved: rcode %s %v, want NXDOMAIN", name, dns.RcodeToString[rcode], ans)
		}
	}
	if _, ans := ptr("4.0.0.10.in-addr.arpa."); len(ans) != 1 || ans[0].(*dns.PTR).Ptr != "www.example.com." {
		t.Errorf("the moved address's PTR: %v, want www.example.com.", ans)
	}
	if _, ans := ptr("1.0.0.10.in-addr.arpa."); len(ans) != 1 || ans[0].(*dns.PTR).Ptr != "www.example.org." {
		t.Errorf("the PTR of a zone not edited: %v, want www.example.org.", ans)
	}
	full, _ := Load(cfg, withoutCache(prev))
	if d := diffSnapshots(inc, full); d != "" {
		t.Errorf("answers differ from a full build:\n%s", d)
	}
}

// A patch that places a PTR another zone's checks found missing must have
// them run again, while checks that looked elsewhere stand.
func TestPatchRechecksWhereItPlaced(t *testing.T) {
	cfg, zones := zoneFilesConfig(t)
	other := filepath.Join(zones, "other.yaml")
	writeFile(t, filepath.Join(zones, "rev.yaml"), "zones:\n  10.0.0.0/8: {ns: [ns1.example.com.]}\n", time.Unix(1000, 0))
	// A wildcard's address gets no generated PTR: the MX host it answers
	// for has none until another zone holds the address by name.
	writeFile(t, filepath.Join(zones, "mail.yaml"), `zones:
  example.com: {ns: [ns1], records: {"@": {mx: "10;mail"}, "*": {a: 10.0.0.9}, ns1: {a: 10.0.0.2}}}
`, time.Unix(1000, 0))
	const otherText = "zones:\n  example.org: {ns: [ns1.example.com.], records: {www: {a: ADDR}}}\n"
	writeFile(t, other, strings.Replace(otherText, "ADDR", "10.0.0.1", 1), time.Unix(1000, 0))
	prev, diags := Load(cfg, nil)
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	missing := func(ds Diagnostics) bool {
		return slices.ContainsFunc(ds, func(d Diagnostic) bool { return strings.Contains(d.String(), "has address 10.0.0.9 with no PTR") })
	}
	if !missing(diags) {
		t.Fatalf("no finding of the missing PTR to start from: %v", diags)
	}
	writeFile(t, other, strings.Replace(otherText, "ADDR", "10.0.0.9", 1), time.Unix(2000, 0))
	inc, incDiags := Reload(cfg, prev, []string{other})
	if inc == nil || !patched(prev, inc, "10.in-addr.arpa.") {
		t.Fatal("the reverse zone was built anew, not patched")
	}
	if missing(incDiags) {
		t.Errorf("the PTR is placed, yet its finding stands: %v", incDiags)
	}
	_, fullDiags := Load(cfg, withoutCache(prev))
	if d := diffDiags(incDiags, fullDiags); d != "" {
		t.Errorf("findings differ from a full build:\n%s", d)
	}
}
