package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/internal/harness"
)

// The secret both sides share, as .ci/interop/50-knot-secondary.sh has.
const ixfrSecret = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ="

// ixfrZone is a zone file of origin with hosts names besides www at
// www: big enough that a whole transfer of it weighs many times what the
// change of one address does.
func ixfrZone(origin, www string, hosts int, signed bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "zones:\n  %s:\n    ns: [ns1]\n", origin)
	if signed {
		b.WriteString("    dnssec: on\n")
	}
	fmt.Fprintf(&b, "    records:\n      ns1: {a: 192.0.2.53}\n      www: {a: %s}\n", www)
	for i := range hosts {
		fmt.Fprintf(&b, "      h%d: {a: 10.1.%d.%d, txt: \"host %d of %s\"}\n", i, i/250, i%250+1, i, origin)
	}
	return b.String()
}

// TestFleetIXFR: a real Knot secondary follows mxdns by IXFR. It
// transfers the zones whole once; an edit of one record reaches it by
// NOTIFY and an incremental IXFR, a small fraction of the zone, within
// 5 s of mxdns serving it; after mxdns restarts, the next edit still
// does, from the journal in the state directory; and a signed zone
// follows by IXFR too, its copy on Knot passing kzonecheck with DNSSEC
// checks.
func TestFleetIXFR(t *testing.T) {
	harness.NeedKnot(t)
	kport, err := harness.FreePortOn("127.0.0.2")
	if err != nil {
		t.Fatal(err)
	}
	s := newSite(t, map[string]string{
		"zones/plain.yaml":  ixfrZone("plain.test", "192.0.2.80", 200, false),
		"zones/signed.yaml": ixfrZone("signed.test", "192.0.2.80", 50, true),
	})
	config := func(port, admin int) string {
		return s.config(port, admin) + fmt.Sprintf(`tsig_keys:
  xfr-key: {algorithm: hmac-sha256, secret: %q}
transfer:
  allow: ["key:xfr-key"]
  notify: ["127.0.0.2:%d"]
`, ixfrSecret, kport)
	}
	srv, err := harness.Start(harness.Options{Bin: bin, Dir: s.dir, Args: s.args(), MemLimit: memLimit,
		WriteConfig: func(port, admin int) error {
			return os.WriteFile(filepath.Join(s.dir, "config.yaml"), []byte(config(port, admin)), 0o644)
		}})
	if err != nil {
		t.Fatal(err)
	}
	s.srv = srv
	t.Cleanup(func() {
		if err := srv.Stop(); err != nil {
			t.Log(err)
		}
		if t.Failed() {
			t.Logf("mxdns output:\n%s", tail(srv.Log(), 60))
		}
	})
	k := &ixfrSecondary{t: t, KnotSecondary: harness.StartKnotSecondary(t, harness.KnotSecondaryOptions{
		Primary: srv.Addr(), Addr: fmt.Sprintf("127.0.0.2:%d", kport), Zones: []string{"plain.test", "signed.test"},
		TSIGName: "xfr-key", TSIGAlgorithm: "hmac-sha256", TSIGSecret: ixfrSecret, ZoneFiles: true,
	})}

	for _, z := range []string{"plain.test", "signed.test"} {
		k.waitSerial(z, s.serial(z), deadline, "first transfer")
	}
	full := map[string]int{}
	for _, z := range []string{"plain.test", "signed.test"} {
		if full[z] = k.transferSize(z, "AXFR", 0); full[z] == 0 {
			t.Fatalf("no whole transfer of %s in Knot's log:\n%s", z, k.log())
		}
	}

	// editFlows saves zone file name with www at addr and checks that
	// Knot takes the change by an incremental IXFR.
	editFlows := func(file, origin, addr, what string, incremental bool) {
		t.Helper()
		signed := origin == "signed.test"
		hosts := 200
		if signed {
			hosts = 50
		}
		mark := k.logLen()
		s.save(file, ixfrZone(origin, addr, hosts, signed))
		s.waitA("www."+origin, addr, what)
		k.waitSerial(origin, s.serial(origin), 5*time.Second, what)
		if !incremental {
			return
		}
		size := k.transferSize(origin, "IXFR", mark)
		if size == 0 || strings.Contains(k.log()[mark:], "["+origin+".] IXFR, incoming, remote 127.0.0.1@"+strconv.Itoa(srv.Port)+" TCP, receiving AXFR-style IXFR") {
			t.Fatalf("%s: Knot did not take %s by an incremental IXFR; its log since:\n%s", what, origin, k.log()[mark:])
		}
		if size*5 > full[origin] {
			t.Errorf("%s: the IXFR of one changed address took %d bytes, the whole zone %d", what, size, full[origin])
		}
	}
	editFlows("zones/plain.yaml", "plain.test", "192.0.2.81", "edit", true)
	editFlows("zones/plain.yaml", "plain.test", "192.0.2.82", "second edit", true)

	s.restart(false, "restart")
	editFlows("zones/plain.yaml", "plain.test", "192.0.2.83", "edit after a restart", true)

	// The first version of a signed zone journaled may be held with
	// signatures made before there was a journal: its first change is
	// sent whole, the next by IXFR.
	editFlows("zones/signed.yaml", "signed.test", "192.0.2.81", "signed zone, first edit", false)
	editFlows("zones/signed.yaml", "signed.test", "192.0.2.82", "signed zone, second edit", true)
	s.restart(false, "restart")
	editFlows("zones/signed.yaml", "signed.test", "192.0.2.83", "signed zone, edit after a restart", true)
	k.zoneCheck("signed.test", s.serial("signed.test"))
}

// ixfrKnotBinary finds a Knot program, skipping the test without one
// unless MXDNS_REQUIRE_KNOT is set.
func ixfrKnotBinary(t *testing.T, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/local/sbin"} {
		if p := filepath.Join(dir, name); isExec(p) {
			return p
		}
	}
	if os.Getenv("MXDNS_REQUIRE_KNOT") != "" {
		t.Fatalf("%s is not installed (apt-get install knot knot-dnssecutils), and MXDNS_REQUIRE_KNOT is set", name)
	}
	t.Skipf("%s is not installed (apt-get install knot knot-dnssecutils)", name)
	return ""
}

func isExec(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// ixfrSecondary is the test's Knot secondary, with what this test asks of it.
type ixfrSecondary struct {
	t *testing.T
	*harness.KnotSecondary
}

func (k *ixfrSecondary) log() string { return k.Log() }

func (k *ixfrSecondary) logLen() int { return len(k.Log()) }

// waitSerial waits up to within for Knot to serve zone at serial.
func (k *ixfrSecondary) waitSerial(zone string, serial uint32, within time.Duration, what string) {
	k.t.Helper()
	var got uint32
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	if !harness.Wait(ctx, func() bool {
		r, err := harness.Exchange(k.Addr(), zone, dns.TypeSOA, false, 500*time.Millisecond)
		if err != nil {
			return false
		}
		got, _ = harness.Serial(r)
		return got == serial
	}) {
		k.t.Fatalf("%s: Knot serves %s at serial %d after %v, want %d", what, zone, got, within, serial)
	}
}

var finished = regexp.MustCompile(`\[([^\]]+)\] (AXFR|IXFR), incoming, remote [^,]+, finished, [0-9.]+ seconds, [0-9]+ messages, ([0-9]+) bytes`)

// transferSize is the size Knot logs of the last transfer of zone of
// kind (AXFR or IXFR) it finished, in its log from mark on; 0 if none.
func (k *ixfrSecondary) transferSize(zone, kind string, mark int) int {
	size := 0
	for _, m := range finished.FindAllStringSubmatch(k.log()[mark:], -1) {
		if m[1] == zone+"." && m[2] == kind {
			size, _ = strconv.Atoi(m[3])
		}
	}
	return size
}

// zoneCheck waits for Knot's zone file of zone to reach serial and runs
// kzonecheck on it, DNSSEC checks included.
func (k *ixfrSecondary) zoneCheck(zone string, serial uint32) {
	k.t.Helper()
	check := ixfrKnotBinary(k.t, "kzonecheck")
	file := k.ZoneFile(zone)
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	want := regexp.MustCompile(`(?m)^\S+\s+\d+\s+SOA\s+\S+\s+\S+\s+` + strconv.FormatUint(uint64(serial), 10) + `\s`)
	if !harness.Wait(ctx, func() bool {
		b, err := os.ReadFile(file)
		return err == nil && want.Match(b)
	}) {
		b, err := os.ReadFile(file)
		k.t.Fatalf("Knot's zone file %s never reached serial %d (%v):\n%s", file, serial, err, tail(string(b), 20))
	}
	out, err := exec.Command(check, "-o", zone+".", "-d", "on", file).CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		k.t.Fatal(err)
	}
	if err != nil {
		b, _ := os.ReadFile(file)
		k.t.Fatalf("kzonecheck on Knot's copy of %s: %v\n%s\nthe copy:\n%s", zone, err, out, b)
	}
}
