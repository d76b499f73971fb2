package route

import (
	"context"
	"time"

	"github.com/miekg/dns"
)

// Client returns an Exchange that asks server (host:port) over UDP and
// repeats the question over TCP when the answer is truncated, as a
// sending MTA's resolver does.
func Client(server string, timeout time.Duration) Exchange {
	udp := &dns.Client{Net: "udp", Timeout: timeout}
	tcp := &dns.Client{Net: "tcp", Timeout: timeout}
	return func(ctx context.Context, q *dns.Msg) (*dns.Msg, error) {
		r, _, err := udp.ExchangeContext(ctx, q, server)
		if err == nil && r.Truncated {
			r, _, err = tcp.ExchangeContext(ctx, q, server)
		}
		return r, err
	}
}
