package server

import (
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	statedir "github.com/mxdns/mxdns/state"
)

// The state directory keeps the catalog's labels.
var _ CatalogKeeper = (*statedir.Dir)(nil)

// catalogConfig publishes a catalog of testConfig's zone and extra, to
// secondaries with the test key, notified at target.
func catalogConfig(target, extra string) string {
	return "catalog: {zone: catalog.invalid}\n" +
		"tsig_keys:\n  xfr-key: {algorithm: hmac-sha256, secret: \"" + testSecret + "\"}\n" +
		"transfer:\n  allow: [\"key:xfr-key\"]\n  notify: [\"" + target + "\"]\n" + testConfig + extra
}

// transferCatalog is the catalog as a secondary with the key receives it,
// and the labels it gives each member.
func transferCatalog(t *testing.T, s *Server) (serial uint32, labels map[string]string) {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion("catalog.invalid.", dns.TypeAXFR)
	m.SetTsig(testKey, dns.HmacSHA256, 300, time.Now().Unix())
	tr := &dns.Transfer{DialTimeout: 10 * time.Second, ReadTimeout: 10 * time.Second, TsigSecret: map[string]string{testKey: testSecret}}
	ch, err := tr.In(m, s.Addrs()[0].TCP.String())
	if err != nil {
		t.Fatal(err)
	}
	labels = map[string]string{}
	var version bool
	for env := range ch {
		if env.Error != nil {
			t.Fatal(env.Error)
		}
		for _, rr := range env.RR {
			switch rr := rr.(type) {
			case *dns.SOA:
				serial = rr.Serial
			case *dns.PTR:
				label, _, _ := strings.Cut(rr.Hdr.Name, ".")
				labels[rr.Ptr] = label
			case *dns.TXT:
				version = version || rr.Hdr.Name == "version.catalog.invalid." && slices.Equal(rr.Txt, []string{"2"})
			}
		}
	}
	if !version {
		t.Error("the catalog has no version TXT \"2\"")
	}
	return serial, labels
}

// waitCatalogNotify waits for a NOTIFY of the catalog, signed.
func waitCatalogNotify(t *testing.T, got <-chan *dns.Msg) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case m := <-got:
			if m.Opcode == dns.OpcodeNotify && len(m.Question) == 1 && m.Question[0].Name == "catalog.invalid." && m.IsTsig() != nil {
				return
			}
		case <-deadline:
			t.Fatal("no signed NOTIFY of catalog.invalid within 20 s")
		}
	}
}

// The server serves its catalog to the secondaries (transfer with TSIG,
// NOTIFY, queries), keeps each member's label across a restart in the
// state directory, and moves the serial when a zone is added.
func TestCatalogServedAndKept(t *testing.T) {
	target, got := notifyListener(t, testSecret)
	dir := t.TempDir()
	keeper, err := statedir.Open(filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	s, path, reloads := startServerWith(t, dir, catalogConfig(target, ""), Options{Keeper: keeper})
	waitCatalogNotify(t, got)
	serial, labels := transferCatalog(t, s)
	if len(labels) != 1 || labels["example.com."] == "" {
		t.Fatalf("catalog labels %v: want example.com alone", labels)
	}
	r := exchange(t, s, "udp", "version.catalog.invalid.", dns.TypeTXT)
	if !r.Authoritative || len(r.Answer) != 1 {
		t.Errorf("version.catalog.invalid TXT over UDP:\n%v", r)
	}

	writeFile(t, path, catalogConfig(target, "  example.org: {ns: [ns1.example.com.]}\n"))
	if res := s.Reload(); res.Err != nil {
		t.Fatal(res.Err)
	}
	<-reloads
	waitCatalogNotify(t, got)
	added, after := transferCatalog(t, s)
	if added == serial || int32(added-serial) < 0 {
		t.Errorf("zone added: catalog serial %d after %d", added, serial)
	}
	serial = added
	if len(after) != 2 || after["example.com."] != labels["example.com."] {
		t.Fatalf("labels after example.org was added: %v, want example.com's %s kept", after, labels["example.com."])
	}
	stop(t, s)

	// A restart with the same state directory, opened anew.
	keeper, err = statedir.Open(filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	s, _, _ = startServerWith(t, dir, catalogConfig(target, "  example.org: {ns: [ns1.example.com.]}\n"), Options{Keeper: keeper})
	again, kept := transferCatalog(t, s)
	if again != serial || !maps.Equal(kept, after) {
		t.Errorf("after a restart: serial %d, labels %v; want %d, %v", again, kept, serial, after)
	}
}
