package server

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/internal/dnstest"
	"github.com/mxdns/mxdns/zone"
)

// viewConfig: linked.test's MX and addresses depend on wan1 (checked by
// TCP, or by hand when check is "") and wan2; plain.test has no link.
func viewConfig(view, notify, check string) string {
	wan1 := "{}"
	if check != "" {
		wan1 = fmt.Sprintf("{check: {tcp: %q, interval: 100ms, timeout: 100ms, rise: 1, fall: 2}}", check)
	}
	return fmt.Sprintf(`listen: ["127.0.0.1:0"]
rrl: off
transfer_view: %s
transfer: {allow: ["127.0.0.1"], notify: [%q]}
link_ttl: 30
links:
  wan1: %s
  wan2: {}
zones:
  linked.test:
    ns: [ns1]
    records:
      "@": {mx: ["10;mx1", "20;mx2"]}
      mx1: {a: {wan1: 192.0.2.25}}
      mx2: {a: {wan2: 198.51.100.25}}
      www: {a: {wan1: 192.0.2.80, wan2: 198.51.100.80}}
      ns1: {a: 192.0.2.53}
  plain.test:
    ns: [ns1.linked.test.]
    records:
      "@": {mx: ["10;mail"]}
      mail: {a: 192.0.2.26}
`, view, notify, wan1)
}

const (
	wan1Up  = zone.LinkSet(1)
	bothUp  = zone.LinkSet(3)
	wan2Up  = zone.LinkSet(2)
	mxBoth  = "10 mx1.linked.test. 20 mx2.linked.test."
	mxWan2  = "20 mx2.linked.test."
	viewTTL = "30"
)

// notifyLog collects the NOTIFYs a stand-in secondary receives, by zone.
type notifyLog struct {
	mu   sync.Mutex
	got  map[string][]*dns.Msg
	more chan struct{}
}

func collectNotifies(t *testing.T) (string, *notifyLog) {
	target, got := notifyListener(t, "")
	n := &notifyLog{got: map[string][]*dns.Msg{}, more: make(chan struct{}, 1)}
	go func() {
		for m := range got {
			n.mu.Lock()
			n.got[m.Question[0].Name] = append(n.got[m.Question[0].Name], m)
			n.mu.Unlock()
			select {
			case n.more <- struct{}{}:
			default:
			}
		}
	}()
	return target, n
}

func (n *notifyLog) count(zone string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.got[zone])
}

// waitMore waits until zone has had more than n NOTIFYs. (A NOTIFY
// names its zone, not the serial: the secondary asks for that.)
func (n *notifyLog) waitMore(t *testing.T, zone string, than int) {
	t.Helper()
	deadline := time.After(eventWait)
	for n.count(zone) <= than {
		select {
		case <-n.more:
		case <-deadline:
			t.Fatalf("no NOTIFY of %s within %v (%d so far)", zone, eventWait, n.count(zone))
		}
	}
}

// axfrSet transfers origin from s: the serial, and the records of name and
// qtype as "TTL RDATA", sorted.
func axfrSet(t *testing.T, s *Server, origin string, qtype uint16, name string) (uint32, []string) {
	t.Helper()
	m := new(dns.Msg)
	m.SetAxfr(origin)
	ch, err := new(dns.Transfer).In(m, s.Addrs()[0].TCP.String())
	if err != nil {
		t.Fatalf("AXFR %s: %v", origin, err)
	}
	var serial uint32
	var out []string
	for env := range ch {
		if env.Error != nil {
			t.Fatalf("AXFR %s: %v", origin, env.Error)
		}
		for _, rr := range env.RR {
			if soa, ok := rr.(*dns.SOA); ok {
				serial = soa.Serial
			}
			if rr.Header().Rrtype == qtype && rr.Header().Name == name {
				f := strings.Fields(rr.String())
				out = append(out, f[1]+" "+strings.Join(f[4:], " "))
			}
		}
	}
	slices.Sort(out)
	return serial, out
}

// mxOf is the MX data of a transfer of linked.test, TTLs apart, and
// whether every MX carries link_ttl.
func mxOf(t *testing.T, s *Server) (uint32, string, bool) {
	serial, mx := axfrSet(t, s, "linked.test.", dns.TypeMX, "linked.test.")
	var data []string
	capped := true
	for _, rr := range mx {
		ttl, rdata, _ := strings.Cut(rr, " ")
		data = append(data, rdata)
		capped = capped && ttl == viewTTL
	}
	return serial, strings.Join(data, " "), capped
}

func soaSerial(t *testing.T, s *Server, origin string) uint32 {
	t.Helper()
	r := exchange(t, s, "udp", origin, dns.TypeSOA)
	if len(r.Answer) != 1 {
		t.Fatalf("SOA of %s: %v", origin, r)
	}
	return r.Answer[0].(*dns.SOA).Serial
}

// waitTransfer waits until linked.test transfers mx, and returns its
// serial.
func waitTransfer(t *testing.T, s *Server, mx string) uint32 {
	t.Helper()
	deadline := time.Now().Add(eventWait)
	for {
		serial, got, capped := mxOf(t, s)
		if got == mx {
			if !capped {
				t.Errorf("MX transferred without link_ttl")
			}
			return serial
		}
		if time.Now().After(deadline) {
			t.Fatalf("linked.test transfers MX %q, want %q within %v", got, mx, eventWait)
		}
		time.Sleep(20 * time.Millisecond) // a poll with a deadline
	}
}

func shortViewDelay(t *testing.T, d time.Duration) {
	old := transferViewDelay
	transferViewDelay = d
	t.Cleanup(func() { transferViewDelay = old })
}

// A link going down and up again, as its health check sees it: the
// transfer of the zone whose answers depend on it follows each time under
// a higher serial, the SOA answers carry it, and its secondary is
// NOTIFYed; the zone with no link keeps its serial and is never NOTIFYed
// again.
func TestTransferViewFollowsHealthChecks(t *testing.T) {
	shortViewDelay(t, 50*time.Millisecond)
	target, notes := collectNotifies(t)
	tcp := dnstest.NewTCPTarget(t)
	s, _, _ := startServerWith(t, t.TempDir(), viewConfig("current", target, tcp.Addr), Options{})
	first := waitTransfer(t, s, mxBoth)
	plain := soaSerial(t, s, "plain.test.")
	notes.waitMore(t, "linked.test.", 0)
	notes.waitMore(t, "plain.test.", 0)

	sent := notes.count("linked.test.")
	tcp.Down()
	second := waitTransfer(t, s, mxWan2)
	if !zoneSerialAfter(second, first) {
		t.Fatalf("wan1 down: serial %d, not after %d", second, first)
	}
	if got := soaSerial(t, s, "linked.test."); got != second {
		t.Errorf("wan1 down: SOA answers serial %d, the transfer %d", got, second)
	}
	if _, www := axfrSet(t, s, "linked.test.", dns.TypeA, "www.linked.test."); !slices.Equal(www, []string{"30 198.51.100.80"}) {
		t.Errorf("wan1 down: www transferred as %q", www)
	}
	notes.waitMore(t, "linked.test.", sent)

	sent = notes.count("linked.test.")
	tcp.Up()
	third := waitTransfer(t, s, mxBoth)
	if !zoneSerialAfter(third, second) {
		t.Fatalf("wan1 back: serial %d, not after %d", third, second)
	}
	notes.waitMore(t, "linked.test.", sent)
	if got := soaSerial(t, s, "plain.test."); got != plain {
		t.Errorf("plain.test's serial moved from %d to %d", plain, got)
	}
	stop(t, s) // waits for every NOTIFY under way
	if n := notes.count("plain.test."); n != 1 {
		t.Errorf("plain.test NOTIFYed %d times, want once, at start", n)
	}
}

func zoneSerialAfter(a, b uint32) bool { return a != b && int32(a-b) > 0 }

// Under transfer_view: all a link change changes answers, never a
// transfer or a serial.
func TestTransferViewAllNeverMoves(t *testing.T) {
	shortViewDelay(t, time.Millisecond)
	target, notes := collectNotifies(t)
	tcp := dnstest.NewTCPTarget(t)
	changes := make(chan LinkChange, 16)
	s, _, _ := startServerWith(t, t.TempDir(), viewConfig("all", target, tcp.Addr),
		Options{OnLinkChange: func(c LinkChange) { changes <- c }})
	first, mx, _ := mxOf(t, s)
	if mx != mxBoth {
		t.Fatalf("transfer carries MX %q", mx)
	}
	tcp.Down()
	select {
	case c := <-changes:
		if c.Link != "wan1" || c.Up {
			t.Fatalf("link change %+v", c)
		}
	case <-time.After(failBound):
		t.Fatal("wan1 not down")
	}
	if r := exchange(t, s, "udp", "linked.test.", dns.TypeMX); len(r.Answer) != 1 {
		t.Errorf("answers did not follow wan1: %v", r.Answer)
	}
	if len(s.viewKick) != 0 {
		t.Error("a link change asked the transfers to follow under all")
	}
	s.transferLinks() // what the follower would do, had it been asked
	if serial, mx, capped := mxOf(t, s); serial != first || mx != mxBoth || capped {
		t.Errorf("after wan1 went down: serial %d (was %d), MX %q capped %v", serial, first, mx, capped)
	}
	stop(t, s)
	if n := notes.count("linked.test."); n != 1 {
		t.Errorf("linked.test NOTIFYed %d times, want once, at start", n)
	}
}
