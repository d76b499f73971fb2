//go:build linux

package transport

import (
	"fmt"
	"net"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/zone"
)

// TestUDPBatchAnswersLikeTheGeneralPath serves the test config from two
// reuse-port readers and checks every reply, first (a miss) and repeated
// (a hit), against the general path.
func TestUDPBatchAnswersLikeTheGeneralPath(t *testing.T) {
	g, srv := udpReaders(t, testConfig, 2)
	snap := srv.state().Snap

	c := new(dns.Client)
	for _, q := range []struct {
		name string
		t    uint16
	}{{"example.com.", dns.TypeMX}, {"MX1.example.COM.", dns.TypeA}, {"nope.example.com.", dns.TypeA}, {"example.org.", dns.TypeA}} {
		for round := 0; round < 3; round++ {
			m := new(dns.Msg)
			m.SetQuestion(q.name, q.t)
			m.SetEdns0(1232, round == 1)
			r, _, err := c.Exchange(m, g.local.String())
			if err != nil {
				t.Fatalf("%s round %d: %v", q.name, round, err)
			}
			if r.Id != m.Id || r.Question[0].Name != q.name {
				t.Errorf("%s round %d: id %d question %q, want %d %q", q.name, round, r.Id, r.Question[0].Name, m.Id, q.name)
			}
			query, _ := m.Pack()
			general := new(dns.Msg)
			if err := general.Unpack(handlerReply(t, srv, query, zone.NoLink, 1)); err != nil {
				t.Fatal(err)
			}
			label := fmt.Sprintf("%s %s round %d", q.name, dns.TypeToString[q.t], round)
			sameReply(t, label+" vs the general path", r, general)
			sameReply(t, label, r, testConfigReply(t, snap, q.name, q.t))
			if (r.IsEdns0() == nil) != (general.IsEdns0() == nil) || r.IsEdns0() != nil && r.IsEdns0().Do() != general.IsEdns0().Do() {
				t.Errorf("%s: OPT %v, general path %v", label, r.IsEdns0(), general.IsEdns0())
			}
		}
	}
}

// fastRRL keeps rate limiting in the path at the highest rate there is,
// which the allocation tests never reach.
const fastRRL = "rrl: {responses_per_second: 1000000}\n"

// TestUDPBatchAllocatesNothingOnAHit runs the reader's per-batch work on a
// cached query: anything it allocates per datagram is garbage the GC
// must chase at every query rate.
func TestUDPBatchAllocatesNothingOnAHit(t *testing.T) {
	snap, diags := zone.FromYAML("t.yaml", []byte(fastRRL+testConfig), nil)
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	srv := testServer(t, snap)
	r := &udpReader{srv: srv, addr: "127.0.0.1:53"}
	m := new(dns.Msg)
	m.SetQuestion("example.com.", dns.TypeMX)
	m.SetEdns0(1232, false)
	query := packQuery(t, m)

	b := newBatch(r.addr)
	sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(&b.names[0]))
	sa.Family, sa.Addr = unix.AF_INET, [4]byte{127, 0, 0, 1}
	b.in[0].hdr.Namelen = unix.SizeofSockaddrInet4
	b.in[0].len = uint32(copy(b.bufs[0], query))
	// Rate limiting stays in the path, at a rate this test never reaches
	// (fastRRL).
	st := srv.state()
	var rotate uint32
	if k := r.answerBatch(st, b, 1, &rotate); k != 1 {
		t.Fatalf("first query: %d replies, want 1", k)
	}
	allocs := testing.AllocsPerRun(1000, func() {
		if k := r.answerBatch(st, b, 1, &rotate); k != 1 {
			t.Fatalf("repeated query: %d replies, want 1", k)
		}
	})
	if allocs != 0 {
		t.Errorf("a cached UDP query allocates %.1f times, want 0", allocs)
	}
}

// TestUDPReaderAllocatesNothingOnAHit measures the whole reader, the
// netpoller wake-up, recvmmsg and sendmmsg included, from a client that
// allocates nothing itself: a connected socket written and read with
// plain system calls.
func TestUDPReaderAllocatesNothingOnAHit(t *testing.T) {
	// Rate limiting stays in, never reached (fastRRL).
	g, _ := udpReaders(t, fastRRL+testConfig, 1)

	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	tv := unix.Timeval{Sec: 10} // a lost reply fails the test, not hangs it
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		t.Fatal(err)
	}
	to := g.local.(*net.UDPAddr).AddrPort()
	if err := unix.Connect(fd, &unix.SockaddrInet4{Port: int(to.Port()), Addr: to.Addr().As4()}); err != nil {
		t.Fatal(err)
	}
	m := new(dns.Msg)
	m.SetQuestion("example.com.", dns.TypeMX)
	m.SetEdns0(1232, false)
	query := packQuery(t, m)
	reply := make([]byte, 4096)
	var failed error
	exchange := func() {
		if _, err := unix.Write(fd, query); err != nil {
			failed = err
			return
		}
		if _, err := unix.Read(fd, reply); err != nil {
			failed = err
		}
	}
	exchange() // the miss, which fills the cache
	allocs := testing.AllocsPerRun(500, exchange)
	if failed != nil {
		t.Fatal(failed)
	}
	if allocs != 0 {
		t.Errorf("a cached UDP query through the reader allocates %.1f times, want 0", allocs)
	}
}

// TestUDPReaderAnswersEveryBurst sends bursts of sizes around the batch
// size, each followed by silence, to one reader, then queries one at a
// time, each sent as the last reply arrives (while the reader is on its
// way to wait): every query must be answered with nothing after it to
// wake the reader again. A reader that waited in the netpoller while
// queries were queued (a lost wake-up) would leave a reply unsent.
func TestUDPReaderAnswersEveryBurst(t *testing.T) {
	g, _ := udpReaders(t, "rrl: off\n"+testConfig, 1)
	conn, err := net.DialUDP("udp", nil, g.local.(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetReadBuffer(1 << 20); err != nil {
		t.Fatal(err)
	}
	var id uint16
	for _, size := range []int{1, 2, udpBatch - 1, udpBatch, udpBatch + 1, 2*udpBatch + 3, 1, 3} {
		want := map[uint16]bool{}
		for range size {
			id++
			m := new(dns.Msg)
			m.SetQuestion("example.com.", dns.TypeMX)
			m.Id = id
			if _, err := conn.Write(packQuery(t, m)); err != nil {
				t.Fatal(err)
			}
			want[id] = true
		}
		buf := make([]byte, 4096)
		for len(want) > 0 {
			conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			n, err := conn.Read(buf)
			if err != nil {
				t.Fatalf("burst of %d: %d replies missing: %v", size, len(want), err)
			}
			r := new(dns.Msg)
			if err := r.Unpack(buf[:n]); err != nil {
				t.Fatal(err)
			}
			delete(want, r.Id)
		}
	}
	buf := make([]byte, 4096)
	for i := range 3000 {
		m := new(dns.Msg)
		m.SetQuestion("example.com.", dns.TypeMX)
		if _, err := conn.Write(packQuery(t, m)); err != nil {
			t.Fatal(err)
		}
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := conn.Read(buf); err != nil {
			t.Fatalf("query %d of one at a time: %v", i, err)
		}
	}
}

// udpReaders serves config from n reuse-port readers until the test ends.
func udpReaders(t *testing.T, config string, n int) (*udpGroup, *Listeners) {
	t.Helper()
	snap, diags := zone.FromYAML("t.yaml", []byte(config), nil)
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	srv := testServer(t, snap)
	g, err := listenUDPBatch(srv, "127.0.0.1:0", n)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.close)
	return g, srv
}

// TestUDPReaderLeavesReadAfterAFullBatch: the read callback gives the
// socket back after every full batch, so that a Close (a shutdown, a
// listen address removed by a reload) is seen between batches. A reader
// that stayed in the callback while batches came full held the socket
// for as long as a flood lasted, and Close waited for it.
func TestUDPReaderLeavesReadAfterAFullBatch(t *testing.T) {
	snap, diags := zone.FromYAML("t.yaml", []byte("rrl: off\n"+testConfig), nil)
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	conn, err := listenReusePort("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	r, err := newUDPReader(testServer(t, snap), "127.0.0.1:0", conn)
	if err != nil {
		t.Fatal(err)
	}
	client, err := net.DialUDP("udp", nil, conn.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	m := new(dns.Msg)
	m.SetQuestion("example.com.", dns.TypeMX)
	query := packQuery(t, m)
	for range 2*udpBatch + 1 { // two full batches and one more
		if _, err := client.Write(query); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan error, 1)
	go func() { done <- r.rc.Read(r.recvFn) }()
	select {
	case err := <-done:
		if err != nil || r.queued != udpBatch || r.sent != udpBatch {
			t.Errorf("Read: %v, %d of %d replies sent; want one full batch answered", err, r.sent, r.queued)
		}
	case <-time.After(20 * time.Second):
		conn.Close()
		<-done
		t.Fatal("the read callback kept the socket after a full batch")
	}
}
