package answer

import (
	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/server/xfr"
)

// serveTransfer answers AXFR and IXFR (xfr.Server.Serve) and returns the
// kind of its reply for rate limiting: kindError for a refusal, which
// anyone can provoke from a spoofed address, and kindTransfer, never
// limited, for a transfer to an allowed client.
func (h *handler) serveTransfer(w dns.ResponseWriter, req *dns.Msg, st *State) answerKind {
	client, _ := AddrOf(w.RemoteAddr())
	m, refused := h.a.transfers.Serve(w, req, header(req), st.Snap, h.udp, client, st.signZone)
	if m != nil {
		m = withEDNS(m, req)
		xfr.SignReply(w, req, m)
		if err := w.WriteMsg(m); err != nil {
			h.a.log.Debug("write reply", "listen", h.addr, "client", w.RemoteAddr().String(), "err", err)
		}
	}
	if refused {
		return answerKind{kind: kindError}
	}
	return answerKind{kind: kindTransfer}
}
