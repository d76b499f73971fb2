package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/internal/harness"
)

// TestSignedDelegationValidates: a signed parent delegating to a signed
// child vouches for it with the DS written at the delegation. Before the
// DS is written the child validates as insecure (AD=0); once the lines
// `mxdns dnssec ds` prints for the child are saved in the parent, a
// validating resolver trusting only the parent's key returns AD=1 for
// the child's MX host.
func TestSignedDelegationValidates(t *testing.T) {
	dir := t.TempDir()
	config := func(port, admin int, ds []string) string {
		dsKey := ""
		if len(ds) > 0 {
			dsKey = `, ds: ["` + strings.Join(ds, `", "`) + `"]`
		}
		return fmt.Sprintf(`listen: ["127.0.0.1:%d"]
admin: "127.0.0.1:%d"
rrl: off
dnssec: on
zones:
  example.test:
    ns: [ns1]
    records:
      ns1: {a: 203.0.113.53}
      mail: {ns: [ns1.example.test.]%s}
  mail.example.test:
    ns: [ns1.example.test.]
    records:
      "@": {mx: "10;mx1"}
      mx1: {a: 203.0.113.25}
`, port, admin, dsKey)
	}
	var port, admin int
	srv, err := harness.Start(harness.Options{Bin: bin, Dir: dir, Args: []string{"serve", "-config", "config.yaml", "-state-dir", "state"},
		MemLimit: memLimit,
		WriteConfig: func(p, a int) error {
			port, admin = p, a
			return os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(config(p, a, nil)), 0o644)
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	dsOf := func(zone string) []string {
		cmd := exec.Command(bin, "dnssec", "ds", zone, "-config", "config.yaml", "-state-dir", "state")
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("mxdns dnssec ds %s: %v: %s", zone, err, out)
		}
		return strings.Split(strings.TrimSpace(string(out)), "\n")
	}
	u := harness.StartUnbound(t, harness.UnboundConfig{TrustAnchors: dsOf("example.test"),
		Stubs: map[string]string{"example.test": srv.Addr()}})
	r := u.Query(t, "mx1.mail.example.test", dns.TypeA)
	if r.Rcode != dns.RcodeSuccess || r.AuthenticatedData || len(r.Answer) == 0 {
		t.Fatalf("before the DS is written the child should answer insecure (AD=0):\n%s", r)
	}

	// The DS lines as a parent's operator would write them: the RDATA of
	// each line `mxdns dnssec ds` prints.
	var rdata []string
	for _, line := range dsOf("mail.example.test") {
		rr, err := dns.NewRR(line)
		if err != nil {
			t.Fatalf("mxdns dnssec ds printed %q: %v", line, err)
		}
		ds := rr.(*dns.DS)
		rdata = append(rdata, fmt.Sprintf("%d %d %d %s", ds.KeyTag, ds.Algorithm, ds.DigestType, ds.Digest))
	}
	// Saved as editors do, a new file renamed over the old.
	tmp := filepath.Join(dir, "config.yaml.new")
	if err := os.WriteFile(tmp, []byte(config(port, admin, rdata)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "config.yaml")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	if !harness.Wait(ctx, func() bool {
		r := direct(t, srv, "mail.example.test.", dns.TypeDS)
		return r != nil && len(r.Answer) == len(rdata)
	}) {
		t.Fatalf("the DS written was not served: %s", srv.Log())
	}
	u.Flush(t, "example.test")
	validated(t, u, "mx1.mail.example.test", dns.TypeA, dns.RcodeSuccess, "203.0.113.25")
	validated(t, u, "mail.example.test", dns.TypeMX, dns.RcodeSuccess, "10 mx1.mail.example.test.")
	validated(t, u, "nope.mail.example.test", dns.TypeA, dns.RcodeNameError, "")
}
