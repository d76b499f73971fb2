package transport

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/mxdns/mxdns/server/answer"
)

// The TCP server reads every query a client has pipelined, answers each
// through the answer pipeline UDP uses too (answer.Answerer: from the
// cache when it can), which writes every message to the connection as a
// frame, and sends the replies with one flush once no query is left
// waiting: a busy connection costs a read and a write per batch, not per
// query.

// tcpServer serves one TCP listener.
type tcpServer struct {
	srv     *Listeners
	addr    string // as configured: maps the arrival to a link
	ln      net.Listener
	answers Answerer

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	done  bool
	wg    sync.WaitGroup
}

func newTCPServer(srv *Listeners, addr string, ln net.Listener, a Answerer) *tcpServer {
	return &tcpServer{srv: srv, addr: addr, ln: ln, answers: a, conns: make(map[net.Conn]struct{})}
}

// serve accepts connections until close. A failed accept (out of file
// descriptors, say) is retried after a growing pause, as net/http does:
// giving up would end TCP service for good while UDP goes on.
func (t *tcpServer) serve() {
	var delay time.Duration
	for {
		conn, err := t.ln.Accept()
		if err != nil {
			if t.closing() {
				return
			}
			if delay == 0 {
				delay = 5 * time.Millisecond
				t.srv.log.Warn("accept failed, retrying", "listen", t.addr, "err", err)
			} else {
				delay = min(2*delay, time.Second)
			}
			time.Sleep(delay)
			continue
		}
		delay = 0
		if !t.track(conn) {
			conn.Close()
			return
		}
		t.wg.Go(func() {
			defer t.untrack(conn)
			t.serveConn(conn)
		})
	}
}

func (t *tcpServer) closing() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.done
}

func (t *tcpServer) track(c net.Conn) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done {
		return false
	}
	t.conns[c] = struct{}{}
	return true
}

func (t *tcpServer) untrack(c net.Conn) {
	c.Close()
	t.mu.Lock()
	delete(t.conns, c)
	t.mu.Unlock()
}

// close stops accepting, closes every connection and waits for them.
func (t *tcpServer) close() error {
	t.mu.Lock()
	t.done = true
	err := t.ln.Close()
	for c := range t.conns {
		c.Close()
	}
	t.mu.Unlock()
	t.wg.Wait()
	return err
}

// serveConn serves one connection: a TCP socket on Linux with raw
// non-blocking calls (tcpconn_linux.go), anything else (other systems,
// the in-memory connections of tests) through net.Conn here.
func (t *tcpServer) serveConn(conn net.Conn) {
	if !t.serveRaw(conn) {
		t.serveBuffered(conn)
	}
}

func (t *tcpServer) serveBuffered(conn net.Conn) {
	br := bufio.NewReaderSize(conn, 16<<10)
	bw := bufio.NewWriterSize(deadlineWriter{conn}, 16<<10)
	w := &tcpWriter{conn: conn, bw: bw}
	req := &answer.Request{Listen: t.addr, Peer: w, Stream: w, Out: make([]byte, 0, 4096)}
	var (
		lenBuf [2]byte
		msg    = make([]byte, 0, 512)
	)
	// The first query must arrive within the read timeout; later ones
	// may keep the client waiting for the idle timeout.
	wait := tcpReadTimeout
	for ; ; wait = tcpIdleTimeout {
		if br.Buffered() == 0 {
			// Nothing more has arrived: send what is answered, then wait.
			if bw.Buffered() > 0 && bw.Flush() != nil {
				return
			}
			conn.SetReadDeadline(time.Now().Add(wait))
			if _, err := br.Peek(1); err != nil {
				return
			}
		}
		if br.Buffered() < 2 {
			conn.SetReadDeadline(time.Now().Add(tcpReadTimeout))
		}
		if _, err := io.ReadFull(br, lenBuf[:]); err != nil {
			return
		}
		size := int(binary.BigEndian.Uint16(lenBuf[:]))
		if br.Buffered() < size {
			conn.SetReadDeadline(time.Now().Add(tcpReadTimeout))
		}
		if size > cap(msg) {
			msg = make([]byte, size)
		}
		msg = msg[:size]
		if _, err := io.ReadFull(br, msg); err != nil {
			return
		}
		req.Query, req.Rotate = msg, t.srv.rotate.Add(1)
		if _, keep := t.answers.Answer(t.srv.state(), req); !keep {
			return
		}
	}
}

// deadlineWriter gives each socket write its own tcpWriteTimeout. A
// deadline set once before a flush is not enough: the buffered writer
// also writes by itself when full (mid-batch, mid-transfer), and a
// transfer may rightly take far longer in all than any one write should.
type deadlineWriter struct{ conn net.Conn }

func (d deadlineWriter) Write(b []byte) (int, error) {
	d.conn.SetWriteDeadline(time.Now().Add(tcpWriteTimeout))
	return d.conn.Write(b)
}

// tcpWriter is a connection as the answer pipeline sees it: the peer
// of its queries and the stream their replies are framed into, in the
// connection's buffer, which is flushed when no query is left waiting.
type tcpWriter struct {
	conn net.Conn
	bw   *bufio.Writer
}

// WriteFrame writes one message with its length (answer.Stream).
func (w *tcpWriter) WriteFrame(b []byte) error {
	if len(b) > 0xFFFF {
		return errors.New("reply larger than a TCP frame")
	}
	var l [2]byte
	binary.BigEndian.PutUint16(l[:], uint16(len(b)))
	if _, err := w.bw.Write(l[:]); err != nil {
		return err
	}
	_, err := w.bw.Write(b)
	return err
}

// Close sends what is buffered: the exchange that closed the stream (a
// transfer) is done, and the connection ends after it.
func (w *tcpWriter) Close() error { return w.bw.Flush() }

func (w *tcpWriter) Addr() netip.Addr {
	a, _ := answer.AddrOf(w.conn.RemoteAddr())
	return a
}
func (w *tcpWriter) RemoteAddr() net.Addr { return w.conn.RemoteAddr() }
func (w *tcpWriter) LocalAddr() net.Addr  { return w.conn.LocalAddr() }
