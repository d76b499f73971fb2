package mailtest

import (
	"net"
	"os"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// Resolver is a DNS server on 127.0.0.1 (UDP and TCP) that answers as a
// recursive resolver would from zone files: CNAMEs followed, NODATA and
// NXDOMAIN within the zones, REFUSED outside them.
type Resolver struct {
	Addr  string
	zones []string
	rrs   map[string][]dns.RR
}

// StartResolver serves the zone files (RFC 1035, with their $ORIGIN).
func StartResolver(t testing.TB, files ...string) *Resolver {
	t.Helper()
	r := &Resolver{rrs: map[string][]dns.RR{}}
	for _, f := range files {
		text, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		zp := dns.NewZoneParser(strings.NewReader(string(text)), "", f)
		for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
			name := dns.CanonicalName(rr.Header().Name)
			r.rrs[name] = append(r.rrs[name], rr)
			if rr.Header().Rrtype == dns.TypeSOA {
				r.zones = append(r.zones, name)
			}
		}
		if err := zp.Err(); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	// UDP and TCP on one port: the port the system gives UDP may be
	// taken for TCP by someone else, so try again.
	var pc net.PacketConn
	var ln net.Listener
	for try := 0; ; try++ {
		var err error
		if pc, err = net.ListenPacket("udp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		if ln, err = net.Listen("tcp", pc.LocalAddr().String()); err == nil {
			break
		}
		pc.Close()
		if try == 20 {
			t.Fatal(err)
		}
	}
	r.Addr = pc.LocalAddr().String()
	udp := &dns.Server{PacketConn: pc, Handler: r}
	tcp := &dns.Server{Listener: ln, Handler: r}
	for _, srv := range []*dns.Server{udp, tcp} {
		started := make(chan error, 1)
		srv.NotifyStartedFunc = func() { started <- nil }
		go func() {
			if err := srv.ActivateAndServe(); err != nil {
				started <- err
			}
		}()
		if err := <-started; err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { udp.Shutdown(); tcp.Shutdown() })
	return r
}

func (r *Resolver) ServeDNS(w dns.ResponseWriter, q *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(q)
	m.RecursionAvailable = true
	if len(q.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
		w.WriteMsg(m)
		return
	}
	qq := q.Question[0]
	name := dns.CanonicalName(qq.Name)
	for range 9 {
		if !r.inZone(name) {
			if len(m.Answer) == 0 {
				m.Rcode = dns.RcodeRefused
			}
			w.WriteMsg(m)
			return
		}
		var cname *dns.CNAME
		for _, rr := range r.rrs[name] {
			if c, ok := rr.(*dns.CNAME); ok && qq.Qtype != dns.TypeCNAME {
				cname = c
			}
		}
		if cname == nil {
			break
		}
		m.Answer = append(m.Answer, cname)
		name = dns.CanonicalName(cname.Target)
	}
	for _, rr := range r.rrs[name] {
		if rr.Header().Rrtype == qq.Qtype {
			m.Answer = append(m.Answer, rr)
		}
	}
	if len(m.Answer) == 0 && !r.exists(name) {
		m.Rcode = dns.RcodeNameError
	}
	if q.IsEdns0() != nil {
		m.SetEdns0(1232, false)
	}
	w.WriteMsg(m)
}

func (r *Resolver) inZone(name string) bool {
	for _, z := range r.zones {
		if dns.IsSubDomain(z, name) {
			return true
		}
	}
	return false
}

func (r *Resolver) exists(name string) bool {
	if len(r.rrs[name]) > 0 {
		return true
	}
	for n := range r.rrs {
		if strings.HasSuffix(n, "."+name) {
			return true
		}
	}
	return false
}
