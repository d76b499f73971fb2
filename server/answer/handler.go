package answer

import (
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/server/xfr"
	"github.com/mxdns/mxdns/zone"
)

// ednsSize is the UDP payload size we advertise and read: the DNS Flag Day
// 2020 value, small enough to avoid IP fragmentation on common paths.
const ednsSize = 1232

// handler is the general path for one query: it knows the listen
// address as written in the config, for its logs, and the transport.
type handler struct {
	a    *Answerer
	addr string
	udp  bool
}

// answered is what the general path did with one query.
type answered struct {
	// resp is the reply, for the caller to observe; nil for a transfer,
	// which serveTransfer or badTSIG answers and counts.
	resp *dns.Msg
	kind answerKind // for rate limiting
	// packed is resp as written when nothing was left out of it, else
	// nil, and rotations and rotate the lookup's period and the rotation
	// served: what fillAfterMiss needs to keep the reply without making
	// it again. Its question has the client's letters.
	packed            []byte
	rotations, rotate uint32
}

// serve answers req from st, for a query that arrived on link; rotate
// picks the order of rotated answers.
func (h *handler) serve(w dns.ResponseWriter, req *dns.Msg, st *State, link int, rotate uint32) answered {
	if req.IsTsig() != nil && w.TsigStatus() != nil {
		if h.takesUpdates(req, st) {
			h.a.updates.BadSignature(req, w.RemoteAddr().String(), w.TsigStatus())
		}
		resp, kind := h.badTSIG(w, req)
		return answered{resp: resp, kind: kind}
	}
	if xfr.IsTransfer(req) {
		return answered{kind: h.serveTransfer(w, req, st)}
	}
	if h.takesUpdates(req, st) {
		return h.serveUpdate(w, req, st)
	}
	// The reply is made for the lower-cased question and the client's
	// letters are put back into the packed question afterwards: answers
	// owned by the question's name point at it, so they follow, and the
	// bytes are exactly those the answer cache gives (fastpath.go).
	asked := lowerQuestion(req)
	var res *zone.Result // what the zone said, for rate limiting
	do := req.IsEdns0() != nil && req.IsEdns0().Do()
	lookup := func(q dns.Question) zone.Result {
		r := st.Snap.Lookup(q, zone.Client{Link: link, Up: st.Up, Rotate: rotate, DNSSEC: do})
		if do {
			r = h.sign(st, r)
		}
		res = &r
		return r
	}
	resp := reply(req, lookup)
	b, whole, err := fit(resp, req, h.udp, res)
	a := answered{resp: resp, kind: classify(resp, res), rotate: rotate} // before write puts the client's letters back
	if whole && err == nil && res != nil && req.IsTsig() == nil {
		a.packed, a.rotations = b, res.Rotations
	}
	setQuestionName(req, asked)
	if err == nil {
		err = h.write(w, req, resp, b, asked)
	}
	if err != nil {
		h.a.log.Debug("write reply", "listen", h.addr, "client", w.RemoteAddr().String(), "err", err)
	}
	return a
}

// sign adds the signatures of a signed zone to r. A failure to sign is
// SERVFAIL, counted like an answer of no zone: a reply whose signatures
// are missing would only be bogus to a validator.
func (h *handler) sign(st *State, r zone.Result) zone.Result {
	signed, err := st.signed(r, time.Now())
	if err != nil {
		h.a.warn("signing failed", "zone", r.Zone, "err", err)
		return zone.Result{Kind: zone.KindRefused, Rcode: dns.RcodeServerFailure, Zone: r.Zone}
	}
	return signed
}

// badTSIG answers a request whose TSIG did not verify. Whatever it asked,
// the reply is NOTAUTH and nothing else (RFC 8945 §5.2), so nothing is
// looked up, and rate limiting counts it among the errors, not as the
// answer it named: anyone can send one from a spoofed address. A
// transfer request is logged (throttled) and counted as a transfer,
// before any verdict on its zone, transport or allow list, and like every
// transfer returns no reply to observe, but an error kind: rate limiting
// treats it as the refusal it is.
func (h *handler) badTSIG(w dns.ResponseWriter, req *dns.Msg) (*dns.Msg, answerKind) {
	m := header(req)
	xfr.SignReply(w, req, m)
	if err := w.WriteMsg(m); err != nil {
		h.a.log.Debug("write reply", "listen", h.addr, "client", w.RemoteAddr().String(), "err", err)
	}
	if xfr.IsTransfer(req) {
		q := req.Question[0]
		kind := dns.TypeToString[q.Qtype]
		h.a.warn("transfer refused: bad TSIG", "client", w.RemoteAddr().String(), "zone", dns.CanonicalName(q.Name),
			"type", kind, "key", req.IsTsig().Hdr.Name, "err", w.TsigStatus())
		h.a.metrics.Transfer(kind, "notauth")
		return nil, answerKind{kind: kindError}
	}
	return m, answerKind{kind: kindError}
}

// write sends resp, which fit packed as b. A signed exchange is packed
// again by the ResponseWriter, which signs it; any other reply is b with
// the question's letters restored.
func (h *handler) write(w dns.ResponseWriter, req, resp *dns.Msg, b []byte, asked string) error {
	if req.IsTsig() != nil {
		setQuestionName(resp, asked)
		xfr.SignReply(w, req, resp)
		return w.WriteMsg(resp)
	}
	restoreQuestionCase(b, asked)
	_, err := w.Write(b)
	return err
}

// lowerQuestion lower-cases the question's name and returns it as asked
// ("" when there is not exactly one question).
func lowerQuestion(m *dns.Msg) string {
	if len(m.Question) != 1 {
		return ""
	}
	asked := m.Question[0].Name
	// Unpacked names are ASCII (miekg/dns escapes other octets as \DDD),
	// so this lowers exactly the letters the wire form's lower-casing does.
	m.Question[0].Name = strings.ToLower(asked)
	return asked
}

func setQuestionName(m *dns.Msg, name string) {
	if len(m.Question) == 1 && name != "" {
		m.Question[0].Name = name
	}
}

// reply builds the response to req, asking lookup only for a well-formed
// IN-class query. It never touches sockets, so it is unit-testable.
func reply(req *dns.Msg, lookup func(dns.Question) zone.Result) *dns.Msg {
	m := header(req)

	if req.Opcode != dns.OpcodeQuery {
		m.Rcode = dns.RcodeNotImplemented
		return withEDNS(m, req)
	}
	if n := countOPT(req); len(req.Question) != 1 || n > 1 {
		// RFC 6891 6.1.1: more than one OPT is a FORMERR too, answered
		// without one; with exactly one the reply carries ours.
		m.Question = nil
		m.Rcode = dns.RcodeFormatError
		if n > 1 {
			return m
		}
		return withEDNS(m, req)
	}
	if opt := req.IsEdns0(); opt != nil && opt.Version() > 0 {
		m.Rcode = dns.RcodeBadVers
		return withEDNS(m, req)
	}

	q := req.Question[0]
	switch {
	case q.Qclass != dns.ClassINET:
		// CH (version.bind and friends), ANY and NONE are not served.
		m.Rcode = dns.RcodeRefused
	case q.Qtype == dns.TypeAXFR || q.Qtype == dns.TypeIXFR:
		// serve hands transfers to serveTransfer (transfer.go) before reply;
		// reply alone, without a connection, refuses them.
		m.Rcode = dns.RcodeRefused
	default:
		r := lookup(q)
		m.Rcode = r.Rcode
		m.Authoritative = r.Authoritative
		m.Answer, m.Ns, m.Extra = r.Answer, r.Ns, r.Extra
	}
	return withEDNS(m, req)
}

// header starts a response: same id, opcode and req's question (which
// serve has lower-cased: the client's letters are put back when the reply
// is packed, for 0x20 clients), RA never set. RD and CD are copied only
// for QUERY: the other opcodes do not define them (RFC 6895 §2.2), so a
// NOTIMP for an unknown opcode keeps nothing of the request's flags, as
// Knot and NSD answer.
func header(req *dns.Msg) *dns.Msg {
	m := new(dns.Msg)
	m.Id = req.Id
	m.Response = true
	m.Opcode = req.Opcode
	if req.Opcode == dns.OpcodeQuery {
		m.RecursionDesired = req.RecursionDesired
		m.CheckingDisabled = req.CheckingDisabled
	}
	m.Compress = true
	if len(req.Question) == 1 {
		m.Question = []dns.Question{req.Question[0]}
	}
	return m
}

// withEDNS adds our OPT when the query had one: version 0, our size, the
// DO bit echoed, and none of the client's options.
func withEDNS(m, req *dns.Msg) *dns.Msg {
	opt := req.IsEdns0()
	if opt == nil {
		return m
	}
	// The lookup result's Extra must not be shared with the OPT we append.
	m.Extra = append(m.Extra[:len(m.Extra):len(m.Extra)], newOPT(opt.Do()))
	return m
}

func newOPT(do bool) *dns.OPT {
	o := &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}
	o.SetUDPSize(ednsSize)
	o.SetDo(do)
	return o
}

func countOPT(req *dns.Msg) int {
	n := 0
	for _, rr := range req.Extra {
		if rr.Header().Rrtype == dns.TypeOPT {
			n++
		}
	}
	return n
}

// clientSize is the largest UDP reply we send the client: its EDNS size,
// never below 512 and never above our own ednsSize, or 512 without EDNS.
// Like Knot (max-udp-payload) and NSD (ipv4-edns-size), both 1232, we
// do not send more than we advertise, which keeps replies clear of IP
// fragmentation whatever size the client claims.
func clientSize(req *dns.Msg) int {
	if opt := req.IsEdns0(); opt != nil {
		return udpLimit(int(opt.UDPSize()))
	}
	return dns.MinMsgSize
}

// udpLimit is the UDP reply size for a client advertising size.
func udpLimit(size int) int {
	return min(max(size, dns.MinMsgSize), ednsSize)
}

// fit makes resp fit its transport: the client's size over UDP, the
// 64 KiB frame limit over TCP (see truncate for what is left out), and
// returns it packed. res is the lookup's result (nil when nothing was
// looked up): a referral's cut, after a CNAME too, decides which glue is
// required.
func fit(resp, req *dns.Msg, udp bool, res *zone.Result) (b []byte, whole bool, err error) {
	size := dns.MaxMsgSize
	if udp {
		size = clientSize(req)
	}
	cut := ""
	if res != nil && res.Kind == zone.KindReferral {
		cut = res.Cut
	}
	return truncate(resp, size, cut)
}
