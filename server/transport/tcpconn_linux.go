//go:build linux

package transport

import (
	"net"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A TCP connection on Linux is served as the UDP reader serves its
// socket: non-blocking reads and writes made with raw system calls inside
// the connection's RawConn callbacks, waiting for more inside the same
// RawConn.Read. Through net.Conn a read and a write that took longer
// than a sysmon tick had their P handed off and a thread woken: with
// GOMAXPROCS 1 that was about a quarter of the CPU per answer (perf,
// 40,000 q/s over 8 connections). A raw call never leaves the P, so
// sysmon has nothing to take back.

// rawConnOf is the socket of conn (a TCP connection, counted by the limit
// listener or not), or nil for a connection that has none.
func rawConnOf(conn net.Conn) syscall.RawConn {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}

// serveRaw answers until the connection ends. Between reads it waits for
// room to write when a write could not finish; returning from the read
// callback after every full buffer also lets a Close take effect while a
// client floods the connection.
func (c *tcpConn) serveRaw(rc syscall.RawConn) {
	c.rc = rc
	c.readFn, c.writeFn = c.onReadable, c.writeOut
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
// every whole query and writes the replies, until a read finds the
// socket empty (EAGAIN: it returns false, to wait). A read shorter than
// the buffer drained the data but not necessarily the client's FIN, which
// may have come with it in one edge-triggered event: only the next read
// tells. It returns true when the connection ends, a write must wait for
// room, or a read filled the buffer (serveRaw comes back).
func (c *tcpConn) onReadable(fd uintptr) bool {
	for {
		c.makeRoom()
		n, _, errno := unix.RawSyscall(unix.SYS_READ, fd, uintptr(unsafe.Pointer(&c.in[c.end])), uintptr(len(c.in)-c.end))
		switch {
		case errno == unix.EINTR:
			continue
		case errno == unix.EAGAIN:
			c.armReadDeadline()
			return false
		case errno != 0 || n == 0: // an error, or EOF
			c.stop = true
			return true
		}
		c.end += int(n)
		full := c.end == len(c.in)
		c.answerFrames()
		if c.stop || !c.writeOut(fd) || full {
			return true
		}
	}
}

// writeOut writes what is waiting without waiting itself; it is the
// write callback too. It returns false if the socket has no room for the
// rest, true when all is written or the connection failed (stop set).
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
