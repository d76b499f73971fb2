package transport

import (
	"net"
	"testing"

	"github.com/mxdns/mxdns/server/answer"
)

// TestTCPServedConnectionsTakeTheRawPath: the connections the server
// serves come through its limit listener, wrapped to be counted; they
// must still give their socket to the raw path, or every test of that
// path tests nothing the server runs.
func TestTCPServedConnectionsTakeTheRawPath(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	lim := &connLimit{c: new(answer.Counters)}
	lim.max.Store(1)
	ll := limitListener{Listener: ln, lim: lim}
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	conn, err := ll.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if rawConnOf(conn) == nil {
		t.Fatalf("%T was not served by the raw path", conn)
	}
}
