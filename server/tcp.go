package server

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// The TCP server reads every query a client has pipelined, answers each
// (from the answer cache when it can), and writes the replies with one
// flush once no query is left waiting: a busy connection costs a read and
// a write per batch, not per query. Queries the fast path does not take
// are unpacked and handed to the handler, the general path UDP uses too,
// through a small dns.ResponseWriter, so that transfers and TSIG can use
// miekg/dns's machinery (dns.Transfer, the TsigProvider) unchanged.

// tcpServer serves one TCP listener.
type tcpServer struct {
	srv     *Server
	addr    string // as configured: maps the arrival to a link
	ln      net.Listener
	handler *handler // the general path: everything the cache does not answer
	general serveFunc

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	done  bool
	wg    sync.WaitGroup
}

// serveFunc is the general path as the TCP server calls it: a field
// rather than a direct call to handler.serve only so that tests can put
// one that panics or stalls in its place.
type serveFunc func(w dns.ResponseWriter, req *dns.Msg, st *state, link int, rotate uint32) answered

func newTCPServer(srv *Server, addr string, ln net.Listener, h *handler) *tcpServer {
	return &tcpServer{srv: srv, addr: addr, ln: ln, handler: h, general: h.serve, conns: make(map[net.Conn]struct{})}
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

func (t *tcpServer) serveConn(conn net.Conn) {
	br := bufio.NewReaderSize(conn, 16<<10)
	bw := bufio.NewWriterSize(deadlineWriter{conn}, 16<<10)
	w := &tcpWriter{conn: conn, bw: bw}
	var (
		q      wireQuery
		lenBuf [2]byte
		msg    = make([]byte, 0, 512)
		out    = make([]byte, 0, 4096)
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
		if !t.answer(w, msg, &q, &out) {
			return
		}
	}
}

// answer replies to one query; false ends the connection. Like a
// datagram, a plain query is answered from the cache when it can be, and
// everything else by the handler, which then offers the cache its reply;
// both work from the one state, link, rotation and clock reading taken
// here, so the cache is filled from the state that answered.
func (t *tcpServer) answer(w *tcpWriter, query []byte, q *wireQuery, out *[]byte) (ok bool) {
	defer func() {
		if v := recover(); v != nil {
			t.srv.notePanic(v, t.addr)
			reply := servfailBytes(query)
			ok = reply != nil && w.writeFrame(reply) == nil
		}
	}()
	start := time.Now()
	st := t.srv.state.Load()
	link := st.snap.ListenLink(t.addr)
	rotate := t.srv.rotate.Add(1)
	if reply, e := st.fastAnswer(query, link, rotate, false, q, *out); e != nil {
		*out = reply[:0]
		t.srv.metrics.query(q.qtype, uint16(reply[3]&0x0F), false, st.linkName(link), time.Since(start))
		return w.writeFrame(reply) == nil
	}
	req := new(dns.Msg)
	if err := req.Unpack(query); err != nil {
		if reply := formErr(query); reply != nil {
			return w.writeFrame(reply) == nil
		}
		return false
	}
	if req.Response {
		return true // never answer a response
	}
	if malformed(req, query) {
		return w.writeFrame(formErr(query)) == nil
	}
	w.tsig.prepare(req, query, t.srv.keys)
	a := t.general(w, req, st, link, rotate) // TCP is not rate-limited
	st.fillAfterMiss(q, a)
	if resp := a.resp; resp != nil {
		t.handler.observe(w, req, resp, st, link, time.Since(start))
	}
	return !w.closed
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

// tcpWriter is the dns.ResponseWriter of a connection for the queries the
// handler answers. Replies are framed into the connection's buffer, which
// is flushed when no query is left waiting.
type tcpWriter struct {
	conn   net.Conn
	bw     *bufio.Writer
	tsig   tsigSession
	closed bool
}

func (w *tcpWriter) writeFrame(b []byte) error {
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

func (w *tcpWriter) WriteMsg(m *dns.Msg) error {
	b, err := w.tsig.pack(m)
	if err != nil {
		return err
	}
	return w.writeFrame(b)
}

func (w *tcpWriter) Write(b []byte) (int, error) { return len(b), w.writeFrame(b) }

func (w *tcpWriter) LocalAddr() net.Addr   { return w.conn.LocalAddr() }
func (w *tcpWriter) RemoteAddr() net.Addr  { return w.conn.RemoteAddr() }
func (w *tcpWriter) Network() string       { return "tcp" }
func (w *tcpWriter) TsigStatus() error     { return w.tsig.status }
func (w *tcpWriter) TsigTimersOnly(b bool) { w.tsig.timersOnly = b }
func (w *tcpWriter) Hijack()               {}
func (w *tcpWriter) Close() error          { w.closed = true; return w.bw.Flush() }
