//go:build linux

package transport

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/mxdns/mxdns/server/answer"
)

// A TCP connection on Linux is served as the UDP reader serves its
// socket: non-blocking reads and writes made with raw system calls inside
// the connection's RawConn callbacks, waiting for more inside the same
// RawConn.Read. Through net.Conn each query cost a read that came back
// empty before the goroutine parked, two deadline resets, and a read and
// a write that, taking longer than a sysmon tick, had their P handed off
// and a thread woken: with GOMAXPROCS 1 that was about a quarter of the
// CPU per answer (perf, 40,000 q/s over 8 connections). Here a read shorter than
// the buffer says the socket is drained, so the goroutine parks at once
// (edge-triggered readiness ends the wait for anything sent since); a
// raw call never leaves the P, so sysmon has nothing to take back; and
// the idle deadline is moved only when it has fallen an eighth behind.

const (
	tcpInBuf    = 16 << 10 // grows to hold a larger frame whole
	tcpOutFlush = 64 << 10 // a transfer's replies are written in pieces of about this
)

var errTCPWrite = errors.New("tcp write failed")

type tcpConn struct {
	t    *tcpServer
	conn net.Conn // its deadlines and addresses; reads and writes go through rc
	rc   syscall.RawConn
	req  *answer.Request

	in       []byte // in[off:end] is received, not yet answered
	off, end int
	out      []byte // framed replies, out[sent:] not yet written
	sent     int
	stop     bool // the connection ends: EOF, an error, or the pipeline's word

	accepted   time.Time
	answered   bool      // a query has been answered: the idle timeout applies
	frameStart time.Time // when the frame in[off:end] was first seen unfinished
	readBy     time.Time // the read deadline set

	readFn, writeFn func(fd uintptr) bool
}

// serveRaw serves conn if it is a socket (a TCP connection, counted by
// the limit listener or not), and says whether it did.
func (t *tcpServer) serveRaw(conn net.Conn) bool {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	c := &tcpConn{t: t, conn: conn, rc: rc, in: make([]byte, tcpInBuf), accepted: time.Now()}
	c.req = &answer.Request{Listen: t.addr, Peer: c, Stream: c, Out: make([]byte, 0, 4096)}
	c.readFn, c.writeFn = c.onReadable, c.onWritable
	c.serve()
	return true
}

// serve answers until the connection ends. Between reads it waits for
// room to write when a write could not finish; returning from the read
// callback after every full buffer also lets a Close take effect while a
// client floods the connection.
func (c *tcpConn) serve() {
	for !c.stop {
		if c.sent < len(c.out) && !c.flushWait() {
			return
		}
		c.armReadDeadline()
		if err := c.rc.Read(c.readFn); err != nil {
			return // the read deadline passed, or the connection was closed
		}
	}
}

// onReadable is the read callback: it reads what has arrived, answers
// every whole query and writes the replies. It returns false to wait
// for more once a read came back short (the socket is drained; anything
// sent since raises a new event, as the sockets are edge-triggered), and
// true when the connection ends, a write must wait for room, or the read
// filled the buffer.
func (c *tcpConn) onReadable(fd uintptr) bool {
	c.makeRoom()
	var n uintptr
	var errno syscall.Errno
	for {
		n, _, errno = unix.RawSyscall(unix.SYS_READ, fd, uintptr(unsafe.Pointer(&c.in[c.end])), uintptr(len(c.in)-c.end))
		if errno != unix.EINTR {
			break
		}
	}
	switch {
	case errno == unix.EAGAIN:
		c.armReadDeadline()
		return false
	case errno != 0 || n == 0: // an error, or EOF
		c.stop = true
		return true
	}
	c.end += int(n)
	drained := c.end < len(c.in)
	c.answerFrames()
	if c.stop || !c.writeOut(fd) || !drained {
		return true
	}
	c.armReadDeadline()
	return false
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
// begun must be whole within tcpReadTimeout of its start, the first query
// within tcpReadTimeout of the accept, and the next one within
// tcpIdleTimeout. The idle deadline is only moved once it has fallen an
// eighth of the timeout behind, so a busy connection rarely touches the
// runtime's timers; a silent one is closed between 7/8 and all of it.
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

// writeOut writes what is waiting without waiting itself. It returns
// false if the socket has no room for the rest, true when all is written
// or the connection failed (stop set).
func (c *tcpConn) writeOut(fd uintptr) bool {
	for c.sent < len(c.out) {
		n, _, errno := unix.RawSyscall(unix.SYS_WRITE, fd, uintptr(unsafe.Pointer(&c.out[c.sent])), uintptr(len(c.out)-c.sent))
		switch errno {
		case 0:
			c.sent += int(n)
		case unix.EINTR:
		case unix.EAGAIN:
			return false
		default:
			c.stop = true
			return true
		}
	}
	c.out, c.sent = c.out[:0], 0
	return true
}

func (c *tcpConn) onWritable(fd uintptr) bool { return c.writeOut(fd) }

// flushWait writes what is waiting, waiting for room at most
// tcpWriteTimeout: a client that stops reading is disconnected.
func (c *tcpConn) flushWait() bool {
	c.conn.SetWriteDeadline(time.Now().Add(tcpWriteTimeout))
	if err := c.rc.Write(c.writeFn); err != nil {
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
