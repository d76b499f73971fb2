package transport

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/server/answer"
)

// testListener is a listener whose test side dials itself.
type testListener interface {
	net.Listener
	dial(t *testing.T) net.Conn
}

// tcpTestListener is a real TCP socket on 127.0.0.1: on Linux its
// connections take the raw path (tcpconn_linux.go), where net.Pipe's
// take the portable one.
type tcpTestListener struct{ net.Listener }

func (l tcpTestListener) dial(t *testing.T) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", l.Addr().String(), 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// eachListener runs test over an in-memory pipe and over real TCP.
func eachListener(t *testing.T, test func(t *testing.T, ln testListener)) {
	t.Run("pipe", func(t *testing.T) { test(t, newPipeListener()) })
	t.Run("tcp", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		// Counted as the server counts its connections, so that the
		// connections are of the type it serves.
		lim := &connLimit{c: new(answer.Counters)}
		lim.max.Store(100)
		test(t, tcpTestListener{limitListener{Listener: ln, lim: lim}})
	})
}

// frame is b with its two-byte length.
func frame(b []byte) []byte { return append(binary.BigEndian.AppendUint16(nil, uint16(len(b))), b...) }

// readFrame reads one framed message.
func readFrame(r io.Reader) ([]byte, error) {
	var l [2]byte
	if _, err := io.ReadFull(r, l[:]); err != nil {
		return nil, err
	}
	b := make([]byte, binary.BigEndian.Uint16(l[:]))
	_, err := io.ReadFull(r, b)
	return b, err
}

// TestTCPStreamCutAnywhereIsAnsweredInOrder sends 3,000 pipelined
// queries, about 100 KiB, in pieces of random size, so that frames, and
// their length prefixes, straddle every read: every reply must come
// back, in order.
func TestTCPStreamCutAnywhereIsAnsweredInOrder(t *testing.T) {
	eachListener(t, func(t *testing.T, ln testListener) {
		serveTCP(t, testConfigServer(t), ln, nil)
		conn := ln.dial(t)
		conn.SetDeadline(time.Now().Add(30 * time.Second))
		const n = 3000
		var stream []byte
		for i := range n {
			m := new(dns.Msg)
			m.SetQuestion([]string{"example.com.", "mx1.example.com.", "nope.example.com."}[i%3], dns.TypeA)
			m.Id = uint16(i)
			stream = append(stream, frame(packQuery(t, m))...)
		}
		rng := rand.New(rand.NewPCG(15, 15))
		wrote := make(chan error, 1)
		go func() {
			for rest := stream; len(rest) > 0; {
				k := min(len(rest), 1+rng.IntN(300))
				if _, err := conn.Write(rest[:k]); err != nil {
					wrote <- err
					return
				}
				rest = rest[k:]
			}
			wrote <- nil
		}()
		br := bufio.NewReader(conn)
		for i := range n {
			b, err := readFrame(br)
			if err != nil {
				t.Fatalf("reply %d of %d: %v", i+1, n, err)
			}
			r := new(dns.Msg)
			if err := r.Unpack(b); err != nil || r.Id != uint16(i) {
				t.Fatalf("reply %d: id %d, err %v: want id %d", i+1, r.Id, err, i)
			}
		}
		if err := <-wrote; err != nil {
			t.Fatal(err)
		}
	})
}

// TestTCPQueryOfAWholeFrame sends a query of 40,000 bytes (EDNS
// padding), larger than a connection's first read buffer: it must be
// answered, and so must the small query right behind it.
func TestTCPQueryOfAWholeFrame(t *testing.T) {
	eachListener(t, func(t *testing.T, ln testListener) {
		serveTCP(t, testConfigServer(t), ln, nil)
		conn := ln.dial(t)
		conn.SetDeadline(time.Now().Add(20 * time.Second))
		big := new(dns.Msg)
		big.SetQuestion("example.com.", dns.TypeMX)
		big.SetEdns0(1232, false)
		opt := big.IsEdns0()
		opt.Option = append(opt.Option, &dns.EDNS0_PADDING{Padding: make([]byte, 40000)})
		small := new(dns.Msg)
		small.SetQuestion("example.com.", dns.TypeA)
		go conn.Write(append(frame(packQuery(t, big)), frame(packQuery(t, small))...))
		br := bufio.NewReader(conn)
		for _, q := range []*dns.Msg{big, small} {
			b, err := readFrame(br)
			if err != nil {
				t.Fatal(err)
			}
			r := new(dns.Msg)
			if err := r.Unpack(b); err != nil || r.Id != q.Id || len(r.Answer) == 0 {
				t.Fatalf("reply to %s: %v %v", q.Question[0].String(), r, err)
			}
		}
	})
}

// TestTCPDribbledQueryIsCutOff sends a query a byte at a time, slower
// than it may take in all: each byte must not buy the client more time,
// or one client could hold a connection slot for good.
func TestTCPDribbledQueryIsCutOff(t *testing.T) {
	old := tcpReadTimeout
	tcpReadTimeout = 300 * time.Millisecond
	t.Cleanup(func() { tcpReadTimeout = old })
	eachListener(t, func(t *testing.T, ln testListener) {
		serveTCP(t, testConfigServer(t), ln, nil)
		conn := ln.dial(t)
		m := new(dns.Msg)
		m.SetQuestion("example.com.", dns.TypeMX)
		q := frame(packQuery(t, m))
		closed := make(chan struct{})
		go func() { // the server's end of the story: EOF or a reset
			defer close(closed)
			conn.SetReadDeadline(time.Now().Add(30 * time.Second))
			conn.Read(make([]byte, 1))
		}()
		tick := time.NewTicker(tcpReadTimeout / 6)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-closed:
				if i >= len(q) {
					t.Fatal("the whole query was sent before the server gave up")
				}
				return
			case <-tick.C:
			}
			if i < len(q) {
				conn.Write(q[i : i+1])
			}
			if i > 600 { // 30 s at the tick
				t.Fatal("dribbling client still connected")
			}
		}
	})
}

// TestTCPClientThatNeverReadsIsDisconnected pipelines queries without
// reading a reply. Their answers fill the connection's write buffer, which
// flushes mid-batch: that write too must give up after the write timeout,
// or the client holds its connection (and tcp_max_conns slot) for good.
func TestTCPClientThatNeverReadsIsDisconnected(t *testing.T) {
	old := tcpWriteTimeout
	tcpWriteTimeout = 100 * time.Millisecond
	t.Cleanup(func() { tcpWriteTimeout = old })
	eachListener(t, func(t *testing.T, ln testListener) {
		serveTCP(t, testConfigServer(t), ln, nil)
		m := new(dns.Msg)
		m.SetQuestion("example.com.", dns.TypeMX)
		q := packQuery(t, m)
		// Asked once before, the query is answered from the cache: no
		// handler runs, on whose path a write deadline used to be set.
		warm := ln.dial(t)
		warm.SetDeadline(time.Now().Add(20 * time.Second))
		if _, err := warm.Write(frame(q)); err != nil {
			t.Fatal(err)
		}
		if _, err := readFrame(warm); err != nil {
			t.Fatal(err)
		}
		warm.Close()

		conn := ln.dial(t)
		var batch []byte
		for range 1000 { // far more than 16 KiB of replies
			batch = append(batch, frame(q)...)
		}
		wrote := make(chan error, 1)
		go func() {
			for {
				if _, err := conn.Write(batch); err != nil {
					wrote <- err
					return
				}
			}
		}()
		select {
		case <-wrote: // the server closed the connection
		case <-time.After(30 * time.Second):
			t.Fatal("client that never reads still connected after 30s")
		}
		// What the server wrote may still be there to read; then the end.
		conn.SetReadDeadline(time.Now().Add(20 * time.Second))
		_, err := io.Copy(io.Discard, conn)
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatal("connection still open after the server gave up")
		}
		if err != nil && !errors.Is(err, net.ErrClosed) && !isReset(err) {
			t.Fatalf("read after the server gave up: %v, want EOF or a reset", err)
		}
	})
}

func isReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && !op.Timeout()
}

// TestTCPQueriesBeforeAHalfCloseAreAnswered: a client may send its
// queries and shut its side down at once; every reply is still owed, and
// then the server closes at once, not after the idle timeout (made
// longer here than the test's deadline): the FIN may come in the same
// read event as the queries.
func TestTCPQueriesBeforeAHalfCloseAreAnswered(t *testing.T) {
	old := tcpIdleTimeout
	tcpIdleTimeout = time.Hour
	t.Cleanup(func() { tcpIdleTimeout = old })
	_, addr := startTCP(t)
	conn, err := net.DialTimeout("tcp", addr, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	var stream []byte
	for i := range 3 {
		m := new(dns.Msg)
		m.SetQuestion("example.com.", dns.TypeMX)
		m.Id = uint16(100 + i)
		stream = append(stream, frame(packQuery(t, m))...)
	}
	if _, err := conn.Write(stream); err != nil {
		t.Fatal(err)
	}
	if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	for i := range 3 {
		b, err := readFrame(br)
		if err != nil {
			t.Fatalf("reply %d: %v", i+1, err)
		}
		r := new(dns.Msg)
		if err := r.Unpack(b); err != nil || r.Id != uint16(100+i) {
			t.Fatalf("reply %d: id %d, err %v", i+1, r.Id, err)
		}
	}
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("after the replies: %v, want EOF", err)
	}
}
