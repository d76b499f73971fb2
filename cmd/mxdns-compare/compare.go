package main

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// reply is a response reduced to what is compared: header bits, rcode
// (extended by the OPT), whether an OPT came back, and each section as a
// sorted set of records in presentation form with owner and domain-name
// rdata lowercased (names compare case-insensitively; TTLs exactly).
type reply struct {
	rcode               int
	aa, tc, rd, ra, opt bool
	answer, ns, extra   []string
	size                int // octets on the wire
	err                 error
	msg                 *dns.Msg // as received: allowances repack it to test what fits
}

func (r *reply) String() string {
	if r.err != nil {
		return "error: " + r.err.Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "rcode=%s flags=%s opt=%v size=%d", dns.RcodeToString[r.rcode], r.flags(), r.opt, r.size)
	for i, sec := range [][]string{r.answer, r.ns, r.extra} {
		for _, rr := range sec {
			fmt.Fprintf(&b, "\n  %s %s", [...]string{"AN", "NS", "AR"}[i], rr)
		}
	}
	return b.String()
}

func (r *reply) flags() string {
	var f []string
	for _, x := range []struct {
		on   bool
		name string
	}{{r.aa, "aa"}, {r.tc, "tc"}, {r.rd, "rd"}, {r.ra, "ra"}} {
		if x.on {
			f = append(f, x.name)
		}
	}
	return strings.Join(f, ",")
}

// ask sends q to addr and reduces the answer.
func ask(q query, addr string) *reply {
	m := new(dns.Msg)
	m.SetQuestion(q.name, q.qtype)
	m.RecursionDesired = true
	if q.edns {
		m.SetEdns0(q.ednsSize(), false)
	}
	c := &dns.Client{Net: "udp", Timeout: 2 * time.Second}
	if q.tcp {
		c.Net = "tcp"
	}
	var resp *dns.Msg
	var err error
	for try := 0; try < 3; try++ {
		if resp, _, err = c.Exchange(m, addr); err == nil {
			break
		}
	}
	if err != nil {
		return &reply{err: err}
	}
	return reduce(resp)
}

func reduce(m *dns.Msg) *reply {
	m.Compress = true
	r := &reply{msg: m, size: packedLen(m), rcode: m.Rcode, aa: m.Authoritative, tc: m.Truncated, rd: m.RecursionDesired, ra: m.RecursionAvailable}
	r.answer = section(m.Answer)
	r.ns = section(m.Ns)
	var extra []dns.RR
	for _, rr := range m.Extra {
		if opt, ok := rr.(*dns.OPT); ok {
			r.opt = true
			r.rcode |= int(opt.ExtendedRcode())
			continue
		}
		extra = append(extra, rr)
	}
	r.extra = section(extra)
	return r
}

func section(rrs []dns.RR) []string {
	out := make([]string, 0, len(rrs))
	for _, rr := range rrs {
		out = append(out, canonical(rr))
	}
	// Sorted, duplicates kept: a record sent twice is a difference.
	slices.Sort(out)
	return out
}

// packedLen is m's length on the wire, compressed.
func packedLen(m *dns.Msg) int {
	m.Compress = true
	b, err := m.Pack()
	if err != nil {
		return m.Len()
	}
	return len(b)
}

// canonical is rr's presentation form with every domain name lowercased.
func canonical(rr dns.RR) string {
	rr = dns.Copy(rr)
	h := rr.Header()
	h.Name = strings.ToLower(h.Name)
	switch x := rr.(type) {
	case *dns.CNAME:
		x.Target = strings.ToLower(x.Target)
	case *dns.NS:
		x.Ns = strings.ToLower(x.Ns)
	case *dns.MX:
		x.Mx = strings.ToLower(x.Mx)
	case *dns.SRV:
		x.Target = strings.ToLower(x.Target)
	case *dns.PTR:
		x.Ptr = strings.ToLower(x.Ptr)
	case *dns.SOA:
		x.Ns, x.Mbox = strings.ToLower(x.Ns), strings.ToLower(x.Mbox)
	}
	return rr.String()
}

// differences lists how got (mxdns) differs from want (a reference). A
// query neither answered is a difference too: the comparison proves
// nothing then.
func differences(got, want *reply) []string {
	if got.err != nil || want.err != nil {
		return []string{fmt.Sprintf("mxdns: %v, reference: %v", got.err, want.err)}
	}
	var d []string
	if got.rcode != want.rcode {
		d = append(d, fmt.Sprintf("rcode %s, reference %s", dns.RcodeToString[got.rcode], dns.RcodeToString[want.rcode]))
	}
	if got.flags() != want.flags() {
		d = append(d, fmt.Sprintf("flags %q, reference %q", got.flags(), want.flags()))
	}
	if got.opt != want.opt {
		d = append(d, fmt.Sprintf("OPT %v, reference %v", got.opt, want.opt))
	}
	for _, s := range []struct {
		name      string
		got, want []string
	}{{"answer", got.answer, want.answer}, {"authority", got.ns, want.ns}, {"additional", got.extra, want.extra}} {
		// As multisets: each record as often as the reference sends it.
		for _, rr := range s.want {
			if count(s.got, rr) < count(s.want, rr) && !slices.Contains(d, s.name+": missing "+rr) {
				d = append(d, s.name+": missing "+rr)
			}
		}
		for _, rr := range s.got {
			if count(s.got, rr) > count(s.want, rr) && !slices.Contains(d, s.name+": extra   "+rr) {
				d = append(d, s.name+": extra   "+rr)
			}
		}
	}
	return d
}

func count(rrs []string, rr string) int {
	n := 0
	for _, s := range rrs {
		if s == rr {
			n++
		}
	}
	return n
}

// compareQuery asks mxdns and every reference, applies the allowed
// differences, and prints what still disagrees. An allowance is counted
// only where it was needed: where it left fewer differences than before.
func compareQuery(config string, q query, mx string, zones []string, refs []*refServer, opt options) tally {
	t := tally{needed: make(map[string]int)}
	got := ask(q, mx)
	fullReply := lazy(func() *reply { return ask(q.full(), mx) })
	for _, r := range refs {
		want := ask(q, r.addr)
		g, w := *got, *want
		c := &check{q: q, got: &g, want: &w, sent: got, zones: zones, full: fullReply,
			refFull: lazy(func() *reply { return ask(q.full(), r.addr) }),
			refAsk: func(name string, qtype uint16) *reply {
				return ask(query{name: name, qtype: qtype, tcp: true, edns: true}, r.addr)
			}}
		applied := allow(c, r.name)
		d := differences(&g, &w)
		switch {
		case len(d) > 0:
			t.failed++
			fmt.Fprintf(opt.out, "FAIL %s: %s vs %s\n", config, q, r.name)
			for _, line := range d {
				fmt.Fprintf(opt.out, "    %s\n", line)
			}
			fmt.Fprintf(opt.out, "  mxdns: %s\n  %s: %s\n", got, r.name, want)
		case len(applied) > 0:
			t.passed++
			t.allowed++
			for _, id := range applied {
				t.needed[r.name+" "+id]++
			}
			if opt.verbose {
				fmt.Fprintf(opt.out, "ok   %s: %s vs %s (allowed: %s)\n", config, q, r.name, strings.Join(applied, ", "))
			}
		default:
			t.passed++
			if opt.verbose {
				fmt.Fprintf(opt.out, "ok   %s: %s vs %s\n", config, q, r.name)
			}
		}
	}
	return t
}

// allow applies to c, in order, the allowances for reference ref, when
// the replies differ at all, and returns those that were needed: that
// left fewer differences than before.
func allow(c *check, ref string) []string {
	var applied []string
	if len(differences(c.got, c.want)) == 0 {
		return nil
	}
	for _, a := range allowed {
		if !slices.Contains(a.refs, ref) {
			continue
		}
		before := len(differences(c.got, c.want))
		if a.applies(c) && len(differences(c.got, c.want)) < before {
			applied = append(applied, a.id)
		}
	}
	return applied
}

// lazy calls f once, when first asked.
func lazy(f func() *reply) func() *reply {
	var r *reply
	return func() *reply {
		if r == nil {
			r = f()
		}
		return r
	}
}
