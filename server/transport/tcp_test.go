package transport

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/zone"
)

// startTCP serves the test config over TCP with the real handler.
func startTCP(t *testing.T) (*tcpServer, string) {
	t.Helper()
	srv := testConfigServer(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return serveTCP(t, srv, ln, nil), ln.Addr().String()
}

func testConfigServer(t *testing.T) *Listeners {
	t.Helper()
	snap, diags := zone.FromYAML("t.yaml", []byte(testConfig), nil)
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	return testServer(t, snap)
}

// serveTCP serves ln for srv with the real answer pipeline until the
// test ends; a, when not nil, stands in for it.
func serveTCP(t *testing.T, srv *Listeners, ln net.Listener, a Answerer) *tcpServer {
	t.Helper()
	if a == nil {
		a = srv.answers
	}
	ts := newTCPServer(srv, "127.0.0.1:0", ln, a)
	done := make(chan struct{})
	go func() {
		defer close(done)
		ts.serve()
	}()
	t.Cleanup(func() {
		ts.close()
		<-done
	})
	return ts
}

// TestTCPPipelinedAnswersInOrder sends many queries in one write and
// expects every reply, in order, each matching the general path.
func TestTCPPipelinedAnswersInOrder(t *testing.T) {
	ts, addr := startTCP(t)
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))

	names := []string{"example.com.", "MX1.example.com.", "nope.example.com.", "example.org.", "example.com."}
	var batch []byte
	var queries [][]byte
	for i := 0; i < 40; i++ {
		m := new(dns.Msg)
		m.SetQuestion(names[i%len(names)], dns.TypeMX)
		m.Id = uint16(i)
		if i%7 == 3 {
			m.Opcode = dns.OpcodeNotify // the handler's business
		}
		b, _ := m.Pack()
		queries = append(queries, b)
		batch = binary.BigEndian.AppendUint16(batch, uint16(len(b)))
		batch = append(batch, b...)
	}
	if _, err := conn.Write(batch); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	for i, q := range queries {
		var l [2]byte
		if _, err := io.ReadFull(br, l[:]); err != nil {
			t.Fatalf("reply %d: %v", i, err)
		}
		b := make([]byte, binary.BigEndian.Uint16(l[:]))
		if _, err := io.ReadFull(br, b); err != nil {
			t.Fatalf("reply %d: %v", i, err)
		}
		r := new(dns.Msg)
		if err := r.Unpack(b); err != nil {
			t.Fatalf("reply %d: %v", i, err)
		}
		if r.Id != uint16(i) {
			t.Fatalf("reply %d has id %d: out of order", i, r.Id)
		}
		if i%7 == 3 {
			if r.Rcode != dns.RcodeNotImplemented {
				t.Errorf("reply %d: rcode %d, want NOTIMP for NOTIFY of a zone we are primary for", i, r.Rcode)
			}
			continue
		}
		// The general path's reply, and the reply the config must give.
		general := new(dns.Msg)
		if err := general.Unpack(handlerReply(t, ts.srv, q, zone.NoLink, 1)); err != nil {
			t.Fatalf("reply %d: general path: %v", i, err)
		}
		label := fmt.Sprintf("reply %d (%s MX)", i, names[i%len(names)])
		if r.Question[0].Name != names[i%len(names)] {
			t.Errorf("%s: question %q", label, r.Question[0].Name)
		}
		sameReply(t, label+" vs the general path", r, general)
		sameReply(t, label, r, testConfigReply(t, ts.srv.state().Snap, names[i%len(names)], dns.TypeMX))
	}
}

// TestTCPSlowClientDoesNotBlockOthers holds a connection with half a
// length prefix while another client is answered, and is cut off after
// the read timeout.
func TestTCPSlowClientDoesNotBlockOthers(t *testing.T) {
	old := tcpReadTimeout
	tcpReadTimeout = 200 * time.Millisecond
	t.Cleanup(func() { tcpReadTimeout = old })
	_, addr := startTCP(t)
	slow, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	slow.Write([]byte{0}) // one byte of a length prefix, then nothing

	c := &dns.Client{Net: "tcp", Timeout: 10 * time.Second}
	m := new(dns.Msg)
	m.SetQuestion("example.com.", dns.TypeMX)
	if _, _, err := c.Exchange(m, addr); err != nil {
		t.Fatalf("other client: %v", err)
	}
	slow.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, err := slow.Read(make([]byte, 1)); err == nil {
		t.Fatal("slow client got data, want the connection closed")
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("slow client still connected after 20s, want it closed after the read timeout")
	}
}

// TestTCPQueryLargerThanTheFirstBuffer sends a query of 700 bytes (EDNS
// padding) and expects an answer: the read buffer starts smaller.
func TestTCPQueryLargerThanTheFirstBuffer(t *testing.T) {
	_, addr := startTCP(t)
	m := new(dns.Msg)
	m.SetQuestion("example.com.", dns.TypeMX)
	m.SetEdns0(1232, false)
	opt := m.IsEdns0()
	opt.Option = append(opt.Option, &dns.EDNS0_PADDING{Padding: make([]byte, 640)})
	c := &dns.Client{Net: "tcp", Timeout: 5 * time.Second}
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatal(err)
	}
	if r.Id != m.Id || r.Rcode != dns.RcodeSuccess || len(r.Answer) == 0 {
		t.Fatalf("reply: %v", r)
	}
}
