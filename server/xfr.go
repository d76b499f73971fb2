package server

import (
	"net/netip"
	"slices"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/zone"
)

// maxTransfers bounds concurrent outgoing zone transfers; more are
// refused so that transfers can never starve queries of CPU or sockets.
const maxTransfers = 16

// xfrChunk is about how many octets of records go into one message of a
// transfer: well under the 64 KiB TCP frame, so big zones stream in
// several messages (RFC 5936 §2.2) and no message ever has to be cut.
const xfrChunk = 16 << 10

// isTransfer reports whether req asks for AXFR or IXFR of class IN.
func isTransfer(req *dns.Msg) bool {
	if req.Opcode != dns.OpcodeQuery || len(req.Question) != 1 {
		return false
	}
	q := req.Question[0]
	return q.Qclass == dns.ClassINET && (q.Qtype == dns.TypeAXFR || q.Qtype == dns.TypeIXFR)
}

// mayTransfer decides a transfer request whose TSIG, if any, verified: an
// address in an allowed prefix, or a signature with an allowed key, lets
// it in. client is unmapped, as addrOf returns it.
func mayTransfer(t zone.Transfer, client netip.Addr, tsig *dns.TSIG) bool {
	if tsig != nil && slices.Contains(t.AllowKeys, dns.CanonicalName(tsig.Hdr.Name)) {
		return true
	}
	for _, p := range t.Allow {
		if p.Contains(client) {
			return true
		}
	}
	return false
}

// serveTransfer answers AXFR and IXFR and returns the kind of its reply
// for rate limiting: kindError for a refusal, which anyone can provoke
// from a spoofed address, and kindTransfer, never limited, for a transfer
// to an allowed client. Over TCP an allowed request gets
// the whole zone (IXFR too: we keep no history, and RFC 1995 §4 lets a
// server answer IXFR with a full transfer), except an IXFR whose serial is
// already current, which gets the SOA alone (RFC 1995 §2). Over UDP, AXFR is FORMERR
// (RFC 1035 §4.2.1 and RFC 5936 §4.2: AXFR is not defined over UDP) and an
// allowed IXFR gets the current SOA alone, which tells the client to retry
// over TCP (RFC 1995 §2).
func (h *handler) serveTransfer(w dns.ResponseWriter, req *dns.Msg, st *state) answerKind {
	q := req.Question[0]
	client := w.RemoteAddr().String()
	m := header(req)
	kind := dns.TypeToString[q.Qtype]

	origin := dns.CanonicalName(q.Name)
	if h.udp && q.Qtype == dns.TypeAXFR {
		m.Rcode = dns.RcodeFormatError
		h.finishTransfer(w, req, m, kind, "formerr")
		return answerKind{kind: kindError}
	}
	t, ok := st.snap.Transfer(origin)
	addr, _ := addrOf(w.RemoteAddr())
	if !ok || !mayTransfer(t, addr, req.IsTsig()) {
		h.srv.warnThrottled("transfer refused", "client", client, "zone", origin, "type", kind, "served", ok)
		m.Rcode = dns.RcodeRefused
		h.finishTransfer(w, req, m, kind, "refused")
		return answerKind{kind: kindError}
	}

	// Records copies and sorts the whole zone: a reply of the SOA alone,
	// or one refused for want of a slot, must not pay for that.
	serial, _ := st.snap.Serial(origin)
	if h.udp || q.Qtype == dns.TypeIXFR && upToDate(req, serial) {
		soa := dns.Question{Name: origin, Qtype: dns.TypeSOA, Qclass: dns.ClassINET}
		m.Authoritative = true
		m.Answer = st.snap.Lookup(soa, zone.Client{Link: zone.NoLink}).Answer
		h.finishTransfer(w, req, m, kind, "soa-only")
		return answerKind{kind: kindTransfer}
	}

	select {
	case h.srv.xfrSlots <- struct{}{}:
		defer func() { <-h.srv.xfrSlots }()
	default:
		h.srv.warnThrottled("transfer refused: too many running", "client", client, "zone", origin, "limit", maxTransfers)
		m.Rcode = dns.RcodeRefused
		h.finishTransfer(w, req, m, kind, "busy")
		return answerKind{kind: kindError}
	}

	start := time.Now()
	rrs, _ := st.snap.Records(origin)
	// An AXFR answer ends with the SOA it starts with (RFC 5936 §2.2).
	envs := chunk(append(rrs, rrs[0]))
	ch := make(chan *dns.Envelope, len(envs))
	for _, env := range envs {
		ch <- env
	}
	close(ch)
	err := new(dns.Transfer).Out(w, req, ch)
	// The connection stays open: the client may ask more on it (RFC 5936
	// §4.1) and closes it, or the server's idle timeout does.
	if err != nil {
		h.srv.log.Warn("transfer aborted", "client", client, "zone", origin, "type", kind, "err", err)
		h.srv.metrics.transfer(kind, "aborted")
		return answerKind{kind: kindTransfer}
	}
	h.srv.metrics.transfer(kind, "ok")
	h.srv.log.Info("transfer", "client", client, "zone", origin, "type", kind, "serial", serial, "records", len(rrs)+1, "took", time.Since(start))
	return answerKind{kind: kindTransfer}
}

// warnThrottled logs a warning a client can provoke at will at most once
// a second per message, with the count of those suppressed since.
func (s *Server) warnThrottled(msg string, args ...any) {
	n, ok := s.xfrLog.allow(msg)
	if !ok {
		return
	}
	if n > 0 {
		args = append(args, "suppressed", n)
	}
	s.log.Warn(msg, args...)
}

// upToDate reports whether an IXFR request already has serial or a newer
// one (RFC 1982 arithmetic): RFC 1995 §2 answers it with the SOA alone.
func upToDate(req *dns.Msg, serial uint32) bool {
	if len(req.Ns) != 1 {
		return false
	}
	soa, ok := req.Ns[0].(*dns.SOA)
	return ok && (soa.Serial == serial || int32(soa.Serial-serial) > 0)
}

// finishTransfer sends a one-message answer to a transfer request.
func (h *handler) finishTransfer(w dns.ResponseWriter, req, m *dns.Msg, kind, result string) {
	m = withEDNS(m, req)
	signReply(w, req, m)
	if err := w.WriteMsg(m); err != nil {
		h.srv.log.Debug("write reply", "listen", h.addr, "client", w.RemoteAddr().String(), "err", err)
	}
	h.srv.metrics.transfer(kind, result)
}

// chunk splits rrs into envelopes of about xfrChunk octets each.
func chunk(rrs []dns.RR) []*dns.Envelope {
	var out []*dns.Envelope
	cur, size := []dns.RR(nil), 0
	for _, rr := range rrs {
		n := dns.Len(rr)
		if size+n > xfrChunk && len(cur) > 0 {
			out = append(out, &dns.Envelope{RR: cur})
			cur, size = nil, 0
		}
		cur = append(cur, rr)
		size += n
	}
	if len(cur) > 0 {
		out = append(out, &dns.Envelope{RR: cur})
	}
	return out
}
