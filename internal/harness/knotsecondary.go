package harness

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// KnotSecondary is a Knot DNS secondary of a primary under test: Debian's
// knotd, run as the current user with its configuration, run directory
// and storage in the test's temporary directory, on loopback only. It
// follows a catalog zone (RFC 9432, catalog-role: interpret), or serves
// zones named in its options, or both.
type KnotSecondary struct {
	addr    string // host:port
	dir     string
	conf    string
	logPath string
}

// KnotSecondaryOptions say what a KnotSecondary follows.
type KnotSecondaryOptions struct {
	// Primary is the primary's address, ip:port: every zone is
	// transferred from it, and its NOTIFYs are taken.
	Primary string
	// TSIGName, TSIGAlgorithm (as Knot spells it: hmac-sha256) and
	// TSIGSecret (base64) are the key the transfers and NOTIFYs are
	// signed with; no name, no key.
	TSIGName, TSIGAlgorithm, TSIGSecret string
	// Catalog is the catalog zone to follow, "" for none. Its members are
	// set up from a template with the primary as master, or, for a member
	// of one of Groups, from that group's template.
	Catalog string
	// Groups are catalog groups with a template of their own, whose
	// zones Knot also writes as zone files, so a test can tell which
	// template a zone got (GroupZones).
	Groups []string
	// Zones are zones served from the primary besides the catalog's.
	Zones []string
	// ZoneFiles has Knot write each of Zones to its file (ZoneFile) as
	// soon as it changes, for a test to check the copy, and keep a
	// journal of changes, as a secondary that serves IXFR on does.
	ZoneFiles bool
	// Addr is where Knot listens, ip:port. "" or port 0 takes a free
	// port, on 127.0.0.1 unless an address is given; a start that finds
	// the port taken then tries another.
	Addr string
}

// StartKnotSecondary starts knotd for the test and returns once it
// answers on its address, whatever it has transferred by then; it is
// stopped at cleanup, its log shown when the test failed. A machine
// without knotd skips the test, unless MXDNS_REQUIRE_KNOT=1 (CI sets
// it), when that is a failure.
func StartKnotSecondary(t testing.TB, o KnotSecondaryOptions) *KnotSecondary {
	t.Helper()
	bin := NeedKnot(t)
	if _, _, err := net.SplitHostPort(o.Primary); err != nil {
		t.Fatalf("knot secondary: primary %q: %v", o.Primary, err)
	}
	host, port := "127.0.0.1", 0
	if o.Addr != "" {
		h, p, err := net.SplitHostPort(o.Addr)
		if err != nil {
			t.Fatalf("knot secondary: address %q: %v", o.Addr, err)
		}
		host = h
		if port, err = strconv.Atoi(p); err != nil {
			t.Fatalf("knot secondary: address %q: %v", o.Addr, err)
		}
	}
	dir := t.TempDir()
	for try := 1; ; try++ {
		p := port
		if p == 0 {
			var err error
			if p, err = FreePortOn(host); err != nil {
				t.Fatal(err)
			}
		}
		k := &KnotSecondary{addr: net.JoinHostPort(host, strconv.Itoa(p)), dir: dir,
			conf: filepath.Join(dir, "knot.conf"), logPath: filepath.Join(dir, "knotd.log")}
		err := k.start(t, bin, o)
		if err == nil {
			return k
		}
		if !errors.Is(err, ErrBind) || port != 0 || try == 5 {
			t.Fatal(err)
		}
	}
}

// NeedKnot returns the path of knotd, also found in /usr/sbin when PATH
// lacks it, or skips the test (fails it under MXDNS_REQUIRE_KNOT=1): a
// test can ask before it builds what the secondaries are for.
func NeedKnot(t testing.TB) string {
	t.Helper()
	if bin, err := exec.LookPath("knotd"); err == nil {
		return bin
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/local/sbin"} {
		if bin := filepath.Join(dir, "knotd"); isExecutable(bin) {
			return bin
		}
	}
	if os.Getenv("MXDNS_REQUIRE_KNOT") == "1" {
		t.Fatal("knotd is not installed (apt-get install knot), and MXDNS_REQUIRE_KNOT=1")
	}
	t.Skip("knotd is not installed (apt-get install knot)")
	return ""
}

// FreePortOn is FreePort on another loopback address, such as
// 127.0.0.2: a secondary there shares no port with the clients and
// servers of other tests, which all live on 127.0.0.1.
func FreePortOn(host string) (int, error) {
	var last error
	for range 20 {
		u, err := net.ListenPacket("udp", net.JoinHostPort(host, "0"))
		if err != nil {
			last = err
			continue
		}
		port := u.LocalAddr().(*net.UDPAddr).Port
		l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		u.Close()
		if err != nil {
			last = err
			continue
		}
		l.Close()
		return port, nil
	}
	return 0, fmt.Errorf("free port on %s: %w", host, last)
}

// Addr is where the secondary answers, ip:port.
func (k *KnotSecondary) Addr() string { return k.addr }

// Query asks the secondary over UDP and, when that times out, once more
// over TCP.
func (k *KnotSecondary) Query(name string, qtype uint16) (*dns.Msg, error) {
	r, err := Exchange(k.addr, name, qtype, false, 2*time.Second)
	var ne net.Error
	if err != nil && errors.As(err, &ne) && ne.Timeout() {
		r, err = Exchange(k.addr, name, qtype, true, 2*time.Second)
	}
	return r, err
}

// Log is what knotd has logged so far.
func (k *KnotSecondary) Log() string {
	b, _ := os.ReadFile(k.logPath)
	return string(b)
}

// GroupZones lists the zones Knot has written from the template of a
// group (KnotSecondaryOptions.Groups), sorted, fully qualified.
func (k *KnotSecondary) GroupZones(group string) []string {
	entries, _ := os.ReadDir(k.groupDir(group))
	var out []string
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), ".zone"); ok {
			out = append(out, dns.Fqdn(name))
		}
	}
	slices.Sort(out)
	return out
}

// ZoneFile is where Knot writes zone under KnotSecondaryOptions.ZoneFiles.
func (k *KnotSecondary) ZoneFile(zone string) string {
	return filepath.Join(k.dir, "zones", strings.TrimSuffix(zone, ".")+".zone")
}

func (k *KnotSecondary) groupDir(group string) string {
	return filepath.Join(k.dir, "group-"+hex.EncodeToString([]byte(group)))
}

// config is knot.conf. Zones are kept in memory only (no zone files, no
// journal), but for the groups' zone files.
func (k *KnotSecondary) config(o KnotSecondaryOptions, identity, control string) (string, error) {
	host, port, _ := net.SplitHostPort(k.addr)
	phost, pport, _ := net.SplitHostPort(o.Primary)
	var b strings.Builder
	fmt.Fprintf(&b, "server:\n    rundir: %q\n    listen: %s@%s\n    identity: %q\n", k.dir, host, port, identity)
	fmt.Fprintf(&b, "control:\n    listen: %q\n", control)
	b.WriteString("log:\n  - target: stderr\n    any: info\n")
	fmt.Fprintf(&b, "database:\n    storage: %q\n", k.dir)
	key := ""
	if o.TSIGName != "" {
		alg := strings.TrimSuffix(strings.ToLower(o.TSIGAlgorithm), ".")
		fmt.Fprintf(&b, "key:\n  - id: %s\n    algorithm: %s\n    secret: %s\n", dns.Fqdn(o.TSIGName), alg, o.TSIGSecret)
		key = "    key: " + dns.Fqdn(o.TSIGName) + "\n"
	}
	fmt.Fprintf(&b, "remote:\n  - id: primary\n    address: %s@%s\n%s", phost, pport, key)
	// NOTIFY comes from whichever loopback address the primary's socket
	// takes: the key is what tells it from another's.
	fmt.Fprintf(&b, "acl:\n  - id: notify-from-primary\n    address: %s\n%s    action: notify\n", notifyFrom(phost), key)
	const follow = "    master: primary\n    acl: notify-from-primary\n    zonefile-sync: -1\n    zonefile-load: none\n    journal-content: none\n"
	fmt.Fprintf(&b, "template:\n  - id: default\n    storage: %q\n", k.dir)
	templates := []string{"member"}
	b.WriteString("  - id: member\n" + follow)
	if o.ZoneFiles {
		if err := os.MkdirAll(filepath.Join(k.dir, "zones"), 0o755); err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "  - id: files\n    storage: %q\n    file: \"%%s.zone\"\n%s", filepath.Join(k.dir, "zones"),
			strings.NewReplacer("zonefile-sync: -1", "zonefile-sync: 0", "journal-content: none", "journal-content: changes").Replace(follow))
	}
	for _, g := range o.Groups {
		if g == "" || g == "default" || g == "member" || strings.ContainsAny(g, " \t\n\"\\") {
			return "", fmt.Errorf("knot secondary: group %q cannot be a template id here", g)
		}
		if err := os.MkdirAll(k.groupDir(g), 0o755); err != nil {
			return "", err
		}
		templates = append(templates, g)
		fmt.Fprintf(&b, "  - id: %s\n    storage: %q\n    file: \"%%s.zone\"\n%s", g, k.groupDir(g),
			strings.Replace(follow, "zonefile-sync: -1", "zonefile-sync: 0", 1))
	}
	if o.Catalog == "" && len(o.Zones) == 0 {
		return "", errors.New("knot secondary: neither a catalog nor zones to follow")
	}
	b.WriteString("zone:\n")
	if o.Catalog != "" {
		fmt.Fprintf(&b, "  - domain: %q\n%s    catalog-role: interpret\n    catalog-template: [%s]\n",
			dns.Fqdn(o.Catalog), follow, strings.Join(templates, ", "))
	}
	zoneTemplate := "member"
	if o.ZoneFiles {
		zoneTemplate = "files"
	}
	for _, z := range o.Zones {
		fmt.Fprintf(&b, "  - domain: %q\n    template: %s\n", dns.Fqdn(z), zoneTemplate)
	}
	return b.String(), nil
}

// notifyFrom is the range NOTIFY from a primary at host may come from:
// all of loopback for a loopback primary, host itself otherwise.
func notifyFrom(host string) string {
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		if ip.To4() != nil {
			return "127.0.0.0/8"
		}
		return "::1"
	}
	return host
}

// start runs knotd once on k.addr and waits until this very process
// answers there: its identity, random per start, is asked for.
func (k *KnotSecondary) start(t testing.TB, bin string, o KnotSecondaryOptions) error {
	t.Helper()
	id := make([]byte, 8)
	rand.Read(id)
	identity := "secondary-" + hex.EncodeToString(id)
	conf, err := k.config(o, identity, filepath.Join(SocketDir(t, k.dir), "knot.sock"))
	if err != nil {
		return err
	}
	if err := os.WriteFile(k.conf, []byte(conf), 0o644); err != nil {
		return err
	}
	out, err := os.Create(k.logPath) // a failed try's log would say "in use" again
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, "-c", k.conf)
	cmd.Dir = k.dir
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = ChildAttr()
	if err := cmd.Start(); err != nil {
		out.Close()
		return fmt.Errorf("start knotd: %w", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	exited := func() bool {
		select {
		case <-done:
			return true
		default:
			return false
		}
	}
	stop := func() {
		if !exited() {
			cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				<-done
			}
		}
		out.Close()
	}
	inUse := func() bool { return strings.Contains(k.Log(), "in use") }
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	up := Wait(ctx, func() bool { return exited() || inUse() || chaosIdentity(k.addr) == identity })
	switch {
	case inUse():
		stop()
		return fmt.Errorf("knotd on %s: %w", k.addr, ErrBind)
	case exited():
		stop()
		return fmt.Errorf("knotd exited at start:\n%s", tail(k.Log(), 40))
	case !up:
		stop()
		return fmt.Errorf("knotd did not answer on %s within 30 s:\n%s", k.addr, tail(k.Log(), 40))
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("knotd secondary on %s, config %s:\n%s", k.addr, k.conf, tail(k.Log(), 60))
		}
	})
	return nil
}

// chaosIdentity is a server's answer to id.server CH TXT, or "".
func chaosIdentity(addr string) string {
	m := new(dns.Msg)
	m.SetQuestion("id.server.", dns.TypeTXT)
	m.Question[0].Qclass = dns.ClassCHAOS
	r, _, err := (&dns.Client{Timeout: time.Second}).Exchange(m, addr)
	if err != nil || len(r.Answer) == 0 {
		return ""
	}
	if txt, ok := r.Answer[0].(*dns.TXT); ok {
		return strings.Join(txt.Txt, "")
	}
	return ""
}
