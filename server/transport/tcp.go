package transport

import (
	"net"
	"sync"
	"time"
)

// The TCP server accepts connections, limits them and closes them; each
// connection is served by tcpConn (tcpconn.go).

// tcpServer serves one TCP listener.
type tcpServer struct {
	srv     *Listeners
	addr    string // as configured: maps the arrival to a link
	ln      net.Listener
	answers Answerer

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	done  bool
	wg    sync.WaitGroup
}

func newTCPServer(srv *Listeners, addr string, ln net.Listener, a Answerer) *tcpServer {
	return &tcpServer{srv: srv, addr: addr, ln: ln, answers: a, conns: make(map[net.Conn]struct{})}
}

// serve accepts connections until close. A failed accept (out of file
// descriptors, say) is retried after a growing pause, as net/http does:
// giving up would end TCP service for good while UDP goes on.
func (t *tcpServer) serve() {
	var delay time.Duration
	for {
		conn, err := t.ln.Accept()
		if err != nil {
			if t.closing() {
				return
			}
			if delay == 0 {
				delay = 5 * time.Millisecond
				t.srv.log.Warn("accept failed, retrying", "listen", t.addr, "err", err)
			} else {
				delay = min(2*delay, time.Second)
			}
			time.Sleep(delay)
			continue
		}
		delay = 0
		if !t.track(conn) {
			conn.Close()
			return
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
