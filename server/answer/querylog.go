package answer

import (
	"strconv"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/server/ops"
)

// observe counts an answered query and, with query_log on, logs it.
// Other opcodes are logged but not counted as queries: an UPDATE's zone
// section looks like a question for the SOA, and it has counters of its
// own (mxdns_updates_total).
func (h *handler) observe(w dns.ResponseWriter, req, resp *dns.Msg, kind answerKind, st *State, arrival int, d time.Duration) {
	link := st.linkName(arrival)
	var qtype uint16
	qname := ""
	if len(req.Question) == 1 {
		qtype, qname = req.Question[0].Qtype, req.Question[0].Name
	}
	if req.Opcode == dns.OpcodeQuery {
		h.a.metrics.Query(qtype, uint16(resp.Rcode), kind.metricKind(uint16(resp.Rcode)), h.udp, link, d)
	}
	if st.queryLog {
		attrs := []any{"client", w.RemoteAddr().String(), "transport", transport(h.udp), "link", link,
			"qname", qname, "qtype", typeName(qtype), "rcode", dns.RcodeToString[resp.Rcode], "duration", d}
		if req.Opcode != dns.OpcodeQuery {
			attrs = append(attrs, "opcode", opcodeName(req.Opcode))
		}
		h.a.log.Info("query", attrs...)
	}
}

func opcodeName(op int) string {
	if s, ok := dns.OpcodeToString[op]; ok {
		return s
	}
	return strconv.Itoa(op)
}

// metricKind is k as the metrics count it (mxdns_answers_total): the
// kinds of the lookup, and for the rest REFUSED (a name in no zone, a
// refused class) apart from the errors.
func (k answerKind) metricKind(rcode uint16) ops.AnswerKind {
	switch k.kind {
	case kindPositive:
		return ops.KindAnswer
	case kindNoData:
		return ops.KindNoData
	case kindNXDomain:
		return ops.KindNXDomain
	case kindReferral:
		return ops.KindReferral
	}
	if rcode == dns.RcodeRefused {
		return ops.KindRefused
	}
	return ops.KindError
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
