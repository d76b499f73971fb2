package answer

import (
	"time"

	"github.com/miekg/dns"
)

// panicLogEvery spaces out panic logs: a packet that panics the handler
// can be sent a million times, its stack is worth logging once.
const panicLogEvery = time.Minute

// servfail is the reply to a query whose answer could not be built.
func servfail(req *dns.Msg) *dns.Msg {
	m := header(req)
	m.Rcode = dns.RcodeServerFailure
	return withEDNS(m, req)
}
