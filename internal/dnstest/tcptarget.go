package dnstest

import (
	"net"
	"testing"
)

// TCPTarget is a TCP health-check target on loopback that accepts and
// closes every connection until the test takes it down (Down), and can
// bring it back on the same port (Up).
type TCPTarget struct {
	t    testing.TB
	Addr string
	ln   net.Listener
}

// NewTCPTarget listens on a free loopback port until the test ends.
func NewTCPTarget(t testing.TB) *TCPTarget {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tt := &TCPTarget{t: t, Addr: ln.Addr().String()}
	tt.serve(ln)
	t.Cleanup(tt.Down)
	return tt
}

func (tt *TCPTarget) serve(ln net.Listener) {
	tt.ln = ln
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
}

// Down closes the port: checks get connection refused.
func (tt *TCPTarget) Down() {
	if tt.ln != nil {
		tt.ln.Close()
		tt.ln = nil
	}
}

// Up listens on the same port again.
func (tt *TCPTarget) Up() {
	ln, err := net.Listen("tcp", tt.Addr)
	if err != nil {
		tt.t.Fatalf("reopen health target: %v", err)
	}
	tt.serve(ln)
}
