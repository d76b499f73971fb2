package answer

import (
	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/server/xfr"
	"github.com/mxdns/mxdns/zone"
)

// Updates applies RFC 2136 updates (update.Updater): the answer
// pipeline hands it every UPDATE of a configuration with updates:, and
// sends the rcode it returns.
type Updates interface {
	// Update applies req, whose TSIG verified or is absent, against snap
	// and returns the rcode once what it added is served.
	Update(snap *zone.Snapshot, req *dns.Msg, client string) int
	// BadSignature notes an update whose TSIG did not verify.
	BadSignature(req *dns.Msg, client string, err error)
}

// takesUpdates reports whether req is an UPDATE to hand to the
// Updates: without updates: in the configuration served, UPDATE is not
// implemented, as before there was any.
func (h *handler) takesUpdates(req *dns.Msg, st *State) bool {
	return req.Opcode == dns.OpcodeUpdate && h.a.updates != nil && st.Snap.Settings().Updates != nil
}

// serveUpdate answers an UPDATE: its rcode, the zone section echoed,
// signed with the request's key when it was signed. Refusals are errors
// to rate limiting, like every reply anyone can provoke; an update that
// succeeded was signed, which no spoofer can do, and is not limited.
func (h *handler) serveUpdate(w dns.ResponseWriter, req *dns.Msg, st *State) answered {
	m := header(req)
	m.Rcode = h.a.updates.Update(st.Snap, req, w.RemoteAddr().String())
	m = withEDNS(m, req)
	xfr.SignReply(w, req, m)
	if err := w.WriteMsg(m); err != nil {
		h.a.log.Debug("write reply", "listen", h.addr, "client", w.RemoteAddr().String(), "err", err)
	}
	return answered{resp: m, kind: answerKind{kind: kindError}}
}
