package server

import (
	"time"

	"github.com/miekg/dns"
)

// observe counts an answered query and, with query_log on, logs it.
func (h *handler) observe(w dns.ResponseWriter, req, resp *dns.Msg, st *state, arrival int, d time.Duration) {
	link := st.linkName(arrival)
	var qtype uint16
	qname := ""
	if len(req.Question) == 1 {
		qtype, qname = req.Question[0].Qtype, req.Question[0].Name
	}
	h.srv.metrics.query(qtype, uint16(resp.Rcode), h.udp, link, d)
	if st.queryLog {
		h.srv.log.Info("query", "client", w.RemoteAddr().String(), "transport", transport(h.udp), "link", link,
			"qname", qname, "qtype", typeName(qtype), "rcode", dns.RcodeToString[resp.Rcode], "duration", d)
	}
}
