package server

// The serials of the transferred view with links set by hand: flapping,
// restarts, signed zones.

import (
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	statedir "github.com/mxdns/mxdns/state"
	"github.com/mxdns/mxdns/zone"
)

// setLinks publishes up as a health verdict would (linkChecked).
func setLinks(s *Server, up zone.LinkSet) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setUp(s.state.Load().Snap, up, time.Now())
}

// countingKeeper counts the writes of serials to a real state directory.
type countingKeeper struct {
	*statedir.Dir
	saves atomic.Int32
}

func (k *countingKeeper) SaveSerials(serials map[string]zone.SerialRecord) error {
	k.saves.Add(1)
	return k.Dir.SaveSerials(serials)
}

func openKeeper(t *testing.T, dir string) *countingKeeper {
	t.Helper()
	d, err := statedir.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return &countingKeeper{Dir: d}
}

// viewServer serves viewConfig with links set by hand, keeping state in
// stateDir; follows receives the zones each round of following moved.
func viewServer(t *testing.T, dir string, keeper Keeper) (*Server, <-chan []zone.ZoneInfo) {
	t.Helper()
	follows := make(chan []zone.ZoneInfo, 64)
	s, _, _ := startServerWith(t, dir, viewConfig("current", "127.0.0.1:9", ""),
		Options{Keeper: keeper, onTransferView: func(z []zone.ZoneInfo) { follows <- z }})
	return s, follows
}

// waitFollowed waits until the transfers are made for up.
func waitFollowed(t *testing.T, s *Server, follows <-chan []zone.ZoneInfo, up zone.LinkSet) {
	t.Helper()
	deadline := time.After(eventWait)
	for s.Snapshot().TransferUp() != up {
		select {
		case <-follows:
		case <-deadline:
			t.Fatalf("transfers made for links %b, want %b", s.Snapshot().TransferUp(), up)
		}
	}
}

// A flapping link makes one new serial, and one write of the state
// directory, per delay, however many times it changes meanwhile.
func TestTransferViewCoalescesFlapping(t *testing.T) {
	const delay = 300 * time.Millisecond
	shortViewDelay(t, delay)
	keeper := openKeeper(t, t.TempDir())
	s, follows := viewServer(t, t.TempDir(), keeper)
	first := soaSerial(t, s, "linked.test.")
	before := keeper.saves.Load()

	start := time.Now()
	for i := range 1000 {
		setLinks(s, []zone.LinkSet{wan2Up, bothUp}[i%2])
	}
	setLinks(s, wan2Up)
	elapsed := time.Since(start)
	waitFollowed(t, s, follows, wan2Up)

	// One round per delay begun while flapping, and the one after.
	rounds := int32(elapsed/delay) + 2
	if n := keeper.saves.Load() - before; n < 1 || n > rounds {
		t.Errorf("1001 link changes in %v wrote serials %d times, want 1 to %d", elapsed, n, rounds)
	}
	if got := soaSerial(t, s, "linked.test."); !zoneSerialAfter(got, first) {
		t.Errorf("serial %d, not after %d", got, first)
	}
	if _, mx, _ := mxOf(t, s); mx != mxWan2 {
		t.Errorf("after the flapping ended with wan1 down: MX %q", mx)
	}
}

// Serials never go back: not when links go back and forth, not across
// restarts, whatever the links at the restart; a restart at the links of
// the last serial keeps it.
func TestTransferViewSerialsAcrossRestarts(t *testing.T) {
	shortViewDelay(t, 10*time.Millisecond)
	state, dir := filepath.Join(t.TempDir(), "state"), t.TempDir()
	var serials []uint32
	step := func(s *Server, follows <-chan []zone.ZoneInfo, up zone.LinkSet, what string) {
		t.Helper()
		setLinks(s, up)
		waitFollowed(t, s, follows, up)
		got := soaSerial(t, s, "linked.test.")
		if last := serials[len(serials)-1]; !zoneSerialAfter(got, last) {
			t.Fatalf("%s: serial %d, not after %d", what, got, last)
		}
		serials = append(serials, got)
	}

	s, follows := viewServer(t, dir, openKeeper(t, state))
	serials = append(serials, soaSerial(t, s, "linked.test."))
	step(s, follows, wan2Up, "wan1 down")
	step(s, follows, bothUp, "wan1 up again")
	step(s, follows, wan2Up, "wan1 down again")
	stop(t, s)

	// At start every link counts as up: not the links of the last serial.
	s, follows = viewServer(t, dir, openKeeper(t, state))
	got := soaSerial(t, s, "linked.test.")
	if !zoneSerialAfter(got, serials[len(serials)-1]) {
		t.Fatalf("restart with wan1 back: serial %d, not after %d", got, serials[len(serials)-1])
	}
	serials = append(serials, got)
	step(s, follows, wan1Up, "wan2 down after the restart")
	step(s, follows, bothUp, "wan2 up")
	stop(t, s)

	s, _ = viewServer(t, dir, openKeeper(t, state))
	if got := soaSerial(t, s, "linked.test."); got != serials[len(serials)-1] {
		t.Errorf("restart at the links of the last serial: %d, want it kept, %d", got, serials[len(serials)-1])
	}
}

// A signed zone transfers the view signed: the MX left after wan1 went
// down, at link_ttl, and the SOA with its new serial, each with an RRSIG
// that verifies with the DNSKEY transferred.
func TestTransferViewSigned(t *testing.T) {
	shortViewDelay(t, 10*time.Millisecond)
	config := strings.Replace(viewConfig("current", "127.0.0.1:9", ""), "  linked.test:\n", "  linked.test:\n    dnssec: on\n", 1)
	dir := t.TempDir()
	follows := make(chan []zone.ZoneInfo, 64)
	s, _, _ := startServerWith(t, dir, config, Options{Keeper: openKeeper(t, filepath.Join(dir, "state")),
		onTransferView: func(z []zone.ZoneInfo) { follows <- z }})
	setLinks(s, wan2Up)
	waitFollowed(t, s, follows, wan2Up)

	m := new(dns.Msg)
	m.SetAxfr("linked.test.")
	ch, err := new(dns.Transfer).In(m, s.Addrs()[0].TCP.String())
	if err != nil {
		t.Fatal(err)
	}
	sets := map[uint16][]dns.RR{}
	sigs := map[uint16]*dns.RRSIG{}
	var keys []*dns.DNSKEY
	for env := range ch {
		if env.Error != nil {
			t.Fatal(env.Error)
		}
		for _, rr := range env.RR {
			if rr.Header().Name != "linked.test." {
				continue
			}
			switch rr := rr.(type) {
			case *dns.RRSIG:
				sigs[rr.TypeCovered] = rr
			case *dns.DNSKEY:
				keys = append(keys, rr)
				sets[dns.TypeDNSKEY] = append(sets[dns.TypeDNSKEY], rr)
			default:
				if rt := rr.Header().Rrtype; rt != dns.TypeSOA || len(sets[rt]) == 0 { // not the closing SOA
					sets[rt] = append(sets[rt], rr)
				}
			}
		}
	}
	if len(sets[dns.TypeMX]) != 1 || sets[dns.TypeMX][0].Header().Ttl != 30 || !strings.Contains(sets[dns.TypeMX][0].String(), "mx2.") {
		t.Fatalf("MX transferred: %v", sets[dns.TypeMX])
	}
	if serial := sets[dns.TypeSOA][0].(*dns.SOA).Serial; serial != soaSerial(t, s, "linked.test.") {
		t.Errorf("transferred serial %d, served %d", serial, soaSerial(t, s, "linked.test."))
	}
	for _, typ := range []uint16{dns.TypeMX, dns.TypeSOA} {
		sig := sigs[typ]
		if sig == nil {
			t.Fatalf("no RRSIG over %s", dns.TypeToString[typ])
		}
		ok := false
		for _, k := range keys {
			if k.KeyTag() == sig.KeyTag && sig.Verify(k, sets[typ]) == nil {
				ok = true
			}
		}
		if !ok {
			t.Errorf("the RRSIG over %s does not verify", dns.TypeToString[typ])
		}
	}
}
