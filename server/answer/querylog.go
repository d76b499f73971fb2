package answer

import (
	"time"

	"github.com/miekg/dns"
)

// observe counts an answered query and, with query_log on, logs it.
func (h *handler) observe(w dns.ResponseWriter, req, resp *dns.Msg, st *State, arrival int, d time.Duration) {
	link := st.linkName(arrival)
	var qtype uint16
	qname := ""
	if len(req.Question) == 1 {
		qtype, qname = req.Question[0].Qtype, req.Question[0].Name
	}
	h.a.metrics.Query(qtype, uint16(resp.Rcode), h.udp, link, d)
	if st.queryLog {
		h.a.log.Info("query", "client", w.RemoteAddr().String(), "transport", transport(h.udp), "link", link,
			"qname", qname, "qtype", typeName(qtype), "rcode", dns.RcodeToString[resp.Rcode], "duration", d)
	}
}

// typeName keeps the names the query log and the metrics give a qtype
// alike: a type miekg/dns does not name is "other".
func typeName(t uint16) string {
	if s, ok := dns.TypeToString[t]; ok {
		return s
	}
	return "other"
}

func transport(udp bool) string {
	if udp {
		return "udp"
	}
	return "tcp"
}
