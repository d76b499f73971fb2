package server

import (
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/server/answer"
	"github.com/mxdns/mxdns/server/health"
	"github.com/mxdns/mxdns/server/xfr"
	"github.com/mxdns/mxdns/zone"
)

// bareServer is a Server with an empty snapshot and no config file: enough
// for the socket paths that never reach zone.Lookup.
func bareServer(t *testing.T) *Server {
	t.Helper()
	s := &Server{
		log:      testLogger(t),
		checks:   health.New(health.Config{}),
		swapped:  make(chan struct{}, 1),
		stopping: make(chan struct{}),
	}
	s.keys = xfr.Keyring{Snapshot: s.Snapshot}
	s.initAnswers()
	s.initListeners()
	s.state.Store(answer.NewState(&zone.Snapshot{}, 0, nil))
	stopAtCleanup(t, s)
	return s
}

func TestListenersFollowSettings(t *testing.T) {
	s := bareServer(t)
	const a, b = "127.0.0.1:0", "localhost:0"

	s.mu.Lock()
	err := s.syncListeners(zone.Settings{Listen: []string{a}})
	s.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	first := s.Addrs()
	if len(first) != 1 || first[0].UDP.String() != first[0].TCP.String() {
		t.Fatalf("addrs %v, want one with UDP and TCP on the same port", first)
	}

	s.mu.Lock()
	err = s.syncListeners(zone.Settings{Listen: []string{a}, Links: []zone.Link{{Name: "wan1", Listen: []string{b, a}}}})
	s.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	both := s.Addrs()
	if len(both) != 2 {
		t.Fatalf("addrs %v, want 2", both)
	}
	if both[0].Listen != a || both[0].UDP.String() != first[0].UDP.String() {
		t.Errorf("unchanged listener %v was replaced by %v", first[0], both[0])
	}

	s.mu.Lock()
	err = s.syncListeners(zone.Settings{Listen: []string{b}})
	s.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Addrs(); len(got) != 1 || got[0].Listen != b {
		t.Fatalf("addrs %v, want only %s", got, b)
	}
	// The dropped address is free again: its sockets really closed.
	pc, err := net.ListenPacket("udp", first[0].UDP.String())
	if err != nil {
		t.Fatalf("removed listener still bound: %v", err)
	}
	pc.Close()
}

func TestListenError(t *testing.T) {
	busy, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	s := bareServer(t)
	s.mu.Lock()
	err = s.syncListeners(zone.Settings{Listen: []string{busy.LocalAddr().String()}})
	s.mu.Unlock()
	if err == nil {
		t.Fatal("binding a busy port succeeded")
	}
	t.Log(err)
}

// TestSocketsWithoutModel exercises the real sockets on paths that do not
// consult the zone model: responses are dropped, CH is refused, over UDP
// and TCP.
func TestSocketsWithoutModel(t *testing.T) {
	s := bareServer(t)
	s.mu.Lock()
	err := s.syncListeners(zone.Settings{Listen: []string{"127.0.0.1:0"}})
	s.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	addr := s.Addrs()[0].UDP.String()

	conn, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	resp := query("example.com.", dns.TypeA)
	resp.Id = 1
	resp.Response = true
	chaos := query("version.bind.", dns.TypeTXT)
	chaos.Id = 2
	chaos.Question[0].Qclass = dns.ClassCHAOS
	for _, m := range []*dns.Msg{resp, chaos} {
		b, _ := m.Pack()
		if _, err := conn.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 1500)
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	got := new(dns.Msg)
	if err := got.Unpack(buf[:n]); err != nil {
		t.Fatal(err)
	}
	if got.Id != 2 || got.Rcode != dns.RcodeRefused {
		t.Errorf("first reply id %d rcode %s, want id 2 REFUSED (the response must get no reply)", got.Id, dns.RcodeToString[got.Rcode])
	}

	c := &dns.Client{Net: "tcp", Timeout: 10 * time.Second}
	r, _, err := c.Exchange(chaos, s.Addrs()[0].TCP.String())
	if err != nil {
		t.Fatal(err)
	}
	if r.Rcode != dns.RcodeRefused {
		t.Errorf("tcp: rcode %s, want REFUSED", dns.RcodeToString[r.Rcode])
	}
}
