package transport

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"syscall"
	"time"

	"github.com/mxdns/mxdns/server/answer"
)

// tcpConn is one TCP connection: it reads every query a client has
// pipelined, answers each through the answer pipeline UDP uses too
// (answer.Answerer: from the cache when it can), which writes every
// message to the connection as a frame, and writes the replies of what
// one read brought with one write: a busy connection costs a read and a
// write per batch, not per query. The framing, the timeouts and the
// flushing are here; how the bytes move is the loop's: raw non-blocking
// calls on Linux (tcpconn_linux.go), net.Conn elsewhere and for the
// in-memory connections of tests (serveStream).
type tcpConn struct {
	t    *tcpServer
	conn net.Conn        // its deadlines and addresses; net.Conn's reads and writes when rc is nil
	rc   syscall.RawConn // the socket, on Linux

	req *answer.Request

	in       []byte // in[off:end] is received, not yet answered
	off, end int
	out      []byte // framed replies, out[sent:] not yet written
	sent     int
	stop     bool // the connection ends: EOF, an error, or the pipeline's word

	accepted   time.Time
	answered   bool      // a query has been answered: the idle timeout applies
	frameStart time.Time // when the frame in[off:end] was first seen unfinished
	readBy     time.Time // the read deadline set

	readFn, writeFn func(fd uintptr) bool // the raw loop's callbacks, made once
}

const (
	tcpInBuf    = 16 << 10 // grows to hold a larger frame whole
	tcpOutFlush = 64 << 10 // a transfer's replies are written in pieces of about this
)

var errTCPWrite = errors.New("tcp write failed")

// serveConn serves one connection until it ends.
func (t *tcpServer) serveConn(conn net.Conn) {
	c := &tcpConn{t: t, conn: conn, in: make([]byte, tcpInBuf), accepted: time.Now()}
	c.req = &answer.Request{Listen: t.addr, Peer: c, Stream: c, Out: make([]byte, 0, 4096)}
	if rc := rawConnOf(conn); rc != nil {
		c.serveRaw(rc)
		return
	}
	c.serveStream()
}

// serveStream is the loop through net.Conn: a read, the answers to the
// whole queries it completed, and one write of their replies.
func (c *tcpConn) serveStream() {
	for !c.stop {
		c.makeRoom()
		c.armReadDeadline()
		n, err := c.conn.Read(c.in[c.end:])
		c.end += n
		c.answerFrames()
		if !c.stop && c.sent < len(c.out) {
			c.flushWait()
		}
		if err != nil {
			return // EOF, the read deadline passed, or the connection was closed
		}
	}
}

// makeRoom moves an unfinished frame to the front of the buffer when
// little room is left behind it or the frame would not fit, and grows
// the buffer for a frame larger than it.
func (c *tcpConn) makeRoom() {
	if c.off == c.end {
		c.off, c.end = 0, 0
		return
	}
	need := 2
	if c.end-c.off >= 2 {
		need += int(binary.BigEndian.Uint16(c.in[c.off:]))
	}
	if len(c.in)-c.end >= 2<<10 && c.off+need <= len(c.in) {
		return
	}
	buf := c.in
	if need > len(buf) {
		buf = make([]byte, need)
	}
	c.end = copy(buf, c.in[c.off:c.end])
	c.off, c.in = 0, buf
}

// answerFrames answers every whole query in the buffer, in order.
func (c *tcpConn) answerFrames() {
	for !c.stop && c.end-c.off >= 2 {
		size := int(binary.BigEndian.Uint16(c.in[c.off:]))
		if c.end-c.off < 2+size {
			break
		}
		c.req.Query, c.req.Rotate = c.in[c.off+2:c.off+2+size], c.t.srv.rotate.Add(1)
		c.off += 2 + size
		c.answered, c.frameStart = true, time.Time{}
		if _, keep := c.t.answers.Answer(c.t.srv.state(), c.req); !keep {
			c.stop = true
		}
	}
}

// armReadDeadline sets the deadline of the wait that follows: a frame
// begun must be whole within tcpReadTimeout of its start (a client that
// sends one byte of the length, or trickles a query, is cut off: each
// byte buys it nothing), the first query within tcpReadTimeout of the
// accept, and the next one within tcpIdleTimeout. The idle deadline is
// only moved once it has fallen an eighth of the timeout behind, so a
// busy connection rarely touches the runtime's timers; a silent one is
// closed between 7/8 and all of it.
func (c *tcpConn) armReadDeadline() {
	now := time.Now()
	var by time.Time
	switch {
	case c.end > c.off:
		if c.frameStart.IsZero() {
			c.frameStart = now
		}
		by = c.frameStart.Add(tcpReadTimeout)
	case !c.answered:
		by = c.accepted.Add(tcpReadTimeout)
	default:
		by = now.Add(tcpIdleTimeout)
		if !c.readBy.After(by) && by.Sub(c.readBy) < tcpIdleTimeout/8 {
			return
		}
	}
	if !by.Equal(c.readBy) {
		c.readBy = by
		c.conn.SetReadDeadline(by)
	}
}

// flushWait writes what is waiting, waiting for room at most
// tcpWriteTimeout: a client that stops reading is disconnected. It
// returns false, and sets stop, if the connection failed.
func (c *tcpConn) flushWait() bool {
	c.conn.SetWriteDeadline(time.Now().Add(tcpWriteTimeout))
	var err error
	if c.rc != nil {
		err = c.rc.Write(c.writeFn)
	} else if _, err = c.conn.Write(c.out[c.sent:]); err == nil {
		c.out, c.sent = c.out[:0], 0
	}
	if err != nil {
		c.stop = true
	}
	return !c.stop
}

// WriteFrame adds one message with its length (answer.Stream). Inside a
// transfer, every tcpOutFlush bytes are written before more are packed,
// each piece with its own write timeout.
func (c *tcpConn) WriteFrame(b []byte) error {
	if len(b) > 0xFFFF {
		return errors.New("reply larger than a TCP frame")
	}
	c.out = binary.BigEndian.AppendUint16(c.out, uint16(len(b)))
	c.out = append(c.out, b...)
	if len(c.out)-c.sent >= tcpOutFlush && !c.flushWait() {
		return errTCPWrite
	}
	return nil
}

// Close sends what is waiting: the exchange that closed the stream (a
// transfer) is done, and the connection ends after it.
func (c *tcpConn) Close() error {
	if c.sent < len(c.out) && !c.flushWait() {
		return errTCPWrite
	}
	return nil
}

func (c *tcpConn) Addr() netip.Addr {
	a, _ := answer.AddrOf(c.conn.RemoteAddr())
	return a
}
func (c *tcpConn) RemoteAddr() net.Addr { return c.conn.RemoteAddr() }
func (c *tcpConn) LocalAddr() net.Addr  { return c.conn.LocalAddr() }
