package server

import (
	"fmt"
	"runtime/debug"
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
	if g.h.udp {
		defer s.gate.release()
	}
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		s.counters.panics.Add(1)
		now := time.Now().UnixNano()
		if last := g.lastLog.Load(); now-last >= int64(panicLogEvery) && g.lastLog.CompareAndSwap(last, now) {
			s.log.Error("handler panic, answered SERVFAIL", "listen", g.h.addr, "panic", fmt.Sprint(v),
				"panics", s.counters.panics.Load(), "stack", string(debug.Stack()))
		}
		w.WriteMsg(servfail(req))
	}()
	g.h.ServeDNS(w, req)
}

// servfail is the reply to a query whose answer could not be built.
func servfail(req *dns.Msg) *dns.Msg {
	m := header(req)
	m.Rcode = dns.RcodeServerFailure
	return withEDNS(m, req)
}
