//go:build !linux

package transport

import (
	"net"
	"syscall"
)

// rawConnOf is Linux's; elsewhere every connection is served through
// net.Conn (serveStream).
func rawConnOf(net.Conn) syscall.RawConn { return nil }

func (c *tcpConn) serveRaw(syscall.RawConn) { c.serveStream() }
