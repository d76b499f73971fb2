package xfr

import (
	"log/slog"
	"net/netip"
	"slices"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/zone"
)

// MaxRunning bounds concurrent outgoing zone transfers; more are
// refused so that transfers can never starve queries of CPU or sockets.
const MaxRunning = 16

// xfrChunk is about how many octets of records go into one message of a
// transfer: well under the 64 KiB TCP frame, so big zones stream in
// several messages (RFC 5936 §2.2) and no message ever has to be cut.
const xfrChunk = 16 << 10

// Config is what a Server is given.
type Config struct {
	Log *slog.Logger
	// Warn logs what a client can provoke at will; the caller throttles it.
	Warn func(msg string, args ...any)
	// Count counts a transfer request by type ("AXFR") and result ("ok",
	// "refused", ...; "incremental" for an IXFR answered with changes).
	Count func(kind, result string)
	// Journal, when not nil, answers IXFR with changes, and gives the
	// signed zones' versions as journaled.
	Journal *Journal
	// SignedSent, when not nil, is told of every signed version sent as
	// journaled (its signatures are handed out again).
	SignedSent func(origin string, rrs []dns.RR)
}

// Server answers transfer requests, at most MaxRunning full transfers
// at a time.
type Server struct {
	cfg   Config
	slots chan struct{} // one token per running zone transfer
}

// NewServer returns a Server with no transfer running.
func NewServer(cfg Config) *Server {
	return &Server{cfg: cfg, slots: make(chan struct{}, MaxRunning)}
}

// IsTransfer reports whether req asks for AXFR or IXFR of class IN.
func IsTransfer(req *dns.Msg) bool {
	if req.Opcode != dns.OpcodeQuery || len(req.Question) != 1 {
		return false
	}
	q := req.Question[0]
	return q.Qclass == dns.ClassINET && (q.Qtype == dns.TypeAXFR || q.Qtype == dns.TypeIXFR)
}

// mayTransfer decides a transfer request whose TSIG, if any, verified: an
// address in an allowed prefix, or a signature with an allowed key, lets
// it in. client is unmapped.
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

// Serve answers AXFR and IXFR from snap, for client (unmapped). A reply
// of one message is made from m, an empty reply to req with its header
// set, and returned for the caller to send (with EDNS and signed); a
// full transfer is streamed on w and nil returned. refused says the
// request was refused, which anyone can provoke from a spoofed address,
// rather than answered for an allowed client.
//
// Over TCP an allowed AXFR gets the whole zone. An IXFR whose serial is
// already current gets the SOA alone (RFC 1995 §2); one whose serial the
// journal holds gets the changes since, in one difference sequence (RFC
// 1995 §4); any other (a serial older than the journal, unknown, or no
// journal) gets the whole zone, AXFR-style, as RFC 1995 §4 allows. A
// signed zone is sent as journaled at its serial, when it is, so that
// its signatures are those the changes delete. Over UDP, AXFR is FORMERR (RFC 1035
// §4.2.1 and RFC 5936 §4.2: AXFR is not defined over UDP) and an allowed
// IXFR gets the current SOA alone, which tells the client to retry over
// TCP (RFC 1995 §2).
//
// sign, when not nil, signs the zone's records (a signed zone is
// transferred with its RRSIGs and NSEC chain).
func (x *Server) Serve(w dns.ResponseWriter, req, m *dns.Msg, snap *zone.Snapshot, udp bool, client netip.Addr,
	sign func(origin string, rrs []dns.RR) ([]dns.RR, error)) (reply *dns.Msg, refused bool) {
	q := req.Question[0]
	from := w.RemoteAddr().String()
	kind := dns.TypeToString[q.Qtype]

	origin := dns.CanonicalName(q.Name)
	if udp && q.Qtype == dns.TypeAXFR {
		m.Rcode = dns.RcodeFormatError
		x.cfg.Count(kind, "formerr")
		return m, true
	}
	t, ok := snap.Transfer(origin)
	if !ok || !mayTransfer(t, client, req.IsTsig()) {
		x.cfg.Warn("transfer refused", "client", from, "zone", origin, "type", kind, "served", ok)
		m.Rcode = dns.RcodeRefused
		x.cfg.Count(kind, "refused")
		return m, true
	}

	// Records copies and sorts the whole zone: a reply of the SOA alone,
	// or one refused for want of a slot, must not pay for that.
	serial, _ := snap.Serial(origin)
	if udp || q.Qtype == dns.TypeIXFR && upToDate(req, serial) {
		soa := dns.Question{Name: origin, Qtype: dns.TypeSOA, Qclass: dns.ClassINET}
		m.Authoritative = true
		m.Answer = snap.Lookup(soa, zone.Client{Link: zone.NoLink}).Answer
		x.cfg.Count(kind, "soa-only")
		return m, false
	}

	select {
	case x.slots <- struct{}{}:
		defer func() { <-x.slots }()
	default:
		x.cfg.Warn("transfer refused: too many running", "client", from, "zone", origin, "limit", MaxRunning)
		m.Rcode = dns.RcodeRefused
		x.cfg.Count(kind, "busy")
		return m, true
	}

	start := time.Now()
	if q.Qtype == dns.TypeIXFR {
		c, why := x.changes(req, origin, serial)
		if why == "" {
			return x.send(w, req, ixfrRecords(c), logArgs{from, origin, kind, "incremental", serial, start, len(c.Del), len(c.Add)})
		}
		x.cfg.Log.Info("ixfr: sending the whole zone", "client", from, "zone", origin, "serial", serial, "why", why)
	}
	var rrs []dns.RR
	_, signed := snap.Signing(origin)
	if signed {
		rrs, signed = x.journaled(origin, serial)
	}
	if !signed {
		// What transfer_view says a secondary gets, under the serial that
		// names it (zone.Snapshot.Transferred).
		rrs, _ = snap.Transferred(origin)
	} else if x.cfg.SignedSent != nil {
		x.cfg.SignedSent(origin, rrs)
	}
	soa := rrs[0]
	if sign != nil && !signed {
		var err error
		if rrs, err = sign(origin, rrs); err != nil {
			x.cfg.Log.Error("transfer: signing failed", "client", from, "zone", origin, "err", err)
			m.Rcode = dns.RcodeServerFailure
			x.cfg.Count(kind, "servfail")
			return m, false
		}
	}
	// An AXFR answer ends with the SOA it starts with (RFC 5936 §2.2).
	return x.send(w, req, append(slices.Clip(rrs), soa), logArgs{from, origin, kind, "ok", serial, start, 0, len(rrs)})
}

// logArgs are what the log and the count say of a transfer sent.
type logArgs struct {
	client, zone, kind, result string
	serial                     uint32
	start                      time.Time
	deleted, records           int
}

// send streams rrs, the whole reply, in messages of about xfrChunk
// octets, each signed when the request was.
func (x *Server) send(w dns.ResponseWriter, req *dns.Msg, rrs []dns.RR, a logArgs) (*dns.Msg, bool) {
	envs := chunk(rrs)
	ch := make(chan *dns.Envelope, len(envs))
	for _, env := range envs {
		ch <- env
	}
	close(ch)
	err := new(dns.Transfer).Out(w, req, ch)
	// The connection stays open: the client may ask more on it (RFC 5936
	// §4.1) and closes it, or the server's idle timeout does.
	if err != nil {
		x.cfg.Log.Warn("transfer aborted", "client", a.client, "zone", a.zone, "type", a.kind, "err", err)
		x.cfg.Count(a.kind, "aborted")
		return nil, false
	}
	x.cfg.Count(a.kind, a.result)
	args := []any{"client", a.client, "zone", a.zone, "type", a.kind, "serial", a.serial}
	if a.result == "incremental" {
		args = append(args, "reply", "incremental", "deleted", a.deleted, "added", a.records)
	} else {
		args = append(args, "records", a.records+1)
	}
	x.cfg.Log.Info("transfer", append(args, "messages", len(envs), "took", time.Since(a.start))...)
	return nil, false
}

// changes are the journal's changes from the serial of an IXFR request
// to serial, or why there are none to send.
func (x *Server) changes(req *dns.Msg, origin string, serial uint32) (Changes, string) {
	if x.cfg.Journal == nil {
		return Changes{}, fullNoJournal
	}
	var theirs *dns.SOA
	if len(req.Ns) == 1 {
		theirs, _ = req.Ns[0].(*dns.SOA)
	}
	if theirs == nil {
		return Changes{}, "no SOA in the request"
	}
	return x.cfg.Journal.Changes(origin, theirs.Serial, serial)
}

// journaled is the signed zone origin at serial as journaled.
func (x *Server) journaled(origin string, serial uint32) ([]dns.RR, bool) {
	if x.cfg.Journal == nil {
		return nil, false
	}
	return x.cfg.Journal.Transferred(origin, serial)
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
