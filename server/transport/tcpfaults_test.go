package transport

import (
	"bufio"
	"encoding/binary"
	"errors"
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

// TestTCPLongAnswerOutlivesTheWriteTimeout has a handler write one answer
// (as a zone transfer does) for longer than the write timeout in all,
// each write taken at once by the client: every message must arrive.
func TestTCPLongAnswerOutlivesTheWriteTimeout(t *testing.T) {
	old := tcpWriteTimeout
	tcpWriteTimeout = 100 * time.Millisecond
	t.Cleanup(func() { tcpWriteTimeout = old })
	const frames, size = 6, 20 << 10 // each more than the write buffer
	eachListener(t, func(t *testing.T, ln testListener) {
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
		q := packQuery(t, m)
		if _, err := conn.Write(binary.BigEndian.AppendUint16(nil, uint16(len(q)))); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Write(q); err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(conn)
		for i := range frames {
			if _, err := readFrame(br); err != nil {
				t.Fatalf("message %d of %d: %v", i+1, frames, err)
			}
		}
	})
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
