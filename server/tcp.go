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
// are unpacked and handed to the ordinary dns.Handler through a small
// ResponseWriter, so transfers, NOTIFY and TSIG work as with miekg/dns.

// tcpServer serves one TCP listener.
type tcpServer struct {
	srv     *Server
	addr    string // as configured: maps the arrival to a link
	ln      net.Listener
	handler dns.Handler // everything the fast and general paths leave
	secrets func() map[string]string

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	done  bool
	wg    sync.WaitGroup
}

func newTCPServer(srv *Server, addr string, ln net.Listener, h dns.Handler) *tcpServer {
	return &tcpServer{srv: srv, addr: addr, ln: ln, handler: h, conns: make(map[net.Conn]struct{})}
}

func (t *tcpServer) serve() error {
	for {
		conn, err := t.ln.Accept()
		if err != nil {
			if t.closing() {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		if !t.track(conn) {
			conn.Close()
			return nil
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
	bw := bufio.NewWriterSize(conn, 16<<10)
	w := &tcpWriter{conn: conn, bw: bw}
	var (
		q      wireQuery
		lenBuf [2]byte
		msg    = make([]byte, 0, 512)
		out    = make([]byte, 0, 4096)
	)
	for {
		if br.Buffered() == 0 {
			// Nothing more has arrived: send what is answered, then wait.
			if bw.Buffered() > 0 {
				conn.SetWriteDeadline(time.Now().Add(tcpWriteTimeout))
				if bw.Flush() != nil {
					return
				}
			}
			conn.SetReadDeadline(time.Now().Add(tcpIdleTimeout))
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
		msg = msg[:size]
		if size > cap(msg) {
			msg = make([]byte, size)
		}
		if _, err := io.ReadFull(br, msg); err != nil {
			return
		}
		if !t.answer(conn, w, msg, &q, &out) {
			return
		}
	}
}

// answer replies to one query; false ends the connection.
func (t *tcpServer) answer(conn net.Conn, w *tcpWriter, query []byte, q *wireQuery, out *[]byte) bool {
	st := t.srv.state.Load()
	link := st.snap.ListenLink(t.addr)
	rotate := t.srv.rotate.Add(1)
	if parseWireQuery(query, link, q) {
		// A plain query: the cache, else the general path.
		reply := st.answer(query, link, rotate, false, q, *out)
		if cap(reply) >= cap(*out) {
			*out = reply[:0]
		}
		return reply == nil || w.writeFrame(reply) == nil
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
	w.prepare(req, query, t.secrets)
	t.handler.ServeDNS(w, req)
	return !w.closed
}

// tcpWriter is the dns.ResponseWriter of a connection for the queries the
// handler answers itself. It signs replies with TSIG as miekg/dns does
// when the query was signed.
type tcpWriter struct {
	conn net.Conn
	bw   *bufio.Writer

	tsigSecret     string
	tsigStatus     error
	tsigRequestMAC string
	tsigTimersOnly bool
	closed         bool
}

func (w *tcpWriter) prepare(req *dns.Msg, raw []byte, secrets func() map[string]string) {
	w.tsigSecret, w.tsigStatus, w.tsigRequestMAC, w.tsigTimersOnly = "", nil, "", false
	t := req.IsTsig()
	if t == nil {
		return
	}
	w.tsigRequestMAC = t.MAC
	var keys map[string]string
	if secrets != nil {
		keys = secrets()
	}
	secret, ok := keys[t.Hdr.Name]
	if !ok {
		w.tsigStatus = dns.ErrSecret
		return
	}
	w.tsigSecret = secret
	w.tsigStatus = dns.TsigVerify(raw, secret, "", false)
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
	var (
		b   []byte
		err error
	)
	if m.IsTsig() != nil && w.tsigSecret != "" {
		b, w.tsigRequestMAC, err = dns.TsigGenerate(m, w.tsigSecret, w.tsigRequestMAC, w.tsigTimersOnly)
	} else {
		b, err = m.Pack()
	}
	if err != nil {
		return err
	}
	return w.writeFrame(b)
}

func (w *tcpWriter) Write(b []byte) (int, error) { return len(b), w.writeFrame(b) }

func (w *tcpWriter) LocalAddr() net.Addr   { return w.conn.LocalAddr() }
func (w *tcpWriter) RemoteAddr() net.Addr  { return w.conn.RemoteAddr() }
func (w *tcpWriter) Network() string       { return "tcp" }
func (w *tcpWriter) TsigStatus() error     { return w.tsigStatus }
func (w *tcpWriter) TsigTimersOnly(b bool) { w.tsigTimersOnly = b }
func (w *tcpWriter) Hijack()               {}
func (w *tcpWriter) Close() error          { w.closed = true; return w.bw.Flush() }
