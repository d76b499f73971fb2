package zone

import (
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
	"gopkg.in/yaml.v3"

	"github.com/mxdns/mxdns/dnssec"
)

// parsedDNSSEC is a dnssec: key as written: off, or a policy.
type parsedDNSSEC struct {
	on     bool
	policy dnssec.Policy
	pos    at
}

// dnssec reads a dnssec: key, at the top level (what "config") or in a
// zone: on or off, or a mapping of the policy's settings over the
// defaults (dnssec.DefaultPolicy).
func (r *reader) dnssec(n *yaml.Node, what string) *parsedDNSSEC {
	what += " dnssec"
	d := &parsedDNSSEC{policy: dnssec.DefaultPolicy(), pos: r.pos(n)}
	if v := deref(n); v.Kind == yaml.ScalarNode && r.probe == nil {
		switch strings.ToLower(v.Value) {
		case "on", "true", "yes":
			d.on = true
		case "off", "false", "no":
		default:
			r.errorf(v, "%s %q: want on, off, or a mapping such as {algorithm: ed25519}", what, v.Value)
			return nil
		}
		return d
	}
	if !r.isMapping(d.pos, n, what, "{algorithm: ecdsap256sha256, denial: nsec}") {
		return nil
	}
	d.on = true
	p := &d.policy
	lifetimes := map[string]*yaml.Node{}
	r.fields(n, what, map[string]func(*yaml.Node){
		"algorithm": func(v *yaml.Node) {
			switch s, _ := r.choice(v, what+" algorithm", "ecdsap256sha256", "ed25519"); s {
			case "ecdsap256sha256":
				p.Algorithm = dns.ECDSAP256SHA256
			case "ed25519":
				p.Algorithm = dns.ED25519
			}
		},
		"keys": func(v *yaml.Node) {
			s, _ := r.choice(v, what+" keys", "csk", "ksk-zsk")
			p.Split = s == "ksk-zsk"
		},
		"denial": func(v *yaml.Node) {
			s, _ := r.choice(v, what+" denial", "nsec", "nsec3")
			p.NSEC3 = s == "nsec3"
		},
		"nsec3": func(v *yaml.Node) { r.nsec3(v, what+" nsec3", p) },
		"signature_lifetime": func(v *yaml.Node) {
			lifetimes["signature_lifetime"] = v
			p.SignatureLifetime, _ = r.lifetime(v, what+" signature_lifetime", false)
		},
		"refresh": func(v *yaml.Node) {
			lifetimes["refresh"] = v
			p.Refresh, _ = r.lifetime(v, what+" refresh", false)
		},
		"zsk_lifetime": func(v *yaml.Node) { p.ZSKLifetime, _ = r.lifetime(v, what+" zsk_lifetime", true) },
		"ksk_lifetime": func(v *yaml.Node) { p.KSKLifetime, _ = r.lifetime(v, what+" ksk_lifetime", true) },
		"parents": func(v *yaml.Node) {
			for _, item := range r.list(v, what+" parents") {
				if target, ok := notifyTarget(item.Value); ok {
					p.Parents = append(p.Parents, target)
				} else {
					r.errorf(item, "%s parents %q: want ip or ip:port of a server of the parent zone, e.g. 192.0.2.53", what, item.Value)
				}
			}
		},
	})
	if p.SignatureLifetime > 0 && p.Refresh > 0 && p.Refresh >= p.SignatureLifetime {
		at := lifetimes["refresh"]
		if at == nil {
			at = lifetimes["signature_lifetime"]
		}
		r.errorf(at, "%s: refresh (%s) must be shorter than signature_lifetime (%s): signatures are made again that long before they expire",
			what, formatLifetime(p.Refresh), formatLifetime(p.SignatureLifetime))
	}
	return d
}

// nsec3 reads the NSEC3 parameters; RFC 9276 §3.1 leaves only no extra
// iterations and no salt.
func (r *reader) nsec3(n *yaml.Node, what string, p *dnssec.Policy) {
	if !r.isMapping(r.pos(n), n, what, `{iterations: 0, salt: ""}`) {
		return
	}
	r.fields(n, what, map[string]func(*yaml.Node){
		"iterations": func(v *yaml.Node) {
			if x, ok := r.uint32Value(v, what+" iterations", 0, 0); ok {
				p.NSEC3Iterations = uint16(x)
			}
		},
		"salt": func(v *yaml.Node) {
			if v := deref(v); v.Kind != yaml.ScalarNode || (v.Value != "" && v.Value != "-") {
				r.errorf(v, "%s salt: want \"\" (RFC 9276 §3.1: a salt adds nothing)", what)
			}
		},
	})
}

// lifetime reads a duration in days ("14d"), weeks ("2w") or Go's units
// ("36h"). zero allows 0, which means never.
func (r *reader) lifetime(n *yaml.Node, what string, zero bool) (time.Duration, bool) {
	s, ok := r.scalar(n, what)
	if !ok {
		return 0, false
	}
	d, err := parseLifetime(s)
	if err != nil || d < 0 || d == 0 && !zero || d > 0 && d < time.Hour {
		want := "a duration of an hour or more such as 14d, 2w or 36h"
		if zero {
			want += ", or 0 for never"
		}
		r.errorf(n, "%s %q: want %s", what, s, want)
		return 0, false
	}
	return d, true
}

func parseLifetime(s string) (time.Duration, error) {
	if s == "0" {
		return 0, nil
	}
	for suffix, unit := range map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour} {
		if num, ok := strings.CutSuffix(s, suffix); ok {
			x, err := strconv.ParseUint(num, 10, 16)
			return time.Duration(x) * unit, err
		}
	}
	return time.ParseDuration(s)
}

// formatLifetime writes whole days as days.
func formatLifetime(d time.Duration) string {
	if day := 24 * time.Hour; d%day == 0 {
		return strconv.Itoa(int(d/day)) + "d"
	}
	return d.String()
}
