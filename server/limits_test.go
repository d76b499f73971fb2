package server

import (
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/server/answer"
	"github.com/mxdns/mxdns/zone"
)

const rrlConfig = `listen: ["127.0.0.1:0"]
rrl: {responses_per_second: 5, slip: 2, window: 5s, exempt: [127.0.2.0/24]}
zones:
  example.com:
    ns: [ns1]
    records:
      "@": {a: 203.0.113.80}
      ns1: {a: 203.0.113.53}
      "*.dyn": {a: 203.0.113.99}
`

// flood sends n queries from source and waits until each is accounted
// for: answered, truncated, or counted as dropped.
func flood(t *testing.T, s *Server, source string, names func(i int) string, n int) (full, tc int) {
	t.Helper()
	laddr := &net.UDPAddr{IP: net.ParseIP(source)}
	conn, err := net.DialUDP("udp", laddr, s.Addrs()[0].UDP.(*net.UDPAddr))
	if err != nil {
		t.Skipf("cannot send from %s: %v", source, err)
	}
	defer conn.Close()
	before := s.RateLimitStats().RRLDropped
	for i := range n {
		m := query(names(i), dns.TypeA)
		b, _ := m.Pack()
		if _, err := conn.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	buf := make([]byte, 1500)
	deadline := time.Now().Add(20 * time.Second)
	for full+tc+int(s.RateLimitStats().RRLDropped-before) < n {
		conn.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		k, err := conn.Read(buf)
		if err != nil {
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d answered, %d truncated, %d dropped of %d", source, full, tc, s.RateLimitStats().RRLDropped-before, n)
			}
			continue
		}
		r := new(dns.Msg)
		if err := r.Unpack(buf[:k]); err != nil {
			t.Fatal(err)
		}
		if r.Truncated {
			if len(r.Answer)+len(r.Ns) != 0 {
				t.Fatalf("slipped reply has records:\n%v", r)
			}
			tc++
		} else {
			full++
		}
	}
	return full, tc
}

func TestRRLFloodIsCutOthersAnswered(t *testing.T) {
	s, _, _ := startServer(t, rrlConfig)
	same := func(int) string { return "example.com." }
	start := time.Now()
	// 100 datagrams: well within the default socket buffers, which could
	// otherwise lose some (uncounted) and stall the accounting.
	full, tc := flood(t, s, "127.0.0.1", same, 100)
	// 5 a second of credit, plus what the elapsed time earned.
	if max := 5 + int(time.Since(start).Seconds()*5) + 1; full > max {
		t.Errorf("flood: %d full answers, want at most %d", full, max)
	}
	// slip: 2 sends every second limited reply truncated. A reply sent
	// on earned credit restarts the count, so each run of limited
	// replies gives half its length, rounded down: after the first 5
	// every full answer can start a new run.
	limited, runs := 100-full, max(full-4, 1)
	if 2*tc > limited || 2*tc < limited-runs {
		t.Errorf("flood: %d truncated replies of %d limited in at most %d runs, want half of each run", tc, limited, runs)
	}
	// Random names under a wildcard share the wildcard's bucket.
	full, _ = flood(t, s, "127.0.0.1", func(i int) string { return "r" + strings.Repeat("x", i%7) + itoa(i) + ".dyn.example.com." }, 100)
	if full > 10 {
		t.Errorf("wildcard flood: %d full answers, want it limited like one name", full)
	}
	// Another /24 is answered in full, and so is an exempt one.
	if full, _ := flood(t, s, "127.0.1.1", same, 5); full != 5 {
		t.Errorf("other prefix: %d of 5 answered", full)
	}
	if full, _ := flood(t, s, "127.0.2.1", same, 50); full != 50 {
		t.Errorf("exempt prefix: %d of 50 answered", full)
	}
	// TCP is never limited.
	for range 10 {
		wantAnswer(t, ask(t, s, "tcp", query("example.com.", dns.TypeA)))
	}
	if st := s.RateLimitStats(); st.RRLDropped == 0 || st.RRLSlipped == 0 {
		t.Errorf("counters not kept: %+v", st)
	}
}

func itoa(i int) string { return string(rune('a'+i%26)) + string(rune('a'+i/26%26)) }

func TestRRLOff(t *testing.T) {
	s, _, _ := startServer(t, strings.Replace(rrlConfig, "rrl: {responses_per_second: 5, slip: 2, window: 5s, exempt: [127.0.2.0/24]}", "rrl: off", 1))
	if full, _ := flood(t, s, "127.0.0.1", func(int) string { return "example.com." }, 100); full != 100 {
		t.Errorf("rrl off: %d of 100 answered", full)
	}
}

func TestPanicIsServfail(t *testing.T) {
	s := bareServer(t)
	var logs syncBuffer
	s.log = slog.New(slog.NewTextHandler(&logs, nil))
	s.initAnswers() // with the log
	s.initListeners()
	s.mu.Lock()
	err := s.syncListeners(zone.Settings{Listen: []string{"127.0.0.1:0"}})
	s.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	s.state.Store(&answer.State{}) // no snapshot: the handler dereferences nil
	for _, network := range []string{"udp", "tcp", "udp"} {
		m := query("example.com.", dns.TypeA)
		m.SetEdns0(1232, true)
		r := ask(t, s, network, m)
		if r.Rcode != dns.RcodeServerFailure || r.IsEdns0() == nil {
			t.Fatalf("%s: want SERVFAIL with OPT, got\n%v", network, r)
		}
	}
	if n := s.RateLimitStats().Panics; n != 3 {
		t.Errorf("%d panics counted, want 3", n)
	}
	if n := strings.Count(logs.String(), "handler panic"); n != 1 {
		t.Errorf("%d panic log lines, want 1:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "goroutine") {
		t.Errorf("panic log has no stack:\n%s", logs.String())
	}
}
