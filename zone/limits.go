package zone

import (
	"net/netip"
	"time"

	"gopkg.in/yaml.v3"
)

// RRL configures response rate limiting (NSD/BIND semantics). The zero
// value is "off"; DefaultRRL is what a config without an rrl key gets.
type RRL struct {
	// ResponsesPerSecond is the rate one client prefix may receive for one
	// kind of answer; 0 turns rate limiting off.
	ResponsesPerSecond int
	// Slip: every Slip-th dropped reply is sent truncated instead, so a
	// real client behind a spoofed flood still gets told to use TCP. 0
	// never slips, 1 slips every dropped reply.
	Slip int
	// Window bounds a flood's debt: a bucket goes at most Window seconds'
	// worth of responses into the red, so a prefix that stops flooding is
	// answered again within Window.
	Window time.Duration
	// Exempt prefixes are never limited (monitoring, own resolvers).
	Exempt []netip.Prefix
}

// Enabled says whether any response is ever limited.
func (r RRL) Enabled() bool { return r.ResponsesPerSecond > 0 }

// DefaultRRL is BIND's and NSD's usual starting point.
var DefaultRRL = RRL{ResponsesPerSecond: 200, Slip: 2, Window: 15 * time.Second}

// DefaultTCPMaxConns caps concurrent TCP connections, all listeners together.
const DefaultTCPMaxConns = 150

// DefaultTCPMaxConnsPerSource caps the TCP connections of one client
// prefix: enough for a resolver farm behind one NAT, far from all of
// DefaultTCPMaxConns.
const DefaultTCPMaxConnsPerSource = 16

// rrl reads `rrl: off` or a mapping of its fields over the defaults.
func (r *reader) rrl(n *yaml.Node) RRL {
	out := DefaultRRL
	out.Exempt = nil
	if v := deref(n); v.Kind == yaml.ScalarNode {
		if s, ok := r.choice(v, "rrl", "off", "on"); ok && s == "off" {
			return RRL{}
		}
		return out
	}
	r.fields(n, "rrl", map[string]func(*yaml.Node){
		"responses_per_second": func(v *yaml.Node) {
			if x, ok := r.uint32Value(v, "rrl responses_per_second", 1, 1_000_000); ok {
				out.ResponsesPerSecond = int(x)
			}
		},
		"slip": func(v *yaml.Node) {
			if x, ok := r.uint32Value(v, "rrl slip", 0, 10); ok {
				out.Slip = int(x)
			}
		},
		"window": func(v *yaml.Node) {
			if d, ok := r.duration(v, "rrl window"); ok {
				if d < time.Second || d > time.Hour {
					r.errorf(v, "rrl window %q: want a duration from 1s to 1h", v.Value)
					return
				}
				out.Window = d
			}
		},
		"exempt": func(v *yaml.Node) {
			for _, item := range r.list(v, "rrl exempt") {
				p, ok := parsePrefix(item.Value)
				if !ok {
					r.errorf(item, "rrl exempt %q: want an address or CIDR prefix such as 192.0.2.0/24", item.Value)
					continue
				}
				out.Exempt = append(out.Exempt, p)
			}
		},
	})
	return out
}
