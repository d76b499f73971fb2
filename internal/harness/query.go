package harness

import (
	"errors"
	"net"
	"time"

	"github.com/miekg/dns"
)

// Exchange sends one query for name and qtype to addr over UDP or TCP.
func Exchange(addr, name string, qtype uint16, tcp bool, timeout time.Duration) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.RecursionDesired = false
	c := &dns.Client{Net: "udp", Timeout: timeout}
	if tcp {
		c.Net = "tcp"
	}
	r, _, err := c.Exchange(m, addr)
	return r, err
}

// Query asks the server over UDP and, when that times out (a datagram
// lost on a busy machine), once more over TCP.
func (s *Server) Query(name string, qtype uint16) (*dns.Msg, error) {
	r, err := Exchange(s.Addr(), name, qtype, false, 2*time.Second)
	var ne net.Error
	if err != nil && errors.As(err, &ne) && ne.Timeout() {
		r, err = Exchange(s.Addr(), name, qtype, true, 2*time.Second)
	}
	return r, err
}

// Serial is the SOA serial in an answer, and whether there was one.
func Serial(r *dns.Msg) (uint32, bool) {
	if r == nil || r.Rcode != dns.RcodeSuccess {
		return 0, false
	}
	for _, rr := range r.Answer {
		if soa, ok := rr.(*dns.SOA); ok {
			return soa.Serial, true
		}
	}
	return 0, false
}

// SerialAfter reports whether a follows b in RFC 1982 serial arithmetic.
func SerialAfter(a, b uint32) bool { return a != b && int32(a-b) > 0 }
