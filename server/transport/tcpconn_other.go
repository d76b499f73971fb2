//go:build !linux

package transport

import "net"

// serveRaw is Linux's; elsewhere every connection is served through
// net.Conn.
func (t *tcpServer) serveRaw(net.Conn) bool { return false }
