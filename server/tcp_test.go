package server

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/zone"
)

// startTCP serves the test config over TCP with the real handler.
func startTCP(t *testing.T) (*tcpServer, string) {
	t.Helper()
	srv := testConfigServer(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return serveTCP(t, srv, ln, nil), ln.Addr().String()
}

func testConfigServer(t *testing.T) *Server {
	t.Helper()
	snap, diags := zone.FromYAML("t.yaml", []byte(testConfig), nil)
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	return testServer(t, snap)
}

// serveTCP serves ln for srv with the real handler until the test ends;
// general, when not nil, stands in for the handler's serve.
func serveTCP(t *testing.T, srv *Server, ln net.Listener, general serveFunc) *tcpServer {
	t.Helper()
	ts := newTCPServer(srv, "127.0.0.1:0", ln, &handler{srv: srv, addr: "127.0.0.1:0"})
	if general != nil {
		ts.general = general
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		ts.serve()
	}()
	t.Cleanup(func() {
		ts.close()
		<-done
	})
	return ts
}

// TestTCPPipelinedAnswersInOrder sends many queries in one write and
// expects every reply, in order, each matching the general path.
func TestTCPPipelinedAnswersInOrder(t *testing.T) {
	ts, addr := startTCP(t)
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))

	names := []string{"example.com.", "MX1.example.com.", "nope.example.com.", "example.org.", "example.com."}
	var batch []byte
	var queries [][]byte
	for i := 0; i < 40; i++ {
		m := new(dns.Msg)
		m.SetQuestion(names[i%len(names)], dns.TypeMX)
		m.Id = uint16(i)
		if i%7 == 3 {
			m.Opcode = dns.OpcodeNotify // the handler's business
		}
		b, _ := m.Pack()
		queries = append(queries, b)
		batch = binary.BigEndian.AppendUint16(batch, uint16(len(b)))
		batch = append(batch, b...)
	}
	if _, err := conn.Write(batch); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	for i, q := range queries {
		var l [2]byte
		if _, err := io.ReadFull(br, l[:]); err != nil {
			t.Fatalf("reply %d: %v", i, err)
		}
		b := make([]byte, binary.BigEndian.Uint16(l[:]))
		if _, err := io.ReadFull(br, b); err != nil {
			t.Fatalf("reply %d: %v", i, err)
		}
		r := new(dns.Msg)
		if err := r.Unpack(b); err != nil {
			t.Fatalf("reply %d: %v", i, err)
		}
		if r.Id != uint16(i) {
			t.Fatalf("reply %d has id %d: out of order", i, r.Id)
		}
		if i%7 == 3 {
			if r.Rcode != dns.RcodeNotImplemented {
				t.Errorf("reply %d: rcode %d, want NOTIMP for NOTIFY of a zone we are primary for", i, r.Rcode)
			}
			continue
		}
		// The general path's reply, and the reply the config must give.
		general := new(dns.Msg)
		if err := general.Unpack(handlerReply(t, ts.srv, q, zone.NoLink, 1)); err != nil {
			t.Fatalf("reply %d: general path: %v", i, err)
		}
		label := fmt.Sprintf("reply %d (%s MX)", i, names[i%len(names)])
		if r.Question[0].Name != names[i%len(names)] {
			t.Errorf("%s: question %q", label, r.Question[0].Name)
		}
		sameReply(t, label+" vs the general path", r, general)
		sameReply(t, label, r, testConfigReply(t, ts.srv.state.Load().snap, names[i%len(names)], dns.TypeMX))
	}
}

// TestTCPSlowClientDoesNotBlockOthers holds a connection with half a
// length prefix while another client is answered, and is cut off after
// the read timeout.
func TestTCPSlowClientDoesNotBlockOthers(t *testing.T) {
	old := tcpReadTimeout
	tcpReadTimeout = 200 * time.Millisecond
	t.Cleanup(func() { tcpReadTimeout = old })
	_, addr := startTCP(t)
	slow, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	slow.Write([]byte{0}) // one byte of a length prefix, then nothing

	c := &dns.Client{Net: "tcp", Timeout: 10 * time.Second}
	m := new(dns.Msg)
	m.SetQuestion("example.com.", dns.TypeMX)
	if _, _, err := c.Exchange(m, addr); err != nil {
		t.Fatalf("other client: %v", err)
	}
	slow.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, err := slow.Read(make([]byte, 1)); err == nil {
		t.Fatal("slow client got data, want the connection closed")
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("slow client still connected after 20s, want it closed after the read timeout")
	}
}

// TestTCPQueryLargerThanTheFirstBuffer sends a query of 700 bytes (EDNS
// padding) and expects an answer: the read buffer starts smaller.
func TestTCPQueryLargerThanTheFirstBuffer(t *testing.T) {
	_, addr := startTCP(t)
	m := new(dns.Msg)
	m.SetQuestion("example.com.", dns.TypeMX)
	m.SetEdns0(1232, false)
	opt := m.IsEdns0()
	opt.Option = append(opt.Option, &dns.EDNS0_PADDING{Padding: make([]byte, 640)})
	c := &dns.Client{Net: "tcp", Timeout: 5 * time.Second}
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatal(err)
	}
	if r.Id != m.Id || r.Rcode != dns.RcodeSuccess || len(r.Answer) == 0 {
		t.Fatalf("reply: %v", r)
	}
}

// pipeListener accepts the server ends of net.Pipe connections made by
// dial, after returning each of errs from Accept.
type pipeListener struct {
	errs   []error
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func newPipeListener(errs ...error) *pipeListener {
	return &pipeListener{errs: errs, conns: make(chan net.Conn), closed: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	if len(l.errs) > 0 {
		err := l.errs[0]
		l.errs = l.errs[1:]
		return nil, err
	}
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }

// dial returns the client end of a new connection, once accepted.
func (l *pipeListener) dial(t *testing.T) net.Conn {
	t.Helper()
	client, server := net.Pipe()
	select {
	case l.conns <- server:
	case <-time.After(20 * time.Second):
		t.Fatal("connection not accepted within 20s")
	}
	t.Cleanup(func() { client.Close() })
	return client
}

// TestTCPClientThatNeverReadsIsDisconnected pipelines queries without
// reading a reply. Their answers fill the connection's write buffer, which
// flushes mid-batch: that write too must give up after the write timeout,
// or the client holds its connection (and tcp_max_conns slot) for good.
func TestTCPClientThatNeverReadsIsDisconnected(t *testing.T) {
	old := tcpWriteTimeout
	tcpWriteTimeout = 100 * time.Millisecond
	t.Cleanup(func() { tcpWriteTimeout = old })
	srv := testConfigServer(t)
	ln := newPipeListener()
	serveTCP(t, srv, ln, nil)
	m := new(dns.Msg)
	m.SetQuestion("example.com.", dns.TypeMX)
	q, _ := m.Pack()
	// Asked once before, the query is answered from the cache: no
	// handler runs, on whose path a write deadline used to be set.
	warm := ln.dial(t)
	warm.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := warm.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(q))), q...)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(warm, make([]byte, 2)); err != nil {
		t.Fatal(err)
	}
	warm.Close()

	conn := ln.dial(t)
	var batch []byte
	for range 1000 { // far more than 16 KiB of replies
		batch = binary.BigEndian.AppendUint16(batch, uint16(len(q)))
		batch = append(batch, q...)
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
	case <-time.After(20 * time.Second):
		t.Fatal("client that never reads still connected after 20s")
	}
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, err := conn.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("read after the server gave up: %v, want EOF", err)
	}
}

// TestTCPLongAnswerOutlivesTheWriteTimeout has a handler write one answer
// (as a zone transfer does) for longer than the write timeout in all,
// each write taken at once by the client: every message must arrive.
func TestTCPLongAnswerOutlivesTheWriteTimeout(t *testing.T) {
	old := tcpWriteTimeout
	tcpWriteTimeout = 100 * time.Millisecond
	t.Cleanup(func() { tcpWriteTimeout = old })
	const frames, size = 6, 20 << 10 // each more than the write buffer
	ln := newPipeListener()
	serveTCP(t, testConfigServer(t), ln, func(w dns.ResponseWriter, _ *dns.Msg, _ *state, _ int, _ uint32) answered {
		for range frames {
			// A slow producer, like a transfer packing a large zone.
			time.Sleep(tcpWriteTimeout / 3)
			if _, err := w.Write(make([]byte, size)); err != nil {
				t.Errorf("write: %v", err)
				break
			}
		}
		return answered{} // answered and counted, as a transfer is
	})
	conn := ln.dial(t)
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	m := new(dns.Msg)
	m.SetQuestion("example.com.", dns.TypeAXFR)
	q, _ := m.Pack()
	if _, err := conn.Write(binary.BigEndian.AppendUint16(nil, uint16(len(q)))); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Write(q); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	for i := range frames {
		var l [2]byte
		if _, err := io.ReadFull(br, l[:]); err != nil {
			t.Fatalf("message %d of %d: %v", i+1, frames, err)
		}
		if _, err := io.ReadFull(br, make([]byte, binary.BigEndian.Uint16(l[:]))); err != nil {
			t.Fatalf("message %d of %d: %v", i+1, frames, err)
		}
	}
}

// TestTCPAcceptErrorIsRetried fails a few accepts, as when out of file
// descriptors: the server must keep accepting, and log the trouble once.
func TestTCPAcceptErrorIsRetried(t *testing.T) {
	srv := testConfigServer(t)
	var logs syncBuffer
	srv.log = slog.New(slog.NewTextHandler(&logs, nil))
	emfile := &net.OpError{Op: "accept", Net: "tcp", Err: errors.New("too many open files")}
	ln := newPipeListener(emfile, emfile, emfile)
	serveTCP(t, srv, ln, nil)
	conn := ln.dial(t)
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	m := new(dns.Msg)
	m.SetQuestion("example.com.", dns.TypeMX)
	if err := (&dns.Conn{Conn: conn}).WriteMsg(m); err != nil {
		t.Fatal(err)
	}
	r, err := (&dns.Conn{Conn: conn}).ReadMsg()
	if err != nil {
		t.Fatal(err)
	}
	if r.Id != m.Id || len(r.Answer) == 0 {
		t.Fatalf("reply: %v", r)
	}
	if n := strings.Count(logs.String(), "accept failed"); n != 1 {
		t.Errorf("%d accept failures logged, want 1:\n%s", n, logs.String())
	}
}
