// Package dnslookup asks DNS questions as a mail sender's or receiver's
// resolver does, through any exchange function, following CNAMEs. The
// delivery plan (route), the mail checks (mailcheck) and the outbound
// report (outbound) ask through it, so that they read a chain alike.
package dnslookup

import (
	"context"

	"github.com/miekg/dns"
)

// Exchange sends one query and returns the response.
type Exchange func(ctx context.Context, q *dns.Msg) (*dns.Msg, error)

// Query is the question as a sending MTA's resolver puts it.
func Query(name string, qtype uint16) *dns.Msg {
	q := new(dns.Msg)
	q.SetQuestion(name, qtype)
	q.RecursionDesired = true // harmless to an authoritative server, needed by a resolver
	q.SetEdns0(1232, false)
	return q
}
