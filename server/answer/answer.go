// Package answer turns a query's bytes into its reply's bytes against a
// State: header and EDNS checks, the lookup, truncation, the answer
// cache and its fast path, response rate limiting, and transfers handed
// to xfr. It opens no socket: the UDP and TCP transports, and the tests,
// all call Answerer.Answer, the one answer pipeline.
package answer

import (
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/server/ops"
	"github.com/mxdns/mxdns/zone"
)

// Metrics counts what the answers did; the server's metrics registry
// implements it. A query is counted once it is answered.
type Metrics interface {
	Query(qtype, rcode uint16, kind ops.AnswerKind, udp bool, link string, d time.Duration)
	Transfer(kind, result string)
}

type noMetrics struct{}

func (noMetrics) Query(uint16, uint16, ops.AnswerKind, bool, string, time.Duration) {}
func (noMetrics) Transfer(string, string)                                           {}

// Transfers serves AXFR and IXFR (xfr.Server): a one-message reply comes
// back to be sent here, a full transfer is streamed through w.
type Transfers interface {
	Serve(w dns.ResponseWriter, req, m *dns.Msg, snap *zone.Snapshot, udp bool, client netip.Addr,
		sign func(origin string, rrs []dns.RR) ([]dns.RR, error)) (reply *dns.Msg, refused bool)
}

// Counters are the hardening counters, bumped lock-free on the query
// path. The owner reads them for metrics; the transports bump the TCP
// one.
type Counters struct {
	RRLDropped, RRLSlipped atomic.Uint64
	UDPShort, UDPResponse  atomic.Uint64
	TCPRejected, Panics    atomic.Uint64
}

// Config is what an Answerer is given: nothing of the server that owns
// it but these handles.
type Config struct {
	Log       *slog.Logger
	Keys      dns.TsigProvider // verifies and signs TSIG
	Transfers Transfers
	// Updates applies UPDATEs; nil answers every one NOTIMP.
	Updates  Updates
	Metrics  Metrics
	Counters *Counters
	// Warn logs a warning a client can provoke at will, throttled.
	Warn func(msg string, args ...any)
	// Now is the rate limiter's clock; nil is time.Now (tests stop it).
	Now func() time.Time
}

// Answerer answers queries; it holds what outlives one State: the rate
// limiter's buckets and the counters.
type Answerer struct {
	log       *slog.Logger
	keys      dns.TsigProvider
	transfers Transfers
	updates   Updates
	metrics   Metrics
	counters  *Counters
	warn      func(msg string, args ...any)
	rrl       *limiter
	panicLog  atomic.Int64
	// general is the general path: a field only so that tests can put
	// one that panics in its place.
	general func(h *handler, w dns.ResponseWriter, req *dns.Msg, st *State, link int, rotate uint32) answered
}

// New makes an Answerer from cfg.
func New(cfg Config) *Answerer {
	a := &Answerer{log: cfg.Log, keys: cfg.Keys, transfers: cfg.Transfers, updates: cfg.Updates, metrics: cfg.Metrics,
		counters: cfg.Counters, warn: cfg.Warn, rrl: newLimiter(), general: (*handler).serve}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.counters == nil {
		a.counters = new(Counters)
	}
	if a.warn == nil {
		a.warn = a.log.Warn
	}
	if a.metrics == nil {
		a.metrics = noMetrics{}
	}
	if cfg.Now != nil {
		a.rrl.now = cfg.Now
	}
	return a
}

// Peer is the other end of a query, as the transport knows it.
type Peer interface {
	Addr() netip.Addr // without allocating, for rate limiting
	RemoteAddr() net.Addr
	LocalAddr() net.Addr
}

// Stream is a TCP connection: every message of an exchange is written to
// it as a frame, and Close ends the connection once the exchange is done
// (after a transfer).
type Stream interface {
	WriteFrame(b []byte) error
	Close() error
}

// Request is one query as a transport hands it over. A transport keeps
// one per reader or connection and sets the first fields for each query:
// the rest is scratch space, so that a query the cache answers allocates
// nothing.
type Request struct {
	Query  []byte
	Listen string // the listen address as configured: it names the link
	Rotate uint32 // picks the order of rotated answers
	Peer   Peer
	// Stream is the connection of a TCP query; nil over UDP.
	Stream Stream
	// Out is the buffer a cached reply is copied into: a UDP reader gives
	// the one of the reply's slot, a TCP connection keeps the one Answer
	// leaves, grown to its largest reply.
	Out []byte
	// Arrival caches the link of Listen for the state it was found in.
	Arrival Arrival
	wire    wireQuery
}

// Arrival is the link of the listen address a query came in on, looked
// up by the first query answered in a state and kept while the state is
// the same, so that a busy reader looks it up once per state, not per
// query. It knows the state by its number, not a pointer: a reader that
// goes idle must not keep an old snapshot alive. It is looked up inside
// Answer's recover, so that even a panic there costs one reply, not the
// reader.
type Arrival struct {
	link  int
	state uint64 // State.id; 0 for none
}

func (a *Arrival) of(st *State, listen string) int {
	if a.state != st.id || st.id == 0 {
		a.link, a.state = st.Snap.ListenLink(listen), st.id
	}
	return a.link
}

// Answer answers r from st, the one pipeline every transport calls. Over
// UDP (no Stream) it returns the reply to send, or nil for none; over
// TCP it writes every message to the Stream and returns nil, and keep
// false ends the connection. A plain query whose reply is cached costs a
// parse, a copy and a patch; anything else goes to the handler, the
// general path, whose reply the cache then keeps if the question missed
// before. UDP replies are rate-limited, here and only here. A panic
// anywhere becomes SERVFAIL and a count, never a dead reader.
func (a *Answerer) Answer(st *State, r *Request) (reply []byte, keep bool) {
	udp := r.Stream == nil
	defer func() {
		if v := recover(); v != nil {
			a.notePanic(v, r.Listen)
			reply, keep = a.send(r, servfailBytes(r.Query))
		}
	}()
	query := r.Query
	if udp && !a.worthAnswer(query) {
		return nil, true
	}
	start := monotonic()
	link := r.Arrival.of(st, r.Listen)
	q := &r.wire
	if fast, e := st.fastAnswer(query, link, r.Rotate, udp, q, r.Out); e != nil {
		if udp {
			fast = a.limit(&st.rrl, r.Peer, e.kind, fast)
		}
		if fast != nil {
			rcode := uint16(fast[3] & 0x0F)
			a.metrics.Query(q.qtype, rcode, e.kind.metricKind(rcode), udp, st.linkName(link), monotonic()-start)
		}
		if !udp {
			r.Out = fast[:0] // keep the grown buffer for the connection's next query
		}
		return a.send(r, fast)
	}
	req := new(dns.Msg)
	if err := req.Unpack(query); err != nil {
		return a.send(r, formErr(query))
	}
	if req.Response {
		return nil, true // never answer a response (UDP dropped it above)
	}
	if malformed(req, query) {
		return a.send(r, formErr(query))
	}
	w := &writer{peer: r.Peer, stream: r.Stream}
	w.tsig.prepare(req, query, a.keys)
	h := &handler{a: a, addr: r.Listen, udp: udp}
	ans := a.general(h, w, req, st, link, r.Rotate)
	st.fillAfterMiss(q, ans)
	if !udp {
		if resp := ans.resp; resp != nil {
			h.observe(w, req, resp, ans.kind, st, link, monotonic()-start)
		}
		return nil, !w.closed // TCP is not rate-limited
	}
	resp, kind := ans.resp, ans.kind
	// Not limited: the reply to a request whose TSIG verified, which no
	// spoofer can send; below, a FORMERR without a question, no larger
	// than the query and so nothing to amplify.
	signed := req.IsTsig() != nil && w.tsig.status == nil
	if resp == nil {
		// A transfer: its refusals are limited like any error, transfers
		// to allowed clients never.
		if kind.kind == kindError && !signed && len(w.out) > 0 {
			return a.limit(&st.rrl, r.Peer, kind, w.out), true
		}
		return w.out, true
	}
	if len(resp.Question) == 1 && len(w.out) > 0 && !signed {
		if w.out = a.limit(&st.rrl, r.Peer, kind, w.out); w.out == nil {
			return nil, true
		}
	}
	h.observe(w, req, resp, kind, st, link, monotonic()-start)
	return w.out, true
}

// clockBase makes monotonic a reading of the monotonic clock alone: a
// time.Since of a Time that has one reads that clock once, where
// time.Now reads the wall clock too. The latency of every query takes
// two readings.
var clockBase = time.Now()

func monotonic() time.Duration { return time.Since(clockBase) }

// send gives b to the transport: returned over UDP, written to the
// Stream over TCP, where no reply at all (a query that cannot even be
// read) ends the connection.
func (a *Answerer) send(r *Request, b []byte) ([]byte, bool) {
	if r.Stream == nil {
		return b, true
	}
	return nil, b != nil && r.Stream.WriteFrame(b) == nil
}

// worthAnswer drops, and counts, datagrams that must get no reply: those
// shorter than a header, and responses (answering them invites loops).
func (a *Answerer) worthAnswer(query []byte) bool {
	switch {
	case len(query) < headerLen:
		a.counters.UDPShort.Add(1)
		return false
	case query[2]&flagQR != 0:
		a.counters.UDPResponse.Add(1)
		return false
	}
	return true
}

// notePanic counts a recovered panic and logs it, at most once a
// minute, with its stack.
func (a *Answerer) notePanic(v any, listen string) {
	a.counters.Panics.Add(1)
	now := time.Now().UnixNano()
	if last := a.panicLog.Load(); now-last >= int64(panicLogEvery) && a.panicLog.CompareAndSwap(last, now) {
		a.log.Error("handler panic, answered SERVFAIL", "listen", listen, "panic", fmt.Sprint(v),
			"panics", a.counters.Panics.Load(), "stack", string(debug.Stack()))
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
