// Package mailcheck judges a domain's mail records as receivers and the
// online checkers do, looking past the names mxdns serves: SPF through
// every include, DMARC and the report addresses it names, DKIM keys,
// MTA-STS with its policy fetched over HTTPS, TLS-RPT, BIMI, and the MX
// hosts, optionally over SMTP. It knows nothing of mxdns's zones: it asks
// a DNS exchange function, fetches with an HTTP client and dials with a
// dial function, all given, so that tests give it fakes.
package mailcheck

import (
	"context"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/dnslookup"
)

// Exchange sends one query and returns the response.
type Exchange = dnslookup.Exchange

// DialFunc opens a connection, as net.Dialer.DialContext does.
type DialFunc func(ctx context.Context, network, address string) (net.Conn, error)

// Severity says how much a finding matters.
type Severity int

const (
	Error   Severity = iota // mail is lost, refused or forgeable, or a receiver fails the check
	Warning                 // worth fixing: a weaker check, a lost report, a future failure
	Note                    // what the check could not do, and why
)

func (s Severity) String() string {
	switch s {
	case Error:
		return "error"
	case Warning:
		return "warning"
	}
	return "note"
}

// Finding is one thing found about a domain's mail.
type Finding struct {
	Severity Severity
	Check    string // spf, dmarc, dkim, mta-sts, tls-rpt, bimi, mx or smtp
	Domain   string // the domain checked, fully qualified
	// Name, Type and Text are the record the finding is about, so that a
	// caller can point at where it was written: its owner (fully
	// qualified), its type, and its data as text ("" for any record of
	// that name and type). A finding about a record that is missing
	// names where it should be.
	Name string
	Type uint16
	Text string
	Msg  string
}

// String is the finding as mxdns check prints a finding outside the
// files it read: "name: warning: message" ("name: message" for an error).
func (f Finding) String() string {
	sev := ""
	if f.Severity != Error {
		sev = f.Severity.String() + ": "
	}
	return strings.TrimSuffix(f.Name, ".") + ": " + sev + f.Msg
}

// Options is what a check run works with.
type Options struct {
	// Exchange asks the DNS. Check caches its answers for the run.
	Exchange Exchange
	// Zone returns the origin of the zone of ours that holds name, or ""
	// when none does. The caller has checked the records of its zones
	// already (zone's checks): what those report is not said again, and
	// a finding about a name of ours can say which key to write. nil:
	// nothing is ours.
	Zone func(name string) string
	// HTTP fetches MTA-STS policies and BIMI files; redirects are not
	// followed (RFC 8461 §3.3). nil: nothing is fetched, and a note says
	// so.
	HTTP *http.Client
	// SMTP, when set, has every MX host's addresses asked on port 25.
	SMTP *SMTPOptions
	// Policies remembers MTA-STS policies between runs; nil: a note says
	// a changed policy under an unchanged id cannot be told.
	Policies PolicyStore
	// Now is the time certificates are judged at; nil: time.Now.
	Now func() time.Time
}

// SMTPOptions is how MX hosts are asked over SMTP.
type SMTPOptions struct {
	Dial    DialFunc       // nil: a net.Dialer
	Port    string         // "25" when empty
	HELO    string         // the name given in EHLO; "mxdns.invalid" when empty
	Roots   *x509.CertPool // nil: the system's
	Timeout time.Duration  // per connection; 15 s when 0
}

// PolicyStore remembers the MTA-STS policy last seen of each domain.
type PolicyStore interface {
	// Seen returns the policy's id and digest as last remembered.
	Seen(domain string) (id, digest string, ok bool, err error)
	// Remember keeps them for the next run.
	Remember(domain, id, digest string) error
}

// Domain is one domain to check.
type Domain struct {
	Name string // any case, with or without the final dot
	// DKIM lists the selectors whose keys to check: DNS cannot list them.
	DKIM []string
	// PlanShown says the caller has shown the delivery plan (mxdns route
	// -check), with its own warnings about MX hosts without an address.
	PlanShown bool
}

// Check judges every domain and returns the findings, domain by domain in
// the order given, each domain's in the order of the checks; a finding
// two domains share (an include both use) is given once.
func Check(ctx context.Context, opts Options, domains []Domain) []Finding {
	c := &checker{ctx: ctx, opts: opts, res: newResolver(ctx, opts.Exchange), seen: map[string]bool{}}
	if c.opts.Now == nil {
		c.opts.Now = time.Now
	}
	for _, d := range domains {
		c.domain(d)
	}
	return c.out
}

// checker is one run.
type checker struct {
	ctx  context.Context
	opts Options
	res  *resolver
	out  []Finding
	seen map[string]bool // findings given, by name, severity and message
}

// domainState is what one domain's checks hand on to the next.
type domainState struct {
	name    string // fully qualified, lower case
	mx      []string
	nullMX  bool
	stsMode string // the MTA-STS policy's mode, "" without one
}

func (c *checker) domain(d Domain) {
	s := &domainState{name: dns.CanonicalName(d.Name)}
	if !c.mxSet(s, d.PlanShown) {
		return
	}
	c.spf(s)
	c.dmarc(s)
	for _, sel := range d.DKIM {
		c.dkim(s, sel)
	}
	c.mtaSTS(s)
	c.tlsRPT(s)
	c.bimi(s)
	c.mxHosts(s, d.PlanShown)
}

// ours reports whether name is in a zone of ours.
func (c *checker) ours(name string) bool {
	return c.opts.Zone != nil && c.opts.Zone(name) != ""
}

// add gives a finding once.
func (c *checker) add(f Finding) {
	key := f.Name + "\x00" + f.Severity.String() + "\x00" + f.Msg
	if c.seen[key] {
		return
	}
	c.seen[key] = true
	c.out = append(c.out, f)
}

// at is a finding about the record of type t at name (text, when given,
// tells which of several).
func (c *checker) at(s *domainState, check string, sev Severity, name string, t uint16, text, format string, args ...any) {
	c.add(Finding{Severity: sev, Check: check, Domain: s.name, Name: name, Type: t, Text: text, Msg: check + ": " + fmt.Sprintf(format, args...)})
}

func bare(name string) string { return strings.TrimSuffix(name, ".") }
