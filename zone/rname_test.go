package zone

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func soaOf(t *testing.T, snap *Snapshot, origin string) *dns.SOA {
	t.Helper()
	rrs, ok := snap.Records(origin)
	if !ok {
		t.Fatalf("no zone %s", origin)
	}
	return rrs[0].(*dns.SOA)
}

// TestReverseRName: a reverse zone's default RNAME is a mailbox that can
// exist: the forward zone's, or hostmaster at its NS's parent.
func TestReverseRName(t *testing.T) {
	for _, tt := range []struct{ name, config, zone, want string }{
		{"forward zone default", "zones:\n  example.com: {ns: [ns1]}\n  192.0.2.0/24: {ns: [ns1.example.com.]}\n",
			"192.0.2.0/24", "hostmaster.example.com."},
		{"forward zone rname", "zones:\n  example.com: {ns: [ns1.dc], soa: {rname: dns-admin}}\n  192.0.2.0/24: {ns: [ns1.dc.example.com.]}\n",
			"2.0.192.in-addr.arpa", "dns-admin.example.com."},
		{"NS deeper in the forward zone", "zones:\n  example.com: {ns: [ns1.dc]}\n  2001:db8::/32: {ns: [ns1.dc.example.com.]}\n",
			"8.b.d.0.1.0.0.2.ip6.arpa.", "hostmaster.example.com."},
		{"no forward zone", "zones:\n  192.0.2.0/24: {ns: [ns1.example.net.]}\n",
			"192.0.2.0/24", "hostmaster.example.net."},
		{"own rname wins", "zones:\n  example.com: {ns: [ns1]}\n  192.0.2.0/24: {ns: [ns1.example.com.], soa: {rname: noc.example.org.}}\n",
			"192.0.2.0/24", "noc.example.org."},
		{"forward zone unchanged", "zones:\n  example.com: {ns: [ns1.example.net.]}\n",
			"example.com", "hostmaster.example.com."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			snap, diags := FromYAML("config.yaml", []byte(tt.config), nil)
			if err := diags.Err(); err != nil {
				t.Fatal(err)
			}
			if got := soaOf(t, snap, tt.zone).Mbox; got != tt.want {
				t.Errorf("RNAME %s, want %s", got, tt.want)
			}
		})
	}
}

// TestReverseRNameFollowsForwardZone: a reload that changes only the
// forward zone's file updates the reverse zone's RNAME too.
func TestReverseRNameFollowsForwardZone(t *testing.T) {
	cfg, zones := zoneFilesConfig(t)
	fwd := filepath.Join(zones, "fwd.yaml")
	rev := filepath.Join(zones, "rev.yaml")
	writeFile(t, fwd, "zones:\n  example.com: {ns: [ns1]}\n", time.Unix(1_800_000_000, 0))
	writeFile(t, rev, "zones:\n  192.0.2.0/24: {ns: [ns1.example.com.], auto_ptr: false}\n", time.Unix(1_800_000_000, 0))
	snap, diags := Load(cfg, nil)
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	writeFile(t, fwd, "zones:\n  example.com: {ns: [ns1], soa: {rname: dns}}\n", time.Unix(1_800_000_100, 0))
	snap, diags = Reload(cfg, snap, []string{fwd})
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	if got := soaOf(t, snap, "192.0.2.0/24").Mbox; got != "dns.example.com." {
		t.Errorf("RNAME %s after the forward zone's rname changed, want dns.example.com.", got)
	}
}
