package server

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"runtime/debug"
	"time"

	"github.com/miekg/dns"
)

// peer is what the UDP readers know of a datagram's sender.
type peer interface {
	addr() netip.Addr  // without allocating, for rate limiting
	udpAddr() net.Addr // for the general path's ResponseWriter
	localAddr() net.Addr
}

// worthAnswer drops, and counts, datagrams that must get no reply: those
// shorter than a header, and responses (answering them invites loops).
func (s *Server) worthAnswer(query []byte) bool {
	switch {
	case len(query) < headerLen:
		s.counters.udpShort.Add(1)
		return false
	case query[2]&flagQR != 0:
		s.counters.udpResponse.Add(1)
		return false
	}
	return true
}

// answerDatagram is the reply to one UDP query, or nil for none. A plain
// query whose reply is cached costs a parse, a copy and a patch; anything
// else goes to the handler, the general path, whose reply the cache
// then keeps if the question missed before. Either reply is then rate-limited, here and only here. A panic
// anywhere becomes no reply and a count, never a dead reader.
func (s *Server) answerDatagram(st *state, query []byte, listen string, at *arrival, rotate uint32, from peer, q *wireQuery, out []byte) (reply []byte) {
	defer func() {
		if v := recover(); v != nil {
			s.notePanic(v, listen)
			reply = servfailBytes(query)
		}
	}()
	start := time.Now()
	link := at.of(st, listen)
	if fast, e := st.fastAnswer(query, link, rotate, true, q, out); e != nil {
		if fast = s.limit(&st.rrl, from, e.kind, fast); fast != nil {
			s.metrics.query(q.qtype, uint16(fast[3]&0x0F), true, st.linkName(link), time.Since(start))
		}
		return fast
	}
	req := new(dns.Msg)
	if err := req.Unpack(query); err != nil || malformed(req, query) {
		return formErr(query)
	}
	w := &udpWriter{local: from.localAddr(), remote: from.udpAddr()}
	w.tsig.prepare(req, query, s.keys)
	h := handler{srv: s, addr: listen, udp: true}
	a := h.serve(w, req, st, link, rotate)
	st.fillAfterMiss(q, a)
	resp, kind := a.resp, a.kind
	// Not limited: the reply to a request whose TSIG verified, which no
	// spoofer can send; below, a FORMERR without a question, no larger
	// than the query and so nothing to amplify.
	signed := req.IsTsig() != nil && w.tsig.status == nil
	if resp == nil {
		// A transfer: its refusals are limited like any error, transfers
		// to allowed clients never.
		if kind.kind == kindError && !signed && len(w.out) > 0 {
			return s.limit(&st.rrl, from, kind, w.out)
		}
		return w.out
	}
	if len(resp.Question) == 1 && len(w.out) > 0 && !signed {
		if w.out = s.limit(&st.rrl, from, kind, w.out); w.out == nil {
			return nil
		}
	}
	h.observe(w, req, resp, st, link, time.Since(start))
	return w.out
}

// arrival is the link of the listen address datagrams came in on, for
// a reader to look up once per batch rather than once per datagram: its
// state and address are the same for the whole batch. The first datagram
// answered looks it up, inside answerDatagram's recover, so that even a
// panic there costs one reply, not the reader.
type arrival struct {
	link  int
	known bool
}

func (a *arrival) of(st *state, listen string) int {
	if !a.known {
		a.link, a.known = st.snap.ListenLink(listen), true
	}
	return a.link
}

// notePanic counts a recovered panic and logs it, at most once a
// minute, with its stack.
func (s *Server) notePanic(v any, listen string) {
	s.counters.panics.Add(1)
	now := time.Now().UnixNano()
	if last := s.panicLog.Load(); now-last >= int64(panicLogEvery) && s.panicLog.CompareAndSwap(last, now) {
		s.log.Error("handler panic, answered SERVFAIL", "listen", listen, "panic", fmt.Sprint(v),
			"panics", s.counters.panics.Load(), "stack", string(debug.Stack()))
	}
}

// servfailBytes is SERVFAIL for a raw query whose answer could not be
// built, or nil when even the query cannot be read.
func servfailBytes(query []byte) []byte {
	req := new(dns.Msg)
	if err := req.Unpack(query); err != nil || req.Response {
		return nil
	}
	b, err := servfail(req).Pack()
	if err != nil {
		return nil
	}
	return b
}

// udpWriter is the ResponseWriter the handler answers a datagram through:
// it keeps the reply for the reader's next sendmmsg.
type udpWriter struct {
	local, remote net.Addr
	tsig          tsigSession
	out           []byte
}

func (w *udpWriter) WriteMsg(m *dns.Msg) error {
	b, err := w.tsig.pack(m)
	if err != nil {
		return err
	}
	w.out = b
	return nil
}

func (w *udpWriter) Write(b []byte) (int, error) {
	w.out = bytes.Clone(b)
	return len(b), nil
}

func (w *udpWriter) LocalAddr() net.Addr   { return w.local }
func (w *udpWriter) RemoteAddr() net.Addr  { return w.remote }
func (w *udpWriter) Network() string       { return "udp" }
func (w *udpWriter) TsigStatus() error     { return w.tsig.status }
func (w *udpWriter) TsigTimersOnly(b bool) { w.tsig.timersOnly = b }
func (w *udpWriter) Hijack()               {}
func (w *udpWriter) Close() error          { return nil }

// tsigSession is the TSIG state of one exchange, kept by our
// ResponseWriters the way miekg/dns keeps it: the request verified with
// the server's keyring, replies signed with the request's MAC.
type tsigSession struct {
	provider   dns.TsigProvider
	status     error
	requestMAC string
	timersOnly bool
}

func (t *tsigSession) prepare(req *dns.Msg, raw []byte, provider dns.TsigProvider) {
	*t = tsigSession{provider: provider}
	if rr := req.IsTsig(); rr != nil {
		t.requestMAC = rr.MAC
		t.status = dns.TsigVerifyWithProvider(raw, provider, "", false)
	}
}

func (t *tsigSession) pack(m *dns.Msg) ([]byte, error) {
	if m.IsTsig() == nil || t.provider == nil {
		return m.Pack()
	}
	b, mac, err := dns.TsigGenerateWithProvider(m, t.provider, t.requestMAC, t.timersOnly)
	t.requestMAC = mac
	return b, err
}
