package server

import (
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	statedir "github.com/mxdns/mxdns/state"
)

const (
	acmeKey    = "acme."
	acmeSecret = "YWNtZS1hY21lLWFjbWUtYWNtZS1hY21lLWFjbWUtMTI="
)

// updatesConfig serves example.com with updates of TXT at its
// challenge names by the key acme; xfr-key exists but may not update.
func updatesConfig(extra string) string {
	return "tsig_keys:\n" +
		"  acme: {algorithm: hmac-sha256, secret: \"" + acmeSecret + "\"}\n" +
		"  xfr-key: {algorithm: hmac-sha256, secret: \"" + testSecret + "\"}\n" +
		"updates:\n" +
		"  allow:\n" +
		"    - {key: acme, names: [_acme-challenge.example.com., _acme-challenge.*.example.com.], types: [TXT]}\n" +
		extra + testConfig
}

// updateServer serves updatesConfig with a state directory in dir; its
// log is kept for logOf.
func updateServer(t *testing.T, dir, extra string) (*Server, <-chan ReloadResult) {
	t.Helper()
	return updateServerOf(t, dir, updatesConfig(extra))
}

func updateServerOf(t *testing.T, dir, config string) (*Server, <-chan ReloadResult) {
	t.Helper()
	keeper, err := statedir.Open(filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { keeper.Close() })
	path := filepath.Join(dir, "config.yaml")
	writeFile(t, path, config)
	reloads := make(chan ReloadResult, 16)
	buf := new(syncBuffer)
	s, err := New(Options{Keeper: keeper, ConfigPath: path, OnReload: func(r ReloadResult) { reloads <- r },
		Logger: slog.New(slog.NewTextHandler(io.MultiWriter(tWriter{t}, buf), nil))})
	if err != nil {
		t.Fatal(err)
	}
	logs.Store(s, buf)
	stopAtCleanup(t, s)
	return s, reloads
}

// logs holds the log of each server updateServer started.
var logs sync.Map

func logOf(s *Server) string {
	if b, ok := logs.Load(s); ok {
		return b.(*syncBuffer).String()
	}
	return ""
}

// sendUpdate sends m over network, signed with key and secret unless key
// is "", and returns the reply.
func sendUpdate(t *testing.T, s *Server, network string, m *dns.Msg, key, secret string) *dns.Msg {
	t.Helper()
	c := &dns.Client{Net: network, Timeout: 10 * time.Second}
	if key != "" {
		c.TsigSecret = map[string]string{key: secret}
		m.SetTsig(key, dns.HmacSHA256, 300, time.Now().Unix())
	}
	addr := s.Addrs()[0].UDP.String()
	if network == "tcp" {
		addr = s.Addrs()[0].TCP.String()
	}
	r, _, err := c.Exchange(m, addr)
	if err != nil && r == nil {
		t.Fatalf("update over %s: %v", network, err)
	}
	return r
}

func txtUpdate(zone string, insert bool, records ...string) *dns.Msg {
	m := new(dns.Msg)
	m.SetUpdate(zone)
	var rrs []dns.RR
	for _, s := range records {
		rr, err := dns.NewRR(s)
		if err != nil {
			panic(err)
		}
		rrs = append(rrs, rr)
	}
	if insert {
		m.Insert(rrs)
	} else {
		m.Remove(rrs)
	}
	return m
}

func serialNow(t *testing.T, s *Server) uint32 {
	t.Helper()
	n, ok := s.Snapshot().Serial("example.com.")
	if !ok {
		t.Fatal("example.com not served")
	}
	return n
}

const challenge = `_acme-challenge.mx1.example.com. 60 IN TXT "token-1"`

func TestUpdateAddsAndDeletesOverUDPAndTCP(t *testing.T) {
	s, reloads := updateServer(t, t.TempDir(), "")
	for _, network := range []string{"udp", "tcp"} {
		before := serialNow(t, s)
		r := sendUpdate(t, s, network, txtUpdate("example.com.", true, challenge), acmeKey, acmeSecret)
		wantRcode(t, r, dns.RcodeSuccess)
		if r.IsTsig() == nil || r.Opcode != dns.OpcodeUpdate {
			t.Errorf("%s: the reply is not a signed UPDATE reply:\n%v", network, r)
		}
		// Served by the time the reply came: no waiting.
		got := exchange(t, s, network, "_acme-challenge.mx1.example.com.", dns.TypeTXT)
		if len(got.Answer) != 1 || got.Answer[0].Header().Ttl != 60 || !strings.Contains(got.Answer[0].String(), "token-1") {
			t.Fatalf("%s: after the add:\n%v", network, got)
		}
		added := serialNow(t, s)
		if !serialAfter(added, before) {
			t.Errorf("%s: serial %d after the add, want past %d", network, added, before)
		}
		wantRcode(t, sendUpdate(t, s, network, txtUpdate("example.com.", false, challenge), acmeKey, acmeSecret), dns.RcodeSuccess)
		got = exchange(t, s, network, "_acme-challenge.mx1.example.com.", dns.TypeTXT)
		if len(got.Answer) != 0 || got.Rcode != dns.RcodeNameError {
			t.Fatalf("%s: after the delete:\n%v", network, got)
		}
		if after := serialNow(t, s); !serialAfter(after, added) {
			t.Errorf("%s: serial %d after the delete, want past %d", network, after, added)
		}
	}
	// No reload served any of it.
	select {
	case r := <-reloads:
		t.Errorf("an update reloaded: %+v", r)
	default:
	}
}

func TestUpdateRefusals(t *testing.T) {
	s, _ := updateServer(t, t.TempDir(), "")
	other := `www.example.com. 60 IN TXT "x"`
	for _, c := range []struct {
		name          string
		m             *dns.Msg
		key, secret   string
		rcode         int
		tsigErr       uint16
		logged        string
		alsoMustNotBe string
	}{
		{"unsigned", txtUpdate("example.com.", true, challenge), "", "", dns.RcodeRefused, 0, "update refused: not signed", ""},
		{"a key unknown", txtUpdate("example.com.", true, challenge), "nosuch.", acmeSecret, dns.RcodeNotAuth, dns.RcodeBadKey, "update refused: bad TSIG", ""},
		{"the wrong secret", txtUpdate("example.com.", true, challenge), acmeKey, testSecret, dns.RcodeNotAuth, dns.RcodeBadSig, "update refused: bad TSIG", ""},
		{"a key for transfers", txtUpdate("example.com.", true, challenge), testKey, testSecret, dns.RcodeRefused, 0, "no rule of updates", ""},
		{"a name not allowed", txtUpdate("example.com.", true, other), acmeKey, acmeSecret, dns.RcodeRefused, 0, "not one the key may update", ""},
		{"one name allowed, one not", txtUpdate("example.com.", true, challenge, other), acmeKey, acmeSecret, dns.RcodeRefused, 0, "not one the key may update", ""},
		{"a type not allowed", txtUpdate("example.com.", true, `_acme-challenge.mx1.example.com. 60 IN A 192.0.2.1`), acmeKey, acmeSecret, dns.RcodeRefused, 0, "may not update records of that type", ""},
		{"a zone not served", txtUpdate("example.org.", true, `_acme-challenge.example.org. 60 IN TXT "x"`), acmeKey, acmeSecret, dns.RcodeNotAuth, 0, "no such zone", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := sendUpdate(t, s, "udp", c.m, c.key, c.secret)
			wantRcode(t, r, c.rcode)
			if c.tsigErr != 0 {
				if ts := r.IsTsig(); ts == nil || ts.Error != c.tsigErr {
					t.Errorf("TSIG error: want %s, got %v", dns.RcodeToString[int(c.tsigErr)], ts)
				}
			}
			got := exchange(t, s, "udp", "_acme-challenge.mx1.example.com.", dns.TypeTXT)
			if len(got.Answer) != 0 {
				t.Errorf("refused, yet served:\n%v", got)
			}
			waitLogged(t, s, c.logged)
		})
	}
}

// waitLogged waits until the server's log has a line holding text.
func waitLogged(t *testing.T, s *Server, text string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(logOf(s), text) {
			return
		}
		time.Sleep(10 * time.Millisecond) // polled with a deadline
	}
	t.Errorf("the log never said %q:\n%s", text, logOf(s))
}

func TestUpdateNotImplementedWithoutUpdates(t *testing.T) {
	s, _, _ := startServer(t, xfrConfig(`["key:xfr-key"]`))
	r := sendUpdate(t, s, "udp", txtUpdate("example.com.", true, challenge), testKey, testSecret)
	wantRcode(t, r, dns.RcodeNotImplemented)
}

func TestUpdateSurvivesRestartAndNotifies(t *testing.T) {
	old := notifyBackoff
	notifyBackoff = 10 * time.Millisecond
	t.Cleanup(func() { notifyBackoff = old })
	target, got := notifyListener(t, testSecret)
	dir := t.TempDir()
	extra := "transfer:\n  allow: [\"key:xfr-key\"]\n  notify: [\"" + target + "\"]\n"
	s, _ := updateServer(t, dir, extra)
	waitNotify(t, got) // the one at start

	wantRcode(t, sendUpdate(t, s, "tcp", txtUpdate("example.com.", true, challenge), acmeKey, acmeSecret), dns.RcodeSuccess)
	serial := serialNow(t, s)
	m := waitNotify(t, got)
	if m.Question[0].Name != "example.com." {
		t.Errorf("NOTIFY for %s", m.Question[0].Name)
	}
	// The secondary's transfer carries the record.
	rrs, _, err := axfr(t, s, dns.TypeAXFR, testSecret)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, rr := range rrs {
		found = found || strings.Contains(rr.String(), "token-1")
	}
	if !found {
		t.Errorf("the AXFR lacks the updated record: %v", rrs)
	}

	stop(t, s)
	s2, _ := updateServer(t, dir, extra)
	r := exchange(t, s2, "udp", "_acme-challenge.mx1.example.com.", dns.TypeTXT)
	if len(r.Answer) != 1 {
		t.Fatalf("after a restart:\n%v", r)
	}
	if got := serialNow(t, s2); got != serial {
		t.Errorf("serial %d after a restart, want %d as before", got, serial)
	}
	st := s2.Status()
	var updated int
	for _, z := range st.Zones {
		if z.Origin == "example.com." {
			updated = len(z.Updated)
			if updated == 1 && (z.Updated[0].AgeSeconds < 0 || !strings.Contains(z.Updated[0].Record, "token-1")) {
				t.Errorf("status: %+v", z.Updated[0])
			}
		}
	}
	if updated != 1 {
		t.Errorf("status lists %d updated records of example.com, want 1", updated)
	}
}

func TestUpdatedRecordsExpire(t *testing.T) {
	s, _ := updateServer(t, t.TempDir(), "")
	// A reload shortens updates.expire: the timer follows it.
	wantRcode(t, sendUpdate(t, s, "udp", txtUpdate("example.com.", true, challenge), acmeKey, acmeSecret), dns.RcodeSuccess)
	writeFile(t, s.path, strings.Replace(updatesConfig(""), "updates:\n", "updates:\n  expire: 200ms\n", 1))
	if res := s.Reload(); res.Err != nil {
		t.Fatal(res.Err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		r := exchange(t, s, "udp", "_acme-challenge.mx1.example.com.", dns.TypeTXT)
		if len(r.Answer) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still served 20 s after it expired:\n%v", r)
		}
		time.Sleep(20 * time.Millisecond) // polled with a deadline
	}
	waitLogged(t, s, "updated records expired")
}

// An update of one zone among many is served without building any: the
// time it takes is logged, never asserted (a busy machine decides it).
func TestUpdateAmongManyZones(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 10,000 zones")
	}
	var b strings.Builder
	b.WriteString(updatesConfig(""))
	for i := range 10_000 {
		fmt.Fprintf(&b, "  z%d.example:\n    ns: [ns1.example.com.]\n    records: {www: {a: 192.0.2.1}}\n", i)
	}
	s, reloads := updateServerOf(t, t.TempDir(), b.String())
	before := s.Snapshot()
	start := time.Now()
	wantRcode(t, sendUpdate(t, s, "udp", txtUpdate("example.com.", true, challenge), acmeKey, acmeSecret), dns.RcodeSuccess)
	took := time.Since(start)
	t.Logf("an update among %d zones answered, and served, in %v", before.ZoneCount(), took)
	if r := exchange(t, s, "udp", "_acme-challenge.mx1.example.com.", dns.TypeTXT); len(r.Answer) != 1 {
		t.Fatalf("not served:\n%v", r)
	}
	if len(reloads) != 0 {
		t.Error("the update reloaded")
	}
	// Every other zone is the one served before, its serial untouched.
	after := s.Snapshot()
	if changed := after.Changed(before); len(changed) != 1 || changed[0].Origin != "example.com." {
		t.Errorf("zones changed by the update: %v", changed)
	}
}

// A record an update adds to a signed zone is signed like any other, and
// the zone's denial of existence, NSEC or NSEC3, accounts for its name.
func TestUpdateOfASignedZone(t *testing.T) {
	for _, denial := range []string{"nsec", "nsec3"} {
		t.Run(denial, func(t *testing.T) {
			s, _ := updateServer(t, t.TempDir(), "dnssec: {denial: "+denial+"}\n")
			v := &validator{t: t, s: s}
			var keys []*dns.DNSKEY
			for _, rr := range v.ask("example.com.", dns.TypeDNSKEY).Answer {
				if k, ok := rr.(*dns.DNSKEY); ok {
					keys = append(keys, k)
				}
			}
			// Asked before the update: the denial's chain is made, as in
			// a zone being served.
			if r := v.ask("_acme-challenge.mx1.example.com.", dns.TypeTXT); r.Rcode != dns.RcodeNameError {
				t.Fatalf("before the update:\n%v", r)
			}
			wantRcode(t, sendUpdate(t, s, "udp", txtUpdate("example.com.", true, challenge), acmeKey, acmeSecret), dns.RcodeSuccess)
			r := v.ask("_acme-challenge.mx1.example.com.", dns.TypeTXT)
			if len(r.Answer) != 2 || !signedBy(r.Answer, keys) {
				t.Fatalf("the updated record, signed:\n%v", r)
			}
			// NODATA at the new name: proved by the record of its own
			// name (NSEC) or hash (NSEC3), listing TXT.
			r = v.ask("_acme-challenge.mx1.example.com.", dns.TypeA)
			if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 0 || !signedBy(r.Ns, keys) {
				t.Fatalf("NODATA at the new name:\n%v", r)
			}
			proved := false
			for _, rr := range r.Ns {
				switch rr := rr.(type) {
				case *dns.NSEC:
					proved = proved || rr.Hdr.Name == "_acme-challenge.mx1.example.com." && slices.Contains(rr.TypeBitMap, dns.TypeTXT)
				case *dns.NSEC3:
					proved = proved || rr.Match("_acme-challenge.mx1.example.com.") && slices.Contains(rr.TypeBitMap, dns.TypeTXT)
				}
			}
			if !proved {
				t.Errorf("no denial record of the new name listing TXT:\n%v", r)
			}
		})
	}
}

// An UPDATE is counted as an update, not as a query for the SOA its zone
// section names.
func TestUpdateIsNotCountedAsAQuery(t *testing.T) {
	s, _ := updateServer(t, t.TempDir(), "")
	wantRcode(t, sendUpdate(t, s, "udp", txtUpdate("example.com.", true, challenge), acmeKey, acmeSecret), dns.RcodeSuccess)
	wantRcode(t, sendUpdate(t, s, "tcp", txtUpdate("example.com.", false, challenge), acmeKey, acmeSecret), dns.RcodeSuccess)
	body := scrape(t, s)
	if strings.Contains(body, `qtype="SOA"`) {
		t.Errorf("updates counted as SOA queries:\n%s", grepLines(body, "mxdns_queries_total"))
	}
	if !strings.Contains(body, "mxdns_updates_total") {
		t.Errorf("updates not counted:\n%s", grepLines(body, "mxdns_updates"))
	}
}

func grepLines(text, substr string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// An update is journaled like a reload's change: a secondary at the
// serial before it takes it by an incremental IXFR, not the whole zone.
func TestUpdateReachesSecondariesByIXFR(t *testing.T) {
	s, _ := updateServer(t, t.TempDir(), "transfer:\n  allow: [\"key:xfr-key\"]\n")
	s.reloadMu.Lock() // the start's journaling is done once it is given back
	s.reloadMu.Unlock()
	before := serialNow(t, s)
	wantRcode(t, sendUpdate(t, s, "udp", txtUpdate("example.com.", true, challenge), acmeKey, acmeSecret), dns.RcodeSuccess)
	got, _ := ixfrFrom(t, s, before)
	if full(got) {
		t.Fatalf("IXFR from %d after an update: the whole zone\n%v", before, got)
	}
	found := false
	for _, rr := range got {
		found = found || rr.Header().Rrtype == dns.TypeTXT && strings.Contains(rr.String(), "token-1")
	}
	if !found {
		t.Errorf("IXFR from %d lacks the added TXT:\n%v", before, got)
	}
}
