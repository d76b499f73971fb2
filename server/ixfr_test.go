package server

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	statedir "github.com/mxdns/mxdns/state"
)

// ixfrFrom asks for an IXFR of example.com from serial over TCP, signed
// with testKey, and returns the records of every message and how many
// messages there were. dns.Transfer verifies each message's TSIG.
func ixfrFrom(t *testing.T, s *Server, serial uint32) ([]dns.RR, int) {
	t.Helper()
	m := new(dns.Msg)
	m.SetIxfr("example.com.", serial, "ns1.example.com.", "hostmaster.example.com.")
	m.SetTsig(testKey, dns.HmacSHA256, 300, time.Now().Unix())
	tr := &dns.Transfer{DialTimeout: 10 * time.Second, ReadTimeout: 10 * time.Second, TsigSecret: map[string]string{testKey: testSecret}}
	ch, err := tr.In(m, s.Addrs()[0].TCP.String())
	if err != nil {
		t.Fatal(err)
	}
	var rrs []dns.RR
	n := 0
	for env := range ch {
		if env.Error != nil {
			t.Fatalf("IXFR from %d: %v", serial, env.Error)
		}
		n++
		rrs = append(rrs, env.RR...)
	}
	return rrs, n
}

func zoneSerial(t *testing.T, s *Server) uint32 {
	t.Helper()
	serial, ok := s.Snapshot().Serial("example.com.")
	if !ok {
		t.Fatal("example.com not served")
	}
	return serial
}

// edit rewrites the configuration at path with old replaced by new and
// reloads it.
func edit(t *testing.T, s *Server, path, config, old, new string) string {
	t.Helper()
	if !strings.Contains(config, old) {
		t.Fatalf("%q not in the configuration", old)
	}
	config = strings.Replace(config, old, new, 1)
	writeFile(t, path, config)
	if r := s.Reload(); r.Err != nil {
		t.Fatal(r.Err)
	}
	return config
}

func norm(t *testing.T, lines ...string) []string {
	t.Helper()
	rrs := make([]dns.RR, len(lines))
	for i, l := range lines {
		rrs[i] = mustRR(t, l)
	}
	return texts(rrs)
}

func soaLine(serial uint32) string {
	return fmt.Sprintf("example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. %d 3600 900 1209600 300", serial)
}

// full reports whether rrs is a whole zone: the SOA first and last and
// nowhere else.
func full(rrs []dns.RR) bool {
	if len(rrs) < 3 || rrs[0].String() != rrs[len(rrs)-1].String() {
		return false
	}
	for _, rr := range rrs[1 : len(rrs)-1] {
		if rr.Header().Rrtype == dns.TypeSOA {
			return false
		}
	}
	return true
}

// TestIXFRIncremental: an IXFR from a journaled serial gets RFC 1995 §4's
// one difference sequence, SOA(new), SOA(old), deletions, SOA(new),
// additions, SOA(new), condensed over the versions between; any other
// serial gets the whole zone; the two are counted apart.
func TestIXFRIncremental(t *testing.T) {
	config := xfrConfig(`["key:xfr-key"]`)
	s, path, _ := startServer(t, config)
	first := zoneSerial(t, s)
	config = edit(t, s, path, config, "mx1: {a: 203.0.113.25}", "mx1: {a: 203.0.113.26}")
	second := zoneSerial(t, s)
	config = edit(t, s, path, config, "mx2: {a: 198.51.100.25}", "mx2: {a: 198.51.100.26}")
	config = edit(t, s, path, config, "mx1: {a: 203.0.113.26}", "mx1: {a: 203.0.113.27}")
	third := zoneSerial(t, s)
	if !serialAfter(second, first) || !serialAfter(third, second) {
		t.Fatalf("serials %d, %d, %d", first, second, third)
	}

	got, _ := ixfrFrom(t, s, first)
	want := norm(t, soaLine(third), soaLine(first),
		"mx1.example.com. 3600 IN A 203.0.113.25", "mx2.example.com. 3600 IN A 198.51.100.25",
		soaLine(third),
		"mx1.example.com. 3600 IN A 203.0.113.27", "mx2.example.com. 3600 IN A 198.51.100.26",
		soaLine(third))
	if g := texts(got); !slices.Equal(g, want) {
		t.Errorf("IXFR from %d:\n  %s\nwant\n  %s", first, strings.Join(g, "\n  "), strings.Join(want, "\n  "))
	}
	got, _ = ixfrFrom(t, s, second)
	if len(got) != 8 || got[1].(*dns.SOA).Serial != second {
		t.Errorf("IXFR from %d: %d records:\n%v", second, len(got), got)
	}
	// Serials from before the journal.
	for _, theirs := range []uint32{first - 1, first - 100000} {
		if got, _ := ixfrFrom(t, s, theirs); !full(got) || got[0].(*dns.SOA).Serial != third {
			t.Errorf("IXFR from %d: want the whole zone, got %v", theirs, got)
		}
	}
	body := scrape(t, s)
	for _, want := range []string{`mxdns_transfers_total{result="incremental",type="IXFR"} 2`, `mxdns_transfers_total{result="ok",type="IXFR"} 2`} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// texts is an incremental reply's records as text, those of its
// deletions and of its additions each sorted: their order is free. The
// SOAs stay where they are, so that the sequence is checked whole.
func texts(rrs []dns.RR) []string {
	out := make([]string, len(rrs))
	start := 0
	for i, rr := range rrs {
		out[i] = rr.String()
		if rr.Header().Rrtype == dns.TypeSOA {
			slices.Sort(out[start:i])
			start = i + 1
		}
	}
	slices.Sort(out[start:])
	return out
}

func serialAfter(a, b uint32) bool { return a != b && int32(a-b) > 0 }

// TestIXFRManyMessagesSigned: changes too big for one message stream in
// several, each signed (RFC 8945 §5.3.1), and the client verifies every
// one.
func TestIXFRManyMessagesSigned(t *testing.T) {
	config := xfrConfig(`["key:xfr-key"]`)
	s, path, _ := startServer(t, config)
	first := zoneSerial(t, s)
	var b strings.Builder
	for i := range 1500 {
		fmt.Fprintf(&b, "      h%d: {txt: \"%s\"}\n", i, strings.Repeat("t", 40))
	}
	edit(t, s, path, config, "      ns1: {a: 203.0.113.53}\n", "      ns1: {a: 203.0.113.53}\n"+b.String())
	got, n := ixfrFrom(t, s, first)
	if n < 3 || len(got) != 1500+4 || full(got) {
		t.Fatalf("IXFR of 1500 additions: %d records in %d messages, whole zone %v", len(got), n, full(got))
	}
	// Every message carries its TSIG: dns.Transfer verifies those there.
	m := new(dns.Msg)
	m.SetIxfr("example.com.", first, "ns1.example.com.", "hostmaster.example.com.")
	m.SetTsig(testKey, dns.HmacSHA256, 300, time.Now().Unix())
	co, err := dns.Dial("tcp", s.Addrs()[0].TCP.String())
	if err != nil {
		t.Fatal(err)
	}
	defer co.Close()
	co.TsigSecret = map[string]string{testKey: testSecret}
	if err := co.WriteMsg(m); err != nil {
		t.Fatal(err)
	}
	co.SetReadDeadline(time.Now().Add(10 * time.Second))
	soas := 0
	buf := make([]byte, dns.MaxMsgSize)
	for i := 0; soas < 3; i++ {
		// Read, not ReadMsg, which would verify each message as the
		// first: the others are signed with timers only.
		n, err := co.Read(buf)
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		r := new(dns.Msg)
		if err := r.Unpack(buf[:n]); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if r.IsTsig() == nil {
			t.Errorf("message %d unsigned", i)
		}
		for _, rr := range r.Answer {
			if soa, ok := rr.(*dns.SOA); ok && soa.Serial != first {
				soas++
			}
		}
	}
}

// TestIXFRAcrossRestart: the journal in the state directory answers the
// serials of before a restart, and a zone edited while the server was
// stopped is journaled from its last version at start.
func TestIXFRAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	open := func() *statedir.Dir {
		k, err := statedir.Open(filepath.Join(dir, "state"))
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	config := xfrConfig(`["key:xfr-key"]`)
	s, path, _ := startServerWith(t, dir, config, Options{Keeper: open()})
	first := zoneSerial(t, s)
	config = edit(t, s, path, config, "mx1: {a: 203.0.113.25}", "mx1: {a: 203.0.113.26}")
	second := zoneSerial(t, s)
	stop(t, s)

	s, _, _ = startServerWith(t, dir, config, Options{Keeper: open()})
	if got := zoneSerial(t, s); got != second {
		t.Fatalf("serial %d after a restart, want %d", got, second)
	}
	got, _ := ixfrFrom(t, s, first)
	want := norm(t, soaLine(second), soaLine(first), "mx1.example.com. 3600 IN A 203.0.113.25",
		soaLine(second), "mx1.example.com. 3600 IN A 203.0.113.26", soaLine(second))
	if g := texts(got); !slices.Equal(g, want) {
		t.Errorf("IXFR from %d after a restart:\n  %s\nwant\n  %s", first, strings.Join(g, "\n  "), strings.Join(want, "\n  "))
	}
	stop(t, s)

	config = strings.Replace(config, "mx2: {a: 198.51.100.25}", "mx2: {a: 198.51.100.26}", 1)
	s, _, _ = startServerWith(t, dir, config, Options{Keeper: open()})
	third := zoneSerial(t, s)
	got, _ = ixfrFrom(t, s, second)
	want = norm(t, soaLine(third), soaLine(second), "mx2.example.com. 3600 IN A 198.51.100.25",
		soaLine(third), "mx2.example.com. 3600 IN A 198.51.100.26", soaLine(third))
	if g := texts(got); !slices.Equal(g, want) {
		t.Errorf("IXFR from %d after an edit while stopped:\n  %s\nwant\n  %s", second, strings.Join(g, "\n  "), strings.Join(want, "\n  "))
	}
	if got, _ := ixfrFrom(t, s, first); full(got) || len(got) != 8 {
		t.Errorf("IXFR from %d: %v", first, got)
	}
}

// applyIXFR is the zone a client holding base (an AXFR's records) holds
// after reply, an incremental reply of one difference sequence: its
// records as sorted text, the SOA among them.
func applyIXFR(t *testing.T, base, reply []dns.RR) []string {
	t.Helper()
	if full(reply) || len(reply) < 4 {
		t.Fatalf("not an incremental reply: %v", reply)
	}
	have := map[string]bool{}
	for _, rr := range base[:len(base)-1] {
		have[rr.String()] = true
	}
	if !have[reply[1].String()] {
		t.Fatalf("the reply deletes from %v, not the version held", reply[1])
	}
	delete(have, reply[1].String())
	adding := false
	for _, rr := range reply[2 : len(reply)-1] {
		switch {
		case rr.Header().Rrtype == dns.TypeSOA:
			adding = true
			have[rr.String()] = true
		case adding:
			if have[rr.String()] {
				t.Errorf("adds what the client has: %v", rr)
			}
			have[rr.String()] = true
		default:
			if !have[rr.String()] {
				t.Errorf("deletes what the client lacks: %v", rr)
			}
			delete(have, rr.String())
		}
	}
	out := make([]string, 0, len(have))
	for k := range have {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func zoneSet(rrs []dns.RR) []string {
	out := make([]string, 0, len(rrs))
	for _, rr := range rrs[:len(rrs)-1] {
		out = append(out, rr.String())
	}
	slices.Sort(out)
	return out
}

// signedAXFR is a signed AXFR of example.com, failing the test on error.
func wholeZone(t *testing.T, s *Server) []dns.RR {
	t.Helper()
	rrs, _, err := axfr(t, s, dns.TypeAXFR, testSecret)
	if err != nil {
		t.Fatal(err)
	}
	return rrs
}

// TestSignedZoneIXFR: a signed zone's IXFR carries the signature changes,
// and a client applying it holds what AXFR sends, signatures included,
// within a run and across a restart; AXFR sends the version journaled,
// so the signatures the changes delete are those the client holds; and
// signatures of sets that did not change are kept, so the changes stay
// small even after a restart emptied the signature cache.
func TestSignedZoneIXFR(t *testing.T) {
	dir := t.TempDir()
	open := func() *statedir.Dir {
		k, err := statedir.Open(filepath.Join(dir, "state"))
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	config := "tsig_keys:\n  xfr-key: {algorithm: hmac-sha256, secret: \"" + testSecret + "\"}\n" +
		"transfer:\n  allow: [\"key:xfr-key\"]\n" + rolloverConfig
	s, path, _ := startServerWith(t, dir, config, Options{Keeper: open()})
	// The version journaled first may be held by secondaries with other
	// signatures, made before there was a journal: changes from it are
	// not given. The next one starts the chain.
	first := wholeZone(t, s)
	config = edit(t, s, path, config, "ns1: {a: 192.0.2.53}", "ns1: {a: 192.0.2.54}")
	if reply, _ := ixfrFrom(t, s, first[0].(*dns.SOA).Serial); !full(reply) {
		t.Errorf("changes given from the serial first journaled: %v", reply)
	}
	a := wholeZone(t, s)
	signer := s.state.Load().Signers()["example.com."]
	signer.ResetExpiry()
	if again := wholeZone(t, s); !slices.Equal(zoneSet(again), zoneSet(a)) {
		t.Fatal("two AXFRs at one serial differ")
	}
	// Its signatures went out again: /status shows when the first expires.
	if signer.SoonestExpiry().IsZero() {
		t.Error("an AXFR of the journaled version is not counted in the soonest signature expiry")
	}
	config = edit(t, s, path, config, "mx1: {a: 192.0.2.1}", "mx1: {a: 192.0.2.2}")
	b := wholeZone(t, s)
	reply, _ := ixfrFrom(t, s, a[0].(*dns.SOA).Serial)
	if got := applyIXFR(t, a, reply); !slices.Equal(got, zoneSet(b)) {
		t.Fatalf("IXFR applied:\n  %s\nAXFR:\n  %s", strings.Join(got, "\n  "), strings.Join(zoneSet(b), "\n  "))
	}
	sigs := map[uint16]int{}
	for _, rr := range reply {
		if sig, ok := rr.(*dns.RRSIG); ok {
			sigs[sig.TypeCovered]++
		}
	}
	// The address and the SOA changed, each signature deleted and added
	// (one key signs: a CSK); nothing else.
	if sigs[dns.TypeA] != 2 || sigs[dns.TypeSOA] != 2 || len(reply) > 12 {
		t.Errorf("signatures changed by type %v in a reply of %d records:\n%v", sigs, len(reply), reply)
	}
	stop(t, s)

	s, path, _ = startServerWith(t, dir, config, Options{Keeper: open()})
	if c := wholeZone(t, s); !slices.Equal(zoneSet(c), zoneSet(b)) {
		t.Fatal("after a restart, AXFR at the same serial sends other signatures than the journal's")
	}
	edit(t, s, path, config, "mx1: {a: 192.0.2.2}", "mx1: {a: 192.0.2.3}")
	c := wholeZone(t, s)
	reply, _ = ixfrFrom(t, s, b[0].(*dns.SOA).Serial)
	if got := applyIXFR(t, b, reply); !slices.Equal(got, zoneSet(c)) {
		t.Fatalf("IXFR after a restart applied:\n  %s\nAXFR:\n  %s", strings.Join(got, "\n  "), strings.Join(zoneSet(c), "\n  "))
	}
	if len(reply) > 12 {
		t.Errorf("after a restart, an edit of one address gives %d records: signatures of sets that did not change were made again:\n%v", len(reply), reply)
	}
	reply, _ = ixfrFrom(t, s, a[0].(*dns.SOA).Serial)
	if got := applyIXFR(t, a, reply); !slices.Equal(got, zoneSet(c)) {
		t.Fatal("IXFR from before the restart does not give what AXFR sends")
	}
}
