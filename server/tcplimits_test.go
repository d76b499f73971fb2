package server

import (
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

const tcpLimitConfig = `listen: ["127.0.0.1:0"]
tcp_max_conns: 2
zones:
  example.com:
    ns: [ns1]
    records:
      ns1: {a: 203.0.113.53}
`

func dialTCP(t *testing.T, s *Server) *dns.Conn {
	t.Helper()
	c, err := dns.DialTimeout("tcp", s.Addrs()[0].TCP.String(), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// tryTCP connects and asks one question; a refused or reset connection
// is an error like any other (the server resets connections over the
// limit, which can reach the client before its connect completes).
func tryTCP(s *Server) error {
	c, err := dns.DialTimeout("tcp", s.Addrs()[0].TCP.String(), 10*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	return tcpQuery(c)
}

// tcpQuery asks one question on c and reports the error, if any.
func tcpQuery(c *dns.Conn) error {
	c.SetDeadline(time.Now().Add(10 * time.Second))
	m := query("ns1.example.com.", dns.TypeA)
	if err := c.WriteMsg(m); err != nil {
		return err
	}
	r, err := c.ReadMsg()
	if err != nil {
		return err
	}
	if r.Id != m.Id || len(r.Answer) != 1 {
		return errors.New("wrong answer: " + r.String())
	}
	return nil
}

func TestTCPMaxConns(t *testing.T) {
	s, _, _ := startServer(t, tcpLimitConfig)
	a, b := dialTCP(t, s), dialTCP(t, s)
	for _, c := range []*dns.Conn{a, b} {
		if err := tcpQuery(c); err != nil {
			t.Fatal(err)
		}
	}
	if err := tryTCP(s); err == nil {
		t.Fatal("a third connection was served with tcp_max_conns: 2")
	}
	if s.RateLimitStats().TCPRejected == 0 {
		t.Error("rejected connection not counted")
	}
	// A slot freed is usable again (once the server has seen the close).
	a.Close()
	deadline := time.Now().Add(20 * time.Second)
	for tryTCP(s) != nil {
		if time.Now().After(deadline) {
			t.Fatal("freed slot never reused")
		}
	}
}

// TestSlowlorisDoesNotBlock: a client that sends one byte of the length
// prefix and stalls neither blocks other clients nor keeps its slot.
func TestSlowlorisDoesNotBlock(t *testing.T) {
	s, _, _ := startServer(t, tcpLimitConfig)
	slow, err := net.Dial("tcp", s.Addrs()[0].TCP.String())
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	if _, err := slow.Write([]byte{0}); err != nil {
		t.Fatal(err)
	}
	if err := tcpQuery(dialTCP(t, s)); err != nil {
		t.Fatalf("a fast client waits behind a slow one: %v", err)
	}
	slow.SetReadDeadline(time.Now().Add(30 * time.Second)) // well past the server's 2 s read timeout
	if _, err := slow.Read(make([]byte, 1)); !errors.Is(err, io.EOF) && !isReset(err) {
		t.Fatalf("slow client not disconnected after the read timeout: %v", err)
	}
}

func isReset(err error) bool { return err != nil && strings.Contains(err.Error(), "reset") }

// TestTCPMaxConnsPerSource: one client prefix holds at most its share of
// the TCP slots, and another prefix is still served while it does.
func TestTCPMaxConnsPerSource(t *testing.T) {
	config := strings.Replace(tcpLimitConfig, "tcp_max_conns: 2\n", "tcp_max_conns: 10\ntcp_max_conns_per_source: 2\n", 1)
	s, _, _ := startServer(t, config)
	from := func(ip string) (*dns.Conn, error) {
		d := net.Dialer{Timeout: 20 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
		c, err := d.Dial("tcp", s.Addrs()[0].TCP.String())
		if err != nil {
			return nil, err
		}
		t.Cleanup(func() { c.Close() })
		return &dns.Conn{Conn: c}, nil
	}
	var held []*dns.Conn
	for range 2 {
		c, err := from("127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		if err := tcpQuery(c); err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	// The same /24, another address: over its share.
	if c, err := from("127.0.0.9"); err == nil && tcpQuery(c) == nil {
		t.Fatal("a third connection from 127.0.0.0/24 was served with tcp_max_conns_per_source: 2")
	}
	if s.RateLimitStats().TCPRejected == 0 {
		t.Error("rejected connection not counted")
	}
	// Another /24 is served.
	c, err := from("127.0.1.1")
	if err != nil {
		t.Fatal(err)
	}
	if err := tcpQuery(c); err != nil {
		t.Fatalf("another source refused while 127.0.0.0/24 holds its share: %v", err)
	}
	// A connection closed gives its source's slot back.
	held[0].Close()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := from("127.0.0.1")
		if err == nil && tcpQuery(c) == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("freed per-source slot never reused")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
