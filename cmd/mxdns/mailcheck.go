package main

import (
	"context"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/dnslookup"
	"github.com/mxdns/mxdns/mailcheck"
	"github.com/mxdns/mxdns/route"
	"github.com/mxdns/mxdns/spf"
	"github.com/mxdns/mxdns/state"
	"github.com/mxdns/mxdns/zone"
)

// mailNet is how the resolving checks (check -resolve, route -check)
// reach the network: the dial function, the roots certificates are
// checked against (nil: the system's), the SMTP port, and the resolver
// configuration. Tests point them at servers of their own.
var mailNet = struct {
	dial       mailcheck.DialFunc
	roots      *x509.CertPool
	smtpPort   string
	resolvConf string
}{dial: (&net.Dialer{}).DialContext, smtpPort: "25", resolvConf: "/etc/resolv.conf"}

// Timeouts of one resolving run: each DNS question, each HTTPS fetch and
// SMTP conversation, and the whole run (-timeout).
const (
	mailQueryTimeout = 5 * time.Second
	mailFetchTimeout = 15 * time.Second
	mailRunTimeout   = 2 * time.Minute
)

// resolverAddr is the resolver to ask: flag (host or host:port), else the
// first nameserver of resolv.conf, the system's.
func resolverAddr(flag string) (string, error) {
	if flag != "" {
		return serverAddr(flag), nil
	}
	cc, err := dns.ClientConfigFromFile(mailNet.resolvConf)
	if err != nil {
		return "", fmt.Errorf("no resolver: %w; give one with -resolver ADDR", err)
	}
	if len(cc.Servers) == 0 {
		return "", fmt.Errorf("no nameserver in %s; give a resolver with -resolver ADDR", mailNet.resolvConf)
	}
	return net.JoinHostPort(strings.Trim(cc.Servers[0], "[]"), cc.Port), nil
}

// probeResolver asks the resolver one question, so that a resolver that
// does not answer at all is said once rather than in every finding. Any
// reply will do: one that refuses the root has answered.
func probeResolver(ctx context.Context, addr string) error {
	q := new(dns.Msg)
	q.SetQuestion(".", dns.TypeSOA)
	q.RecursionDesired = true
	if _, err := route.Client(addr, mailQueryTimeout)(ctx, q); err != nil {
		return fmt.Errorf("the resolver %s does not answer: %w", addr, err)
	}
	return nil
}

// mailOptions are the options of a resolving run asking ex, with SMTP
// when smtp is set and MTA-STS policies remembered in stateDir ("": not).
func mailOptions(ex route.Exchange, smtp bool, stateDir string) mailcheck.Options {
	cached := dnslookup.Cached(ex)
	opts := mailcheck.Options{
		Exchange: cached,
		HTTP:     mailcheck.HTTPClient(cached, mailNet.dial, mailNet.roots, nil, mailFetchTimeout),
	}
	if smtp {
		helo, err := os.Hostname()
		if err != nil || !strings.Contains(helo, ".") {
			helo = "mxdns.invalid"
		}
		opts.SMTP = &mailcheck.SMTPOptions{Dial: mailNet.dial, Port: mailNet.smtpPort, HELO: helo, Roots: mailNet.roots, Timeout: mailFetchTimeout}
	}
	if stateDir != "" {
		opts.Policies = stsStore{state.OpenSTSPolicies(stateDir)}
	}
	return opts
}

// stsStore keeps MTA-STS policies in the state directory.
type stsStore struct{ p *state.STSPolicies }

func (s stsStore) Seen(domain string) (string, string, bool, error) {
	pol, ok, err := s.p.Seen(domain)
	return pol.ID, pol.Digest, ok, err
}

func (s stsStore) Remember(domain, id, digest string) error {
	return s.p.Remember(domain, state.STSPolicy{ID: id, Digest: digest, Seen: time.Now().UTC()})
}

// localExchange answers from the snapshot what it serves, as the server
// would with every link up, and asks next the rest: what is checked is
// the configuration about to be served, not what was served before.
func localExchange(snap *zone.Snapshot, next route.Exchange) route.Exchange {
	var up zone.LinkSet
	for i := range snap.Settings().Links {
		up = up.With(i)
	}
	return func(ctx context.Context, q *dns.Msg) (*dns.Msg, error) {
		if len(q.Question) != 1 {
			return next(ctx, q)
		}
		res := snap.Lookup(q.Question[0], zone.Client{Link: zone.NoLink, Up: up})
		if res.Kind == zone.KindRefused || res.Kind == zone.KindReferral {
			return next(ctx, q) // not ours, or delegated away
		}
		r := new(dns.Msg)
		r.SetReply(q)
		r.Authoritative, r.Rcode = res.Authoritative, res.Rcode
		for _, rr := range res.Answer {
			r.Answer = append(r.Answer, dns.Copy(rr))
		}
		for _, rr := range res.Ns {
			r.Ns = append(r.Ns, dns.Copy(rr))
		}
		return r, nil
	}
}

// ourZone is the zone of ours that answers for name, "" when none does
// or the name is delegated away.
func ourZone(snap *zone.Snapshot, name string) string {
	origin := snap.ZoneOf(name)
	if origin == "" {
		return ""
	}
	res := snap.Lookup(dns.Question{Name: dns.Fqdn(name), Qtype: dns.TypeTXT, Qclass: dns.ClassINET}, zone.Client{Link: zone.NoLink})
	if res.Kind == zone.KindReferral {
		return ""
	}
	return origin
}

// mailDomains lists the mail domains of the snapshot's forward zones: the
// names with MX or SPF, and those that _dmarc, _mta-sts, _smtp._tls,
// _bimi or _domainkey names are for, with their DKIM selectors. Zones
// come sorted by origin, names in canonical order.
func mailDomains(snap *zone.Snapshot) []mailcheck.Domain {
	catalog, _ := snap.Catalog()
	var out []mailcheck.Domain
	index := map[string]int{}
	add := func(name, selector string) {
		// A wildcard is no domain, and an underscored name (an SPF
		// record for include:, RFC 8552) is none that sends or receives.
		if strings.HasPrefix(name, "*.") || strings.HasPrefix(name, "_") || name == "." {
			return
		}
		i, ok := index[name]
		if !ok {
			i = len(out)
			index[name] = i
			out = append(out, mailcheck.Domain{Name: name})
		}
		if selector != "" && !slices.Contains(out[i].DKIM, selector) {
			out[i].DKIM = append(out[i].DKIM, selector)
		}
	}
	for _, z := range snap.Zones() {
		if z.Origin == catalog || strings.HasSuffix(z.Origin, ".in-addr.arpa.") || strings.HasSuffix(z.Origin, ".ip6.arpa.") {
			continue
		}
		rrs, _ := snap.Records(z.Origin)
		for _, rr := range rrs {
			name, t := dns.CanonicalName(rr.Header().Name), rr.Header().Rrtype
			switch {
			case t == dns.TypeMX:
				add(name, "")
			case t == dns.TypeTXT && spf.IsRecord(strings.Join(rr.(*dns.TXT).Txt, "")):
				add(name, "")
			case t != dns.TypeTXT && t != dns.TypeCNAME:
			case strings.Contains(name, "._domainkey."):
				sel, domain, _ := strings.Cut(name, "._domainkey.")
				add(domain, sel)
			default:
				for _, prefix := range []string{"_dmarc.", "_mta-sts.", "_smtp._tls."} {
					if d, ok := strings.CutPrefix(name, prefix); ok {
						add(d, "")
					}
				}
				if _, d, ok := strings.Cut(name, "._bimi."); ok {
					add(d, "")
				}
			}
		}
	}
	return out
}

// mailFinding is a finding of the resolving checks as check prints it:
// at the position of the record it is about when that was written in our
// files, else under the record's name.
type mailFinding struct {
	mailcheck.Finding
	pos *zone.Written // nil: outside our files
}

// locate finds where the record a finding is about was written: the
// record itself (its data told apart by Text), else any record at its
// name, else any at the domain checked.
func locate(snap *zone.Snapshot, f mailcheck.Finding) *zone.Written {
	if ourZone(snap, f.Name) == "" {
		return nil
	}
	ws := snap.WrittenAt(f.Name, f.Type)
	for i, w := range ws {
		if f.Text == "" || recordText(w.RR) == f.Text {
			return &ws[i]
		}
	}
	// The record as served may differ from the one written (an spf
	// helper's links term, expanded): one of its kind, v=spf1 or the like.
	for i, w := range ws {
		if kind := firstWord(f.Text); kind != "" && firstWord(recordText(w.RR)) == kind {
			return &ws[i]
		}
	}
	for _, try := range []struct {
		name  string
		rtype uint16
	}{{f.Name, f.Type}, {f.Name, dns.TypeANY}, {f.Domain, dns.TypeANY}} {
		if ws := snap.WrittenAt(try.name, try.rtype); len(ws) > 0 {
			return &ws[0]
		}
	}
	return nil
}

func firstWord(s string) string {
	if f := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ';' }); len(f) > 0 {
		return strings.ToLower(f[0])
	}
	return ""
}

// recordText is a record's data as mailcheck quotes it.
func recordText(rr dns.RR) string {
	switch rr := rr.(type) {
	case *dns.TXT:
		return strings.Join(rr.Txt, "")
	case *dns.A:
		return rr.A.String()
	case *dns.AAAA:
		return rr.AAAA.String()
	}
	return strings.TrimPrefix(rr.String(), rr.Header().String())
}
