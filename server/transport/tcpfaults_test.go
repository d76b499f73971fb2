package transport

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/mxdns/mxdns/server/answer"
)

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
	serveTCP(t, testConfigServer(t), ln, answerFunc(func(_ *answer.State, r *answer.Request) ([]byte, bool) {
		for range frames {
			// A slow producer, like a transfer packing a large zone.
			time.Sleep(tcpWriteTimeout / 3)
			if err := r.Stream.WriteFrame(make([]byte, size)); err != nil {
				t.Errorf("write: %v", err)
				break
			}
		}
		return nil, true // answered and counted, as a transfer is
	}))
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
