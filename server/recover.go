package server

import (
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// panicLogEvery spaces out panic logs: a packet that panics the handler
// can be sent a million times, its stack is worth logging once.
const panicLogEvery = time.Minute

// guard wraps a listener's handler: a panic while answering becomes a
// SERVFAIL, a counter and (rate-limited) one log line with the stack; a
// UDP query gives its worker slot back however it ends.
type guard struct {
	h       *handler
	lastLog *atomic.Int64
}

func (g guard) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	s := g.h.srv
	defer func() {
		if v := recover(); v != nil {
			s.notePanic(v, g.h.addr)
			w.WriteMsg(servfail(req))
		}
	}()
	g.h.ServeDNS(w, req)
}

// servfail is the reply to a query whose answer could not be built.
func servfail(req *dns.Msg) *dns.Msg {
	m := header(req)
	m.Rcode = dns.RcodeServerFailure
	return withEDNS(m, req)
}
